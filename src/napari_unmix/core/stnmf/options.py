"""The options of STNMF, written once: the factorisation, the named settings, a recording.

* :class:`StnmfOptions` — the factorisation and the subunit criteria, with the ``stnmf``
  package's defaults (those of the :class:`~napari_unmix.api.stnmf.STNMF` class and of
  :func:`~napari_unmix.core.stnmf.sparse_seminmf`);
* :data:`SETTINGS` and :class:`StnmfSettingsOptions` — named values of ``sparsity``,
  ``smoothing``, ``normalize``, ``min_weight_z`` and ``min_weight_ratio`` ("recovery", the
  default of the dock, the CLI and :func:`~napari_unmix.api.stnmf.stnmf_cells`, and
  "reference", the ``stnmf`` package), each of which a caller may override;
* :class:`StnmfRecordingOptions` — how a stimulus movie and spike times become an
  ensemble (frame rate, lag or latency, temporal filter).

Examples
--------
>>> StnmfOptions.r, StnmfOptions.sparsity, StnmfSettingsOptions.settings
(20, 1.7, 'recovery')
>>> settings_values("reference", sparsity=2.0)["sparsity"]
2.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..options import Options, option
from .updates import ALPHA, EPS, FORMULATIONS, INITS

__all__ = [
    "SETTINGS",
    "StnmfFitOptions",
    "StnmfOptions",
    "StnmfRecordingOptions",
    "StnmfSettingsOptions",
    "settings_values",
]


@dataclass(frozen=True)
class StnmfOptions(Options):
    """Sparse semi-NMF of one ensemble and which modules count as subunits."""

    r: int = option(20, label="modules r", bounds=(2, None),
                    doc="number of modules; more than the expected subunits")  # fmt: skip
    init: str = option(
        "nnsvdlrc", label="init", doc="initial modules", choices=INITS, advanced=True
    )
    sparsity: float = option(
        1.7, label="sparsity", doc="L1 weight on the modules: raise for smaller, cleaner modules",
        bounds=(0, None),
    )  # fmt: skip
    num_iter: int = option(1000, label="iterations", doc="AF-HALS iterations", bounds=(0, None))
    seed: int | None = option(0, label="seed", doc="random seed (random init only)", advanced=True)
    pixel_size: float = option(0.0, label="stixel size (µm)", bounds=(0, None), unit="µm",
                               doc="stixel size (0: unknown, sizes in stixels)")  # fmt: skip
    moransi_threshold: float = option(
        0.25, label="Moran's I threshold", doc="modules with Moran's I above it are subunits",
        bounds=(-1, 1),
    )  # fmt: skip
    smoothing: float = option(0.0, label="smoothing (stixels)", bounds=(0, None), unit="stixels",
                              doc="Gaussian smoothing of every frame before STNMF")  # fmt: skip
    normalize: bool = option(
        False, label="normalize", doc="divide the ensemble by its SD (sparsity in noise SDs)"
    )
    min_weight_z: float = option(
        0.0, label="min weight z", doc="a subunit's mean weight in standard errors, at least",
        bounds=(0, None), advanced=True,
    )  # fmt: skip
    min_weight_ratio: float = option(
        0.0, label="min weight ratio", doc="... and this fraction of the largest module's",
        bounds=(0, 1), advanced=True,
    )  # fmt: skip
    flipsign: bool = option(
        True, label="flip signs", doc="give modules the sign of their mean weight", advanced=True
    )
    sort: bool = option(
        True, label="sort", doc="localized modules first, by mean weight", advanced=True
    )
    method: str = option("SparseSemiNMF", label="method", choices=("SparseSemiNMF",), advanced=True,
                         doc="factorisation")  # fmt: skip
    dtype: str = option("float32", label="precision", choices=("float32", "float64"), advanced=True,
                        doc="compute precision")  # fmt: skip
    formulation: str = option("gram", label="formulation", choices=FORMULATIONS, advanced=True,
                              doc="how iterations form their products")  # fmt: skip
    blas_threads: int | None = option(
        1, label="BLAS threads", doc="BLAS threads of the solver (None: the BLAS default)",
        bounds=(1, None), advanced=True,
    )  # fmt: skip
    alpha: float = option(ALPHA, label="AF-HALS alpha", bounds=(0, None), advanced=True,
                          doc="inner sweeps at most 1 + alpha * rho")  # fmt: skip
    eps: float = option(EPS, label="AF-HALS eps", bounds=(0, None), advanced=True,
                        doc="inner sweeps stop below eps times the first change")  # fmt: skip


_PRESET = ("smoothing", "sparsity", "normalize", "min_weight_z", "min_weight_ratio")

#: Named settings of the factorisation. "recovery" (the default of the dock, the CLI and
#: :func:`~napari_unmix.api.stnmf.stnmf_cells`) was chosen on the model-cell table of
#: ``benchmarks/bench_stnmf.py`` (``core/scenarios/stnmf.py``): smoothing every frame by
#: half a stixel and a sparsity in units of the ensemble's SD recover 2-3x the subunits of
#: "reference" (the ``stnmf`` package's defaults) at 20,000 spikes.
SETTINGS: dict[str, dict[str, Any]] = {
    "recovery": {
        "label": "recovery: frames smoothed by 0.5 stixel, sparsity in noise SDs",
        "smoothing": 0.5,
        "sparsity": 4.0,
        "normalize": True,
        "min_weight_z": 10.0,
        "min_weight_ratio": 0.3,
    },
    "reference": {
        "label": "reference: as the stnmf package (no smoothing, sparsity 1.7 absolute)",
        **{k: StnmfOptions.defaults()[k] for k in _PRESET},
    },
}


def _override(name: str) -> Any:
    """The field ``name`` of :class:`StnmfOptions` as an override: None = from the settings."""
    spec = StnmfOptions.spec(name)
    return option(
        None, label=spec.label, doc=f"{spec.doc.rstrip('.')} (none: from the settings)",
        bounds=spec.bounds, advanced=spec.advanced, unit=spec.unit,
    )  # fmt: skip


@dataclass(frozen=True)
class StnmfSettingsOptions(Options):
    """Named settings (:data:`SETTINGS`) and the values that override them."""

    settings: str = option(
        "recovery", label="settings",
        doc="recovery: more subunits from fewer spikes; reference: the stnmf package",
        choices=tuple(SETTINGS),
    )  # fmt: skip
    sparsity: float | None = _override("sparsity")
    smoothing: float | None = _override("smoothing")
    normalize: bool | None = _override("normalize")
    min_weight_z: float | None = _override("min_weight_z")
    min_weight_ratio: float | None = _override("min_weight_ratio")


def _from_stnmf(name: str) -> Any:
    """The field ``name`` of :class:`StnmfOptions` (default, label, doc, range) again."""
    spec = StnmfOptions.spec(name)
    meta = ("label", "doc", "bounds", "choices", "advanced", "flag", "unit")
    return option(spec.default, **{k: getattr(spec, k) for k in meta})


@dataclass(frozen=True)
class StnmfFitOptions(Options):
    """The factorisation settings the cells of a recording share (beside the named
    settings): fields of :class:`StnmfOptions`."""

    r: int = _from_stnmf("r")
    num_iter: int = _from_stnmf("num_iter")
    pixel_size: float = _from_stnmf("pixel_size")
    moransi_threshold: float = _from_stnmf("moransi_threshold")
    seed: int | None = _from_stnmf("seed")


def settings_values(
    settings: str = StnmfSettingsOptions.settings,
    /,
    *,
    sparsity: float | None = None,
    smoothing: float | None = None,
    normalize: bool | None = None,
    min_weight_z: float | None = None,
    min_weight_ratio: float | None = None,
) -> dict[str, Any]:
    """Keywords of :class:`StnmfOptions` from named ``settings``; overrides not None win."""
    opts = StnmfSettingsOptions.pick(locals())
    out = {k: v for k, v in SETTINGS[opts.settings].items() if k != "label"}
    out.update({k: v for k, v in opts.as_dict().items() if k in out and v is not None})
    return out


@dataclass(frozen=True)
class StnmfRecordingOptions(Options):
    """From a stimulus movie (t, x, y) and spike times to one cell's ensemble."""

    frame_rate: float | None = option(
        None, label="frame rate (Hz)", doc="stimulus frames per second (spike times in seconds)",
        bounds=(0, None), unit="Hz",
    )  # fmt: skip
    lag: int = option(0, label="lag (frames)", bounds=(0, None),
                      doc="frames between a stimulus frame and its spikes")  # fmt: skip
    latency: float | None = option(None, label="latency (s)", bounds=(0, None), unit="s",
                                   doc="the lag in seconds (needs the frame rate)")  # fmt: skip
    temporal_filter: str | None = option(
        None, label="temporal filter", doc="sta: weight frames by each cell's STA time course",
        choices=("sta",),
    )  # fmt: skip
    n_lags: int = option(
        10, label="STA lags", doc="frames of that STA time course", bounds=(1, None)
    )
    counts: bool = option(
        False, label="counts per frame", doc="the spike table holds counts per frame, not times"
    )
