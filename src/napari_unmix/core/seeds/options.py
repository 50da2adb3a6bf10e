"""The options of :func:`~napari_unmix.core.seeds.prepare_seeds`, written once.

Examples
--------
>>> SeedOptions.w_mode, SeedOptions.background_projection
('nnls', 'estimate')
>>> SeedOptions(w_mode="magic")
Traceback (most recent call last):
...
napari_unmix.core.validate.OptionError: w_mode must be one of ['nnls', 'selective_score', 'h_weighted', 'average', 'empty'], got w_mode='magic'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..options import Options, option
from .background import BACKGROUND_MAPS, BACKGROUND_SUBTRACTIONS
from .w_modes import W_MODES

__all__ = ["RESIDUAL_RANKS", "SeedOptions"]

#: how residual / band pixels are ranked for a seed found in the data
RESIDUAL_RANKS = ("score", "max_intensity")


@dataclass(frozen=True)
class SeedOptions(Options):
    """How :func:`~napari_unmix.core.seeds.prepare_seeds` makes seeds (see its parameters)."""

    w_mode: str = option(
        "nnls", label="W seed from H", doc="how maps are made from the H seeds", choices=W_MODES
    )
    overwrite: bool = option(False, label="Overwrite existing W with H-based map", advanced=True,
                             doc="H maps replace W seeds")  # fmt: skip
    downsample: int = option(1, bounds=(1, None), label="Downsample", advanced=True,
                             doc="block size of the W-from-H maps (speed)")  # fmt: skip
    background_projection: str | None = option(
        "estimate", label="Background W projection", doc="W seed of a background component",
        choices=BACKGROUND_MAPS, advanced=True,
    )  # fmt: skip
    background_smooth: float = option(
        0.0, label="Background smoothing", unit="px", doc="Gaussian sigma of the background map",
        bounds=(0.0, None), advanced=True,
    )  # fmt: skip
    background_subtraction: str = option(
        "scaled", choices=BACKGROUND_SUBTRACTIONS, advanced=True,
        label="Background ROI subtraction", doc="how the background ROIs' spectrum is removed",
    )  # fmt: skip
    residual_rank: str = option(
        "score", label="Residual pixel ranking", doc="ranking of residual pixels (fallback)",
        choices=RESIDUAL_RANKS, advanced=True,
    )  # fmt: skip
    residual_n: int = option(16, advanced=True, bounds=(1, None), label="Residual pixels",
                             doc="residual pixels averaged by the fallback seed")  # fmt: skip
    random_state: int = option(0, label="Random state", doc="seed of the fallback", advanced=True)

    @classmethod
    def coerce(cls, value: Any, base: Mapping[str, Any] | None = None) -> SeedOptions:
        """A SeedOptions from an instance, a dict of its fields or None (the defaults);
        ``base`` fills fields the dict does not set."""
        if isinstance(value, SeedOptions):
            return value
        given = dict(value or {}) if isinstance(value, Mapping | type(None)) else None
        if given is None:
            raise TypeError(f"seed_options must be a SeedOptions or a dict, got {value!r}")
        return cls.from_kwargs({**(base or {}), **given}, where="seed_options")
