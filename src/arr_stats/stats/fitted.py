"""The shape every fitted object of the package shares (lifelines-like).

Settings go to the constructor; ``fit(...)`` returns ``self``; results are
attributes ending in ``_``; :attr:`Fitted.summary` is the main result table.
Metadata (the interval type, the variance, the grouping column, counts) are
attributes of the object, never ``DataFrame.attrs`` (which pandas drops).
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd


class Fitted:
    """Base of the fitted objects: ``summary`` returns the attribute named by ``_result``."""

    _result: ClassVar[str]

    @property
    def summary(self) -> pd.DataFrame:
        """The main result table of the fit.

        Raises
        ------
        ValueError
            Before :meth:`fit` has been called.
        """
        value = getattr(self, self._result, None)
        if value is None:
            raise ValueError(f"{type(self).__name__} is not fitted yet: call fit() first")
        return value
