"""The options of bleed-through correction, each written once.

:class:`AlphaOptions` are the settings of one alpha estimate (:func:`.estimate_alpha`);
:class:`BleedthroughOptions` add what the whole tool needs: channels, how alpha varies over
time (:data:`ALPHA_MODES`), the reverse direction of the 2x2 model (every ``*_reverse``
setting ``None`` inherits the forward one, see :meth:`BleedthroughOptions.direction`) and
the output. The array and file functions, the ``unmix`` command and the dock read their
defaults, ranges and choices from here.

Examples
--------
>>> opts = BleedthroughOptions(method="corr_min", bidirectional=True, alpha_max_reverse=0.5)
>>> fwd, rev = opts.direction(), opts.direction(reverse=True)
>>> fwd.method, rev.method, fwd.alpha_max, rev.alpha_max
('corr_min', 'corr_min', 1.0, 0.5)
>>> list(ALPHA_MODES)
['fixed', 'reference_t', 'per_t']
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..options import Options, OptionSpec, option
from ..registry import Method, Registry
from ..validate import OptionError, check_type
from .estimators import ALPHA_METHODS
from .exact import _check_percentile, check_random_state

__all__ = ["ALPHA_MODES", "AlphaOptions", "BleedthroughOptions"]

#: How alpha varies over time: ``function(n_t, reference_t)`` gives the time points whose
#: alpha is estimated (none: the user gives alpha; one: it serves every time point).
ALPHA_MODES = Registry(
    "alpha_mode",
    [
        Method("fixed", lambda n_t, t_ref: [], "Fixed (given)", "the alpha you give"),
        Method(
            "reference_t",
            lambda n_t, t_ref: [t_ref],
            "Reference time point",
            "estimated at one time point (all its z-slices), applied to every time point",
        ),
        Method(
            "per_t",
            lambda n_t, t_ref: list(range(n_t)),
            "Per time point",
            "estimated at every time point",
        ),
    ],
)

_PCT = "%"  # unit of the percentile fields (checked with the reference's wording)


def _norm(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


@dataclass(frozen=True)
class AlphaOptions(Options):
    """Settings of one alpha estimate (see :func:`.estimate_alpha` for the details)."""

    method: str = option("mean_ratio", label="method", doc="alpha estimator", choices=ALPHA_METHODS)
    signal_percentile: float = option(
        99.0, label="signal percentile", doc="mask: source voxels at or above this percentile",
        bounds=(0, 100), unit=_PCT,
    )  # fmt: skip
    target_low_percentile: float | None = option(
        None, label="target-low percentile", bounds=(0, 100), unit=_PCT, advanced=True,
        doc="also require the target at or below this percentile (None: off)",
    )  # fmt: skip
    background_percentile: float = option(
        1.0, label="background percentile", bounds=(0, 100), unit=_PCT, advanced=True,
        doc="percentile subtracted from each channel before estimating",
    )  # fmt: skip
    preprocess_alpha_inputs: bool = option(
        True, label="preprocess", advanced=True,
        doc="subtract the background and clip at 0 before estimating",
    )  # fmt: skip
    alpha_max: float = option(1.0, label="alpha max", bounds=(0, None), advanced=True,
                              doc="upper bound of optimised alpha (corr_min, mi_min)")  # fmt: skip
    mi_bins: int = option(64, label="MI bins", bounds=(2, None), advanced=True,
                          doc="histogram bins of mutual information (at most)")  # fmt: skip
    max_alpha_voxels: int | None = option(
        500_000, label="max voxels", bounds=(1, None), advanced=True,
        doc="voxels sampled for alpha (None: all)",
    )  # fmt: skip
    random_state: int | None = option(0, label="random state", bounds=(0, None), advanced=True,
                                      doc="seed of the sampling and the bootstrap")  # fmt: skip
    min_mask_voxels: int = option(16, label="min mask voxels", bounds=(1, None), advanced=True,
                                  doc="smallest mask before the source-only fallback")  # fmt: skip
    n_bootstrap: int = option(100, label="bootstrap resamples", bounds=(0, None), advanced=True,
                              doc="bootstrap resamples of the 95% interval (0: none)")  # fmt: skip

    @classmethod
    def check(cls, spec: OptionSpec, value: Any) -> Any:
        """The base rules, with the wording bleed-through has always used for estimators
        (``unknown method``), percentiles, ``alpha_max``, ``random_state`` and types."""
        value = _norm(value) if spec.choices is not None else value
        if value is None:
            return super().check(spec, value)
        if spec.choices is ALPHA_METHODS:
            return ALPHA_METHODS.resolve(value).name
        if spec.name == "random_state":
            return check_random_state(value)
        if spec.base in (int, float, bool) and not spec.multiple:
            check_type(spec.name, value, spec.base.__name__)  # "must be an integer, got"
        real = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
        if real and spec.unit == _PCT:
            return _check_percentile(spec.name, value)
        if real and spec.name.startswith("alpha_max") and not (np.isfinite(value) and value > 0):
            raise OptionError(f"{spec.name} must be a finite number > 0, got {spec.name}={value}")
        return super().check(spec, value)


#: the estimation settings a reverse direction may set apart (``<name>_reverse``)
REVERSIBLE = (
    "method",
    "signal_percentile",
    "target_low_percentile",
    "background_percentile",
    "alpha_max",
    "mi_bins",
)


def _reverse(name: str) -> Any:
    """The ``<name>_reverse`` field: the forward field's rules, None (inherit) by default."""
    s = AlphaOptions.spec(name)
    return option(
        None,
        label=f"reverse {s.label}",
        doc=f"{s.doc}, reverse direction (None: as the forward one)",
        bounds=s.bounds,
        choices=s.choices,
        advanced=True,
        unit=s.unit,
    )


@dataclass(frozen=True)
class BleedthroughOptions(AlphaOptions):
    """Settings of the whole correction: :class:`AlphaOptions` for the forward direction,
    channels, time, the reverse direction and the output."""

    alpha_mode: str | None = option(
        None, label="alpha mode", choices=ALPHA_MODES,
        doc="fixed, reference_t or per_t (None: fixed when alpha is given, else reference_t)",
    )  # fmt: skip
    alpha_reference_t: int = option(
        0, label="reference t", bounds=(0, None), doc="time point alpha is estimated on"
    )
    source_channel: int = option(0, label="source channel", bounds=(0, None),
                                 doc="channel that bleeds")  # fmt: skip
    target_channel: int = option(1, label="target channel", bounds=(0, None),
                                 doc="channel to correct")  # fmt: skip
    bidirectional: bool = option(
        False, label="bidirectional (2x2)", doc="2 x 2 model: both channels bleed"
    )
    method_reverse: str | None = _reverse("method")
    signal_percentile_reverse: float | None = _reverse("signal_percentile")
    target_low_percentile_reverse: float | None = _reverse("target_low_percentile")
    background_percentile_reverse: float | None = _reverse("background_percentile")
    alpha_max_reverse: float | None = _reverse("alpha_max")
    mi_bins_reverse: int | None = _reverse("mi_bins")
    clip_negative: bool = option(True, label="clip negative",
                                 doc="clip corrected values at 0")  # fmt: skip
    output_dtype: Any = option(  # noqa: RUF009 (a str or a numpy dtype)
        "float32", label="output dtype", advanced=True,
        doc="output dtype (integers rounded and clipped), or 'same'",
    )  # fmt: skip

    def direction(self, *, reverse: bool = False) -> AlphaOptions:
        """The estimation settings of one direction (reverse: ``*_reverse`` or inherited).

        Examples
        --------
        >>> BleedthroughOptions(mi_bins=32).direction(reverse=True).mi_bins
        32
        """
        values = {s.name: getattr(self, s.name) for s in AlphaOptions.specs()}
        if reverse:
            for name in REVERSIBLE:
                own = getattr(self, f"{name}_reverse")
                values[name] = values[name] if own is None else own
        return AlphaOptions(**values)
