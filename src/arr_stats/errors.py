"""Expected errors: the CLI prints their message and exits without a traceback."""

from __future__ import annotations


class ArrStatsError(Exception):
    """Base class of errors that are the user's to fix (bad input, bad config)."""

    exit_code = 2


class DeliveryError(ArrStatsError):
    """A structural problem with a delivery: a file missing, unreadable, a
    required column absent, a wrong encoding. Stops the run.

    The message names the file and says what to do.
    """
