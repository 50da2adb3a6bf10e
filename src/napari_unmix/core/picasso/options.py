"""The options of PICASSO, written once: estimation (:class:`PicassoOptions`) and
application (:class:`PicassoApplyOptions`).

The script API (:func:`~napari_unmix.api.picasso.unmix_picasso_array`,
:func:`~napari_unmix.api.picasso.unmix_picasso`), :func:`estimate_picasso`, the
``picasso`` command and the dock read their defaults, ranges and help from here.

PICASSO is stricter than the generic rule of :class:`~napari_unmix.core.options.Options`
in two ways, kept from its first release: an integer option refuses integral floats
(``qn=100.0``: a float where a count is meant is a mistake in a script), and a
choice outside the list says ``"<name>=<value> is not one of <names>"``.

Examples
--------
>>> PicassoOptions().max_iter, PicassoOptions.spec("pixel_bin_size").bounds
(200, (1, 4096))
>>> PicassoOptions(qn=100.0)
Traceback (most recent call last):
...
napari_unmix.core.validate.OptionError: qn must be an integer in [2, 10000], got qn=100.0 (float)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..options import Options, OptionSpec, option
from ..validate import OptionError
from .checks import check_integers, is_integer
from .implementations import IMPLEMENTATIONS

__all__ = [
    "ALPHA_MODES",
    "OUTPUT_UNITS",
    "PUBLISHED_LOOP_ONLY",
    "RECOMMENDED_IMPLEMENTATION",
    "PicassoApplyOptions",
    "PicassoOptions",
]

ALPHA_MODES = ("reference_t", "per_t", "fixed")
OUTPUT_UNITS = ("own_channel", "input", "normalized")
#: what the dock preselects (the most accurate implementation, see docs/picasso.md);
#: the functions keep the reference package's default, ``matlab_3c``
RECOMMENDED_IMPLEMENTATION = "source_sink_n"

_CHANNEL_LISTS = ("channels", "sink_channels", "neutral_channels")
#: options only the published MATLAB loop reads (``noise_aware=False`` or
#: ``reference_compatible``): the noise-aware loop refuses values other than their
#: defaults (see :meth:`PicassoOptions.published_loop_values`). ``pixel_bin_size`` is not
#: among them: the dock fills it from the image size for every implementation.
PUBLISHED_LOOP_ONLY = ("qn", "negativity_threshold", "clip_every_n_iterations")


class _StrictOptions(Options):
    """PICASSO's stricter checks (see the module docstring)."""

    @classmethod
    def check(cls, spec: OptionSpec, value: Any) -> Any:
        if value is None or spec.base is None:
            return super().check(spec, value)
        if spec.name in _CHANNEL_LISTS:
            check_integers(spec.name, value)
            return tuple(int(c) for c in value)
        if spec.base is int and not spec.multiple:
            lo, hi = spec.bounds or (None, None)
            inside = (
                is_integer(value) and (lo is None or lo <= value) and (hi is None or value <= hi)
            )
            if not inside:
                kind = f" ({type(value).__name__})" if not is_integer(value) else ""
                raise OptionError(
                    f"{spec.name} must be an integer in [{lo}, {hi}], got {spec.name}={value!r}{kind}"
                )
            return int(value)
        names = spec.choice_names
        if names is not None and value not in names:
            raise OptionError(f"{spec.name}={value!r} is not one of {list(names)}")
        return super().check(spec, value)


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise OptionError(f"{name} must be > 0, got {name}={value!r}")


@dataclass(frozen=True)
class PicassoOptions(_StrictOptions):
    """How PICASSO estimates the unmixing matrix (see :func:`estimate_picasso`)."""

    channels: tuple[int, ...] | None = option(
        None, label="Channels",
        doc="channels to unmix, in order (default: all); others pass through unchanged",
    )  # fmt: skip
    implementation: str = option(
        "matlab_3c", label="Implementation", choices=IMPLEMENTATIONS,
        doc="PICASSO variant; source_sink_n is the most accurate",
    )  # fmt: skip
    alpha_mode: str | None = option(
        None, label="Alpha mode", choices=ALPHA_MODES, advanced=True,
        doc="estimate on one time point, per time point, or apply unmixing_matrix "
        "(default: fixed when a matrix is given, else reference_t)",
    )  # fmt: skip
    alpha_reference_t: int = option(
        0, label="Reference time point", doc="time point the matrix is estimated on",
        bounds=(0, 10**9), advanced=True,
    )  # fmt: skip
    source_sink_matrix: object = option(
        None, label="Source-sink matrix",
        doc="source_sink_n: N×N, 1 on the diagonal, -1 where the row's channel bleeds "
        "into the column's",
    )  # fmt: skip
    sink_channels: tuple[int, ...] | None = option(
        None, label="Sink channels", doc="source-sink: channels that only receive"
    )
    neutral_channels: tuple[int, ...] | None = option(
        None, label="Neutral channels", doc="source-sink: channels left out"
    )
    unmixing_matrix: object = option(
        None, label="Unmixing matrix",
        doc="N×N or T×N×N matrix applied as given (alpha_mode='fixed')",
    )  # fmt: skip
    fixed_background: object = option(
        None, label="Background of the given matrix", advanced=True,
        doc="alpha_mode='fixed': N (or T×N) offsets subtracted from the selected channels "
        "before unmixing_matrix, e.g. a report's background_by_t (default: none)",
    )  # fmt: skip
    background_percentile: float = option(
        1.0, label="Background percentile", doc="background percentile", bounds=(0.0, 100.0),
        advanced=True,
    )  # fmt: skip
    preprocess_alpha_inputs: bool = option(
        True, label="Preprocess alpha inputs", advanced=True,
        doc="accepted for compatibility with spectral-unmixing; recorded only",
    )  # fmt: skip
    mi_bins: int = option(64, label="MI bins", bounds=(2, 4096), advanced=True,
                          doc="histogram bins of mutual information")  # fmt: skip
    alpha_max: float = option(1.0, label="Alpha max", bounds=(0.0, None),
                              doc="upper bound of the coefficient search")  # fmt: skip
    max_iter: int = option(200, label="Max iterations", doc="iteration limit", bounds=(1, 100_000))
    tolerance: float = option(
        1e-4, label="Tolerance", bounds=(0.0, None),
        doc="stop when a sweep's largest alpha (MATLAB) or alpha change (source-sink) is at "
        "most this",
    )  # fmt: skip
    max_alpha_voxels: int = option(
        500_000, label="Estimation voxels", doc="voxels sampled for estimation",
        bounds=(100, 10**10), advanced=True,
    )  # fmt: skip
    random_state: int = option(0, label="Random state", bounds=(0, 2**63 - 1), advanced=True,
                               doc="seed of the sampling")  # fmt: skip
    step_size: float = option(
        0.2, label="Step size", doc="MATLAB scheme: fraction of alpha applied per iteration",
        bounds=(0.0, None), advanced=True,
    )  # fmt: skip
    qn: int = option(100, label="Quantisation levels", bounds=(2, 10_000), advanced=True,
                     doc="published MATLAB loop only: MI quantisation levels (qn)")  # fmt: skip
    pixel_bin_size: int | None = option(
        16, label="Pixel bin size (MATLAB)", bounds=(1, 4096), advanced=True,
        doc="published MATLAB loop block size: about 1000 blocks per plane (4 for "
        "128x128; None: chosen so)",
    )  # fmt: skip
    alpha_clip: float = option(0.5, label="Alpha clip", bounds=(0.0, None), advanced=True,
                               doc="MATLAB scheme: largest |alpha| per iteration")  # fmt: skip
    negativity_threshold: float = option(
        0.0009, label="Negativity threshold",
        doc="published MATLAB loop only: negative mass fraction above which an alpha is "
        "divided by 10",
        advanced=True,
    )  # fmt: skip
    clip_every_n_iterations: int = option(
        50, label="Clip every n iterations",
        doc="published MATLAB loop only: clipping interval (0: never)",
        bounds=(0, 10**9), advanced=True,
    )  # fmt: skip
    reference_compatible: bool = option(
        False, label="Reference compatible", advanced=True,
        doc="run the MATLAB scheme exactly as the spectral-unmixing package (sequential "
        "updates, no early stop, max-normalised output)",
    )  # fmt: skip
    output_units: str = option(
        "own_channel", label="Output units", choices=OUTPUT_UNITS, advanced=True,
        doc="MATLAB scheme output scale: own_channel, input or normalized",
    )  # fmt: skip
    noise_aware: bool | None = option(
        None, label="Noise aware", advanced=True,
        doc="estimate with the MI of two views with independent shot noise (default: on; "
        "off, and refused, with reference_compatible)",
    )  # fmt: skip
    split_sigma: float | None = option(
        None, label="Split sigma", advanced=True, unit="px",
        doc="smoothing (px) of the noise-aware views (default: from the noise)",
    )  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("step_size", "alpha_clip", "alpha_max"):
            _positive(name, getattr(self, name))
        if not self.background_percentile < 100:
            raise OptionError(
                f"background_percentile must be in [0, 100), got {self.background_percentile}"
            )
        if self.split_sigma is not None and not self.split_sigma > 0:
            raise OptionError(
                f"split_sigma must be > 0 (pixels) or None (from the noise), got {self.split_sigma!r}"
            )

    @property
    def is_source_sink(self) -> bool:
        return self.implementation == "source_sink_n"

    def published_loop_values(self) -> dict[str, Any]:
        """The :data:`PUBLISHED_LOOP_ONLY` options given with a value other than their default.

        Examples
        --------
        >>> PicassoOptions(qn=50, clip_every_n_iterations=50).published_loop_values()
        {'qn': 50}
        """
        defaults = self.defaults()
        return {k: getattr(self, k) for k in PUBLISHED_LOOP_ONLY if getattr(self, k) != defaults[k]}


@dataclass(frozen=True)
class PicassoApplyOptions(Options):
    """How an estimated PICASSO matrix is applied (see :func:`apply_picasso`)."""

    clip_negative: bool = option(True, label="Clip negative", doc="clip unmixed values below zero")
    output_dtype: object = option(
        "float32", label="Output dtype", advanced=True,
        doc="output dtype; integer types are rounded and clipped to their range",
    )  # fmt: skip
