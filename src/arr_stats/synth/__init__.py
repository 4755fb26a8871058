"""Deterministic synthetic deliveries with exactly the shape of the real ones.

- :mod:`~arr_stats.synth.params` – :class:`SynthParams` and the model's constants
- :mod:`~arr_stats.synth.generate` – the simulated registry and NAV tables
- :mod:`~arr_stats.synth.flaws` – the deliberately bad rows of every delivery
- :mod:`~arr_stats.synth.write` – writing them as SPSS and CSV files
"""

from arr_stats.synth.flaws import DELIBERATE_FLAWS, DeliberateFlaw, deliberate_flaws
from arr_stats.synth.generate import generate_delivery
from arr_stats.synth.params import SynthParams
from arr_stats.synth.write import write_delivery

__all__ = [
    "DELIBERATE_FLAWS",
    "DeliberateFlaw",
    "SynthParams",
    "deliberate_flaws",
    "generate_delivery",
    "write_delivery",
]
