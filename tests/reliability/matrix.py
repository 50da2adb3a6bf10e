"""The bad-input matrix: every public entry point x every class of bad input it can get.

Each :class:`Entry` is one entry point (an exported function, a file function, a CLI
command or an npe2 hook) with the classes of bad input that apply to it. Every case is
expected to end in a **clear error** (an exception of ours, or a built-in raised by our
code whose message names what is wrong) unless the entry documents the result of that
class (:attr:`Entry.documented`: what the docs promise, checked by :attr:`Entry.check`),
or the case is a known open problem (:attr:`Entry.open`, run as ``xfail(strict=True)``
naming the issue that owns it).

``test_bad_inputs.py`` runs the cases; ``test_reliability_doc.py`` checks that the counts
in ``docs/reliability.md`` are :func:`summary_markdown` of this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

#: Bad values of an array argument.
ARRAY_CLASSES = (
    "ndim", "nan", "inf", "empty", "constant", "negative",
    "bool", "complex", "object", "float16", "huge", "tiny",
)  # fmt: skip
#: Bad image / table files given as an input, and bad output paths.
FILE_CLASSES = (
    "missing", "empty_file", "truncated", "mislabelled", "folder",
    "out_is_input", "out_readonly", "out_folder_missing", "out_exists",
)  # fmt: skip
#: Bad values of an option, by the kind of option.
OPTION_CLASSES = {
    "count": (("type", "many"), ("negative", -3)),
    "positive": (("type", "big"), ("negative", -1.0)),
    "nonneg": (("type", "big"), ("negative", -1.0)),
    "channel": (("type", "first"), ("range", 9)),
    "choice": (("type", 3), ("unknown", "no-such-choice")),
}

# What a clear message about each class mentions (any of these, case-insensitive).
HINTS = {
    "ndim": ("shape", "dim", "-d", "axes", "expected", "channels"),
    "nan": ("nan", "finite", "infinite"),
    "inf": ("nan", "finite", "infinite", "inf"),
    "empty": ("empty", "0", "shape", "size", "at least"),
    "constant": ("constant", "no signal", "zero", "same", "flat", "variance", "nothing"),
    "negative": ("negative", "non-negative", ">= 0", "nonnegative", "<= 0"),
    "bool": ("dtype", "bool"),
    "complex": ("dtype", "complex"),
    "object": ("dtype", "object", "numeric"),
    "float16": ("dtype", "float16"),
    "huge": ("finite", "overflow", "range", "large", "inf"),
    "tiny": ("zero", "small", "signal"),
}


@dataclass(frozen=True)
class Entry:
    """One entry point of the matrix."""

    name: str
    kind: str  # "array", "file", "cli" or "hook"
    call: Callable[..., Any]  # call(x, tmp, **options) -> result
    data: str | None = None  # key of the good array (DATA) or file (made by the test)
    classes: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)  # option -> OPTION_CLASSES key
    documented: dict[str, str] = field(default_factory=dict)  # class -> documented result
    check: Callable[[Any, Any], None] | None = None  # check(result, x) of a documented one
    open: dict[str, str] = field(default_factory=dict)  # class -> "issue N: what is open"

    def cases(self) -> list[tuple[str, str, Any]]:
        """(case id, class, option value or None) of every case of this entry."""
        out = [(f"{self.name}:{c}", c, None) for c in self.classes]
        for opt, kind in self.options.items():
            for label, value in OPTION_CLASSES[kind]:
                out.append((f"{self.name}:{opt}={label}", f"{opt}={label}", value))
        return out

    def expected(self, cls: str) -> str:
        if cls in self.open:
            return "open"
        return "documented" if cls in self.documented else "error"


@cache
def data() -> dict[str, Any]:
    """The good inputs (tiny, seeded)."""
    from napari_unmix.core.synthetic import (
        make_bead_cube,
        make_bleedthrough_stack,
        make_picasso_mix,
        make_ste,
    )

    cube, truth = make_bead_cube(shape=(12, 12), n_channels=8, n_beads=3, random_state=0)
    stack, _ = make_bleedthrough_stack(n_t=2, n_z=2, shape=(24, 24), random_state=0)
    mix, _ = make_picasso_mix(n_channels=3, shape=(24, 24), random_state=0)
    ste, _ = make_ste(n_spikes=300, grid=6, n_subunits=2, random_state=0)
    return {
        "cube": cube.astype(np.float32),
        "axis": np.asarray(truth["spectral_axis"], dtype=np.float64),
        "H": np.asarray(truth["spectra"], dtype=np.float64),
        "stack": stack.astype(np.float32),
        "mix": np.asarray(mix, dtype=np.float32),
        "ste": ste.astype(np.float32),
        "labels": (np.arange(144).reshape(12, 12) % 3 + 1).astype(np.int32),
        "rows": cube.reshape(8, -1).T.copy(),
        "stimulus": np.random.default_rng(0).random((60, 6, 6)).astype(np.float32),
        "source": stack[0, :, 0].astype(np.float32),
        "shifts": np.zeros((2, 2)),
    }


def mutate(x: np.ndarray, cls: str) -> Any:
    """``x`` made bad in the way ``cls`` says (a new array; ``x`` is not modified)."""
    x = np.asarray(x)
    f = x.astype(np.float32)
    if cls == "ndim":
        return f.reshape(-1)
    if cls in ("nan", "inf"):
        f = f.copy()
        f.flat[f.size // 2] = np.nan if cls == "nan" else np.inf
        return f
    if cls == "empty":
        return np.zeros((*x.shape[:-1], 0), x.dtype)
    if cls == "constant":
        return np.ones_like(f)
    if cls == "negative":
        return f - 2 * float(np.abs(f).max())
    if cls == "bool":
        return f > np.median(f)
    if cls == "complex":
        return f.astype(np.complex64)
    if cls == "object":
        return f.astype(object)
    if cls == "float16":
        return f.astype(np.float16)
    if cls == "huge":
        return f.astype(np.float64) * 1e30
    if cls == "tiny":
        return f.astype(np.float64) * 1e-30
    raise KeyError(cls)


# ----------------------------------------------------------------------------- checks
def _arrays(result: Any) -> list[np.ndarray]:
    """The numeric arrays in a result (tuples, dicts, result objects)."""
    if isinstance(result, np.ndarray):
        return [result] if result.dtype.kind in "biuf" else []
    if hasattr(result, "compute") and hasattr(result, "dtype"):
        return _arrays(np.asarray(result.compute()))
    if isinstance(result, tuple | list):
        return [a for r in result for a in _arrays(r)]
    if isinstance(result, dict):
        return [a for r in result.values() for a in _arrays(r)]
    for attr in ("W", "H", "labels", "modules", "boxes"):
        if hasattr(result, attr):
            return [
                a
                for n in ("W", "H", "labels", "modules")
                for a in _arrays(getattr(result, n, None))
            ]
    return []


def _no_boxes(result: Any) -> None:
    assert len(result.boxes) == 0 and result.notes, "a flat cube must give no regions, with a note"


def _left_out(result: Any, x: Any) -> None:
    """Non-finite pixels are left out (label 0), the others labelled."""
    bad = ~np.isfinite(np.asarray(x, dtype=np.float64)).all(axis=0)
    labels = np.asarray(result.labels)
    assert (labels[bad] == 0).all() and (labels[~bad] > 0).all()


def finite(result: Any, x: Any) -> None:
    """The documented result: numbers, all finite, nothing silently NaN."""
    arrays = _arrays(result)
    assert arrays, f"no numeric result in {type(result).__name__}"
    for a in arrays:
        assert np.isfinite(a).all(), "a documented result must be finite"


def nan_kept(result: Any, x: Any) -> None:
    """The documented result: NaN / inf input pixels stay NaN (marked), the rest finite."""
    arrays = _arrays(result)
    assert arrays and any(not np.isfinite(a).all() for a in arrays)


def written(result: Any, x: Any) -> None:
    """The documented result: the file(s) exist."""
    if isinstance(result, dict):
        paths = list(result.values())
    elif isinstance(result, list | tuple):
        paths = list(result)
    else:
        paths = [result]
    assert all(Path(p).exists() for p in paths if p is not None)


def returned_none(result: Any, x: Any) -> None:
    """The documented result: the hook does not claim the path (napari tries others)."""
    assert result is None


def same_values(result: Any, x: Any) -> None:
    """The documented result: values passed through unchanged (axes only)."""
    assert np.asarray(result).size == np.asarray(x).size


# ----------------------------------------------------------------------------- entries
def _nu() -> Any:
    import napari_unmix

    return napari_unmix


def _gen(gen: Any) -> Any:
    """Drive a generator to its return value."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


A = ARRAY_CLASSES
_D = data
NNMF = {"max_iter": 5}


def _arr(name: str, call: Callable, key: str, **kw: Any) -> Entry:
    return Entry(name, "array", call, key, kw.pop("classes", A), **kw)


_SCALE_OK = {
    "huge": "results scale with the data (no unit assumed): finite",
    "tiny": "results scale with the data (no unit assumed): finite",
}
_CONVERT = {
    "bool": "converted to float32 (0/1), as any integer input",
    "float16": "computed in float32 like any input",
}
_NEG_OK = {"negative": "negative values are valid data (offsets, differences): finite"}
_CONST_OK = {"constant": "a constant input gives its constant result"}
_STACK_OK = {**_SCALE_OK, **_CONVERT, **_NEG_OK, **_CONST_OK}
_NAN_KEPT = {
    "nan": "NaN pixels propagate: NaN in the result where the input is NaN (marked, not hidden)",
    "inf": "inf pixels propagate: inf / NaN in the result there (marked, not hidden)",
}
_NMF_OK = {
    **_SCALE_OK,
    "float16": "computed in float32 like any input",
    "nan": "NaN pixels are skipped: NaN in W there (documented: 'NaN pixels ... are skipped')",
    "inf": "non-finite pixels are skipped like NaN: NaN in W there",
    "constant": "a flat cube is fitted like any other (one spectrum explains it): finite",
    "negative": "negative values (e.g. after baseline removal) are fitted; W and H stay >= 0",
}
# seeded / random NNMF refuse data without a positive value (all zero or negative: nothing
# non-negative factors can fit) and say to check the offset; NNLS and PCA fit them
_NNMF_OK = {k: v for k, v in _NMF_OK.items() if k != "negative"}


def _stack_check(result: Any, x: Any) -> None:
    (finite if np.isfinite(np.asarray(x, dtype=np.float64)).all() else nan_kept)(result, x)


_NAN_MOVED = {
    "nan": "a NaN pixel keeps its value and moves with its plane; it does not pull the shifts",
    "inf": "an inf pixel keeps its value and moves with its plane; it does not pull the shifts",
}
_MAX_Z_NAN = {
    "nan": "a NaN pixel stays NaN in the projection (marked, not hidden; issue 18)",
    "inf": "an inf pixel is the maximum where it is +inf (marked, not hidden)",
}


def _shifted_check(result: Any, x: Any) -> None:
    """Finite shifts; a non-finite pixel is non-finite where its plane's shift takes it
    (when that is inside the image), and it is the only non-finite output pixel."""
    out, shifts = result
    finite(shifts, x)
    x = np.asarray(x, dtype=np.float64)
    if np.isfinite(x).all():
        return finite(out, x)
    per_plane = np.broadcast_to(
        shifts if shifts.ndim == 3 else shifts[:, None], (*x.shape[:2], 2)
    )  # (T, Z, 2)
    expected = np.zeros(x.shape, bool)
    for t, z, c, y, xx in np.argwhere(~np.isfinite(x)):
        dy, dx = np.rint(per_plane[t, z]).astype(int)
        if 0 <= y + dy < x.shape[3] and 0 <= xx + dx < x.shape[4]:
            expected[t, z, c, y + dy, xx + dx] = True
    np.testing.assert_array_equal(~np.isfinite(np.asarray(out)), expected)


def _finite_axis(result: Any, x: Any) -> None:
    """A resolved spectral axis never carries NaN or inf."""
    assert np.isfinite(result.values).all(), f"non-finite axis values {result.values!r}"


def _max_z_check(result: Any, x: Any) -> None:
    """The projection is the maximum over z; a NaN at a pixel in any slice stays NaN there."""
    want = np.max(np.asarray(x, dtype=np.float64), axis=1, keepdims=True)
    np.testing.assert_array_equal(np.asarray(result, dtype=np.float64), want)


def _nmf_check(result: Any, x: Any) -> None:
    if np.isfinite(np.asarray(x, dtype=np.float64)).all():
        finite(result, x)
    else:
        assert np.isnan(np.asarray(result.W)).any(), "NaN pixels must be NaN in W"


_WRITTEN_OK = {
    **_STACK_OK,
    "nan": "NaN is a valid float pixel: written as is",
    "inf": "inf is a valid float pixel: written as is",
}


_BLEED_NAN = {
    "nan": "NaN voxels are left out of the estimate (counted in the report) and stay NaN "
    "in the output (issue 18)",
    "inf": "inf voxels are left out of the estimate like NaN and stay non-finite in the output",
}

_STIXELS_LEFT_OUT = {
    "nan": "stixels with a NaN are left out of the factorisation: NaN in the modules there",
    "inf": "stixels with an inf are left out of the factorisation: NaN in the modules there",
}


def _stnmf_check(result: Any, x: Any) -> None:
    """Modules are NaN exactly at the stixels with a non-finite value, finite elsewhere."""
    bad = ~np.isfinite(np.asarray(x, dtype=np.float64)).all(axis=-1)
    modules = np.asarray(result.modules)
    assert np.isnan(modules[:, bad]).all() and np.isfinite(modules[:, ~bad]).all()


def _sta_check(result: Any, x: Any) -> None:
    """NaN / inf stimulus stixels are non-finite in every lag of the STA, the rest finite."""
    bad = ~np.isfinite(np.asarray(x, dtype=np.float64)).all(axis=0)
    sta = np.asarray(result)
    assert (~np.isfinite(sta[:, bad])).all() and np.isfinite(sta[:, ~bad]).all()


def _cells_check(result: Any, x: Any) -> None:
    """One cell: modules as STNMF of its ensemble gives them, or the reason it failed."""
    (cell,) = result
    x = np.asarray(x, dtype=np.float64)
    if np.ptp(x) == 0:
        assert cell.stnmf is None and "constant" in cell.error
        return
    assert cell.error is None, cell.error
    ens = _nu().spike_triggered_ensemble(x, np.arange(x.shape[0]) % 3)
    _stnmf_check(cell.stnmf, ens)


def _picasso(x, tmp, **kw):
    return _nu().unmix_picasso_array(x, **{"max_iter": 3, "pixel_bin_size": 4, **kw})


ENTRIES: list[Entry] = [
    # ------------------------------------------------------------------ foundation
    *(
        _arr(
            name,
            (lambda n, a: lambda x, tmp, axes=a: getattr(_nu(), n)(x, axes))(name, axes),
            key,
            classes=("ndim",),
            options={"axes": "choice"},
        )
        for name, axes, key in (("to_tzcyx", "CYX", "cube"), ("from_tzcyx", "TZCYX", "stack"))
    ),
    *(
        _arr(
            name,
            (lambda n, f: lambda x, tmp, **kw: getattr(_nu(), n)(tmp / f, x[None, None], **kw))(
                name, fname
            ),
            "cube",
            options=opts,
            documented=_WRITTEN_OK,
            check=written,
        )
        for name, fname, opts in (
            ("write_image", "o.ome.tif", {"compression_level": "count"}),
            ("write_zarr", "o.ome.zarr", {"compression_level": "count", "compression": "choice"}),
        )
    ),
    _arr(
        "write_spectra_csv",
        lambda x, tmp, **kw: _nu().write_spectra_csv(tmp / "s.csv", _D()["axis"], x, **kw),
        "H",
        classes=("ndim", "nan", "inf", "empty", "complex", "object"),
    ),
    # ------------------------------------------------------------------ generators
    *(
        Entry(
            name,
            "array",
            (lambda n, b: lambda x, tmp, **kw: getattr(_nu(), n)(**{**b, **kw}))(name, base),
            options=opts,
        )
        for name, base, opts in (
            (
                "make_bleedthrough_stack",
                {"n_t": 1, "n_z": 1, "shape": (8, 8)},
                {"n_t": "count", "noise_sigma": "nonneg"},
            ),
            (
                "make_picasso_mix",
                {"shape": (8, 8)},
                {"n_channels": "count", "noise_sigma": "nonneg"},
            ),
            (
                "make_bead_cube",
                {"shape": (8, 8), "n_channels": 6},
                {"n_channels": "count", "noise_sigma": "nonneg"},
            ),
            ("make_similar_bead_cube", {"shape": (8, 8), "n_channels": 6}, {"n_channels": "count"}),
            (
                "make_two_region_cube",
                {"shape": (8, 8), "n_channels": 6},
                {"n_channels": "count", "noise_sigma": "nonneg"},
            ),
            ("make_ste", {"n_spikes": 50, "grid": 4}, {"n_spikes": "count", "grid": "count"}),
            ("make_ste_sparse", {"n_spikes": 50, "grid": 4}, {"n_spikes": "count"}),
        )
    ),
    # ------------------------------------------------------------------ ROI suggester
    _arr(
        "suggest_rois",
        lambda x, tmp, **kw: _nu().suggest_rois(x, **{"warn": False, **kw}),
        "cube",
        options={
            "binning": "count",
            "min_area": "count",
            "max_groups": "count",
            "peak_sigma": "positive",
            "projection": "choice",
        },
        documented={
            **_SCALE_OK,
            **_CONVERT,
            "constant": "a flat cube has no seed regions: no suggestion, with a note",
            "negative": "regions come from relative contrast: offsets do not matter",
            "nan": "NaN pixels are ignored (filled for the response map, left out of the "
            "box spectra), with a note",
        },
        check=lambda r, x: None if np.ptp(np.asarray(x, float)) else _no_boxes(r),
    ),
    # ------------------------------------------------------------------ STNMF
    _arr(
        "STNMF",
        lambda x, tmp, **kw: _nu().STNMF(x, **{"r": 2, "num_iter": 3, **kw}),
        "ste",
        options={"r": "count", "num_iter": "count", "sparsity": "nonneg", "method": "choice"},
        # issue 19: a zero / constant ensemble (e.g. an all-False bool one) and values that
        # overflow float32 in the Gram matrix (1e30) are errors that say so
        documented={
            "tiny": _SCALE_OK["tiny"],
            "float16": _CONVERT["float16"],
            **_NEG_OK,
            **_STIXELS_LEFT_OUT,
        },
        check=_stnmf_check,
    ),
    _arr(
        "select_sparsity",
        lambda x, tmp, **kw: _nu().select_sparsity(
            x, **{"sparsities": (1.7,), "r": 2, "num_iter": 3, **kw}
        ),
        "ste",
        classes=("ndim", "nan", "empty", "object", "complex"),
        options={"r": "count"},
        documented={"nan": _STIXELS_LEFT_OUT["nan"]},
        check=lambda r, x: _stnmf_check(r[0], x),
    ),
    _arr(
        "spike_triggered_ensemble",
        lambda x, tmp, **kw: _nu().spike_triggered_ensemble(
            x, np.arange(x.shape[0] if np.ndim(x) else 0) % 3, **kw
        ),
        "stimulus",
        options={"lag": "count"},
        documented={
            **_SCALE_OK,
            **_CONVERT,
            **_NEG_OK,
            **_CONST_OK,
            "nan": "NaN stimulus frames give NaN ensemble frames where they have spikes",
            "inf": "inf stimulus frames give inf ensemble frames where they have spikes",
        },
        check=lambda r, x: None if np.asarray(r).ndim == 3 else 1 / 0,
    ),
    _arr(
        "spike_triggered_average",
        lambda x, tmp, **kw: _nu().spike_triggered_average(
            x, np.arange(x.shape[0] if np.ndim(x) else 0) % 3, **{"n_lags": 2, **kw}
        ),
        "stimulus",
        options={"n_lags": "count"},
        documented={
            **_SCALE_OK,
            **_CONVERT,
            **_NEG_OK,
            **_CONST_OK,
            "nan": "a stixel with a NaN is NaN in the STA (marked, not hidden)",
            "inf": "a stixel with an inf is inf / NaN in the STA (marked, not hidden)",
        },
        check=_sta_check,
    ),
    _arr(
        "temporal_filter_from_sta",
        lambda x, tmp: _nu().temporal_filter_from_sta(x[:3] if np.ndim(x) == 3 else x),
        "stimulus",
        documented={
            **_SCALE_OK,
            **_CONVERT,
            **_NEG_OK,
            "constant": "a constant STA gives the flat filter (1, 1, 1) / sqrt(3)",
            "nan": "stixels with a NaN are left out of the filter",
            "inf": "stixels with an inf are left out of the filter",
        },
        check=lambda r, x: np.testing.assert_allclose(np.linalg.norm(r), 1.0, rtol=1e-6),
    ),
    _arr(
        "stnmf_cells",
        lambda x, tmp, **kw: _nu().stnmf_cells(
            x,
            {"a": np.arange(x.shape[0] if np.ndim(x) else 0) % 3},
            **{"r": 2, "num_iter": 3, **kw},
        ),
        "stimulus",
        options={"r": "count", "num_iter": "count", "settings": "choice"},
        documented={
            **_SCALE_OK,
            **_CONVERT,
            **_NEG_OK,
            "constant": "a cell whose ensemble cannot be factorised gets the reason in its "
            "result (CellResult.error); the other cells go on",
            "nan": "stixels with a NaN in a spike's frames are left out of that cell's "
            "factorisation: NaN in its modules there",
            "inf": "stixels with an inf in a spike's frames are left out of that cell's "
            "factorisation: NaN in its modules there",
        },
        check=_cells_check,
    ),
    # ------------------------------------------------------------------ bleed-through
    _arr(
        "unmix_array",
        lambda x, tmp, **kw: _nu().unmix_array(
            x, **{"n_bootstrap": 0, "signal_percentile": 95.0, **kw}
        ),
        "stack",
        options={
            "source_channel": "channel",
            "n_bootstrap": "count",
            "mi_bins": "count",
            "signal_percentile": "nonneg",
            "method": "choice",
            "alpha_mode": "choice",
        },
        documented={**_SCALE_OK, **_NEG_OK, "float16": _CONVERT["float16"], **_BLEED_NAN},
        check=_stack_check,
    ),
    _arr(
        "estimate_alpha",
        lambda x, tmp, **kw: _nu().estimate_alpha(
            x, _D()["stack"][0, :, 1], **{"n_bootstrap": 0, "signal_percentile": 95.0, **kw}
        ),
        "source",
        options={
            "n_bootstrap": "count",
            "mi_bins": "count",
            "method": "choice",
            "max_alpha_voxels": "count",
        },
        documented={
            **_SCALE_OK,
            **_CONVERT,
            **_NEG_OK,
            "nan": "NaN voxels are left out of the estimate (non_finite_voxels_ignored)",
            "inf": "inf voxels are left out of the estimate like NaN",
        },
        check=lambda r, x: None,
    ),
    _arr(
        "apply_correction",
        lambda x, tmp, **kw: _nu().apply_correction(x, 0.3, **kw),
        "stack",
        options={"source_channel": "channel", "target_channel": "channel"},
        documented={**_STACK_OK, **_NAN_KEPT},
        check=_stack_check,
    ),
    # ------------------------------------------------------------------ NNLS / NNMF
    _arr(
        "nnls_unmix",
        lambda x, tmp, **kw: _nu().nnls_unmix(x, _D()["H"], **kw),
        "cube",
        documented=_NMF_OK,
        check=_nmf_check,
    ),
    _arr(
        "seeded_nnmf",
        lambda x, tmp, **kw: _nu().seeded_nnmf(x, _D()["H"], **{**NNMF, **kw}),
        "cube",
        options={"max_iter": "count", "tol": "nonneg", "l1_W": "nonneg", "solver": "choice"},
        documented=_NNMF_OK,
        check=_nmf_check,
    ),
    _arr(
        "iter_seeded_nnmf",
        lambda x, tmp, **kw: _gen(_nu().iter_seeded_nnmf(x, _D()["H"], **{**NNMF, **kw})),
        "cube",
        options={"max_iter": "count"},
        documented=_NNMF_OK,
        check=_nmf_check,
    ),
    _arr(
        "random_nnmf",
        lambda x, tmp, k=2, **kw: _nu().random_nnmf(x, k, **{**NNMF, **kw}),
        "cube",
        options={"k": "count", "max_iter": "count", "init": "choice"},
        documented=_NNMF_OK,
        check=_nmf_check,
    ),
    _arr(
        "iter_random_nnmf",
        lambda x, tmp, k=2, **kw: _gen(_nu().iter_random_nnmf(x, k, **{**NNMF, **kw})),
        "cube",
        options={"k": "count"},
        documented=_NNMF_OK,
        check=_nmf_check,
    ),
    _arr(
        "pca",
        lambda x, tmp, k=2, **kw: _nu().pca(x, k, **kw),
        "cube",
        options={"k": "count"},
        documented={**_NMF_OK},
        check=_nmf_check,
    ),
    _arr(
        "prepare_seeds",
        lambda x, tmp, **kw: _nu().prepare_seeds(x, list(_D()["H"]), **kw),
        "cube",
        options={"downsample": "count", "w_mode": "choice"},
        documented={**_NMF_OK, "bool": "a bool cube is used as 0/1 values"},
        check=lambda r, x: None,
    ),
    # ------------------------------------------------------------------ hyperspectral maps
    _arr(
        "intensity_map",
        lambda x, tmp, **kw: _nu().intensity_map(x, _D()["axis"], float(_D()["axis"][3]), **kw),
        "cube",
        options={"window": "nonneg"},
        documented={
            **_STACK_OK,
            "nan": "NaN pixels give NaN in the map (marked, not hidden)",
            "inf": "inf pixels give inf / NaN in the map (marked, not hidden)",
        },
        check=lambda r, x: None if np.asarray(r[0]).shape == np.shape(x)[1:] else 1 / 0,
    ),
    _arr(
        "ratio_map",
        lambda x, tmp, **kw: _nu().ratio_map(
            x, _D()["axis"], float(_D()["axis"][2]), float(_D()["axis"][5]), **kw
        ),
        "cube",
        options={"window": "nonneg", "min_denominator": "nonneg"},
        documented={
            **_CONVERT,
            **_CONST_OK,
            **_NEG_OK,
            "huge": "a ratio has no unit: finite",
            "nan": "NaN pixels are NaN (masked) in the ratio",
            "inf": "inf pixels are NaN (masked) in the ratio",
        },
        check=lambda r, x: None,
    ),
    _arr(
        "cluster_map",
        lambda x, tmp, n_clusters=2, **kw: _nu().cluster_map(x, n_clusters, **kw),
        "cube",
        options={"n_clusters": "count", "method": "choice", "cleanup": "choice"},
        documented={
            **_SCALE_OK,
            **_CONVERT,
            **_NEG_OK,
            "nan": "pixels with a NaN are left out (label 0)",
            "inf": "pixels with an inf are left out (label 0)",
        },
        check=_left_out,
    ),
    _arr(
        "choose_k",
        lambda x, tmp, **kw: _nu().choose_k(x, **{"k_range": [2, 3], **kw}),
        "cube",
        options={"sample_size": "count", "method": "choice"},
        documented={
            **_SCALE_OK,
            **_CONVERT,
            **_NEG_OK,
            "nan": "pixels with a NaN are left out of the scores",
            "inf": "pixels with an inf are left out of the scores",
        },
        check=lambda r, x: None if np.isfinite(r["silhouette"]).all() else 1 / 0,
    ),
    _arr(
        "map_metrics",
        lambda x, tmp, **kw: _nu().map_metrics(x, **kw),
        "labels",
        options={"sample_size": "count"},
        classes=("ndim", "nan", "empty", "complex", "object", "float16"),
        documented={"float16": "float labels with whole values are used as integers"},
        check=None,
    ),
    _arr(
        "cube_from_rows",
        lambda x, tmp, shape=(12, 12): _nu().cube_from_rows(x, shape),
        "rows",
        options={"shape": "choice"},
        documented={**_STACK_OK, **_NAN_KEPT},
        check=_stack_check,
    ),
    _arr(
        "write_map_report",
        lambda x, tmp, n_clusters=2, **kw: _nu().write_map_report(
            x,
            _D()["axis"],
            tmp / "rep",
            target=float(_D()["axis"][3]),
            numerator=float(_D()["axis"][2]),
            denominator=float(_D()["axis"][5]),
            n_clusters=n_clusters,
            **kw,
        ),
        "cube",
        classes=("ndim", "nan", "empty", "constant", "complex", "object"),
        options={"n_clusters": "count", "window": "nonneg"},
        documented={"nan": "NaN pixels: NaN in the maps, left out of the clusters"},
        check=written,
    ),
    Entry(
        "Preprocessing",
        "array",
        lambda x, tmp, **kw: _nu().Preprocessing(**kw),
        options={"baseline": "choice", "normalise": "choice", "spatial_sigma": "nonneg"},
    ),
    # ------------------------------------------------------------------ PICASSO
    _arr(
        "unmix_picasso_array",
        _picasso,
        "mix",
        options={
            "max_iter": "count",
            "mi_bins": "count",
            "implementation": "choice",
            "pixel_bin_size": "count",
            "alpha_reference_t": "channel",
        },
        documented={
            **_SCALE_OK,
            **_CONVERT,
            "negative": "an offset changes nothing (each channel is scaled by its span above "
            "the background): finite",
            "nan": "a few NaN pixels are left out of the estimate and stay NaN in the output",
            "inf": "a few inf pixels are left out of the estimate and stay NaN in the output",
        },
        check=lambda r, x: (finite if np.isfinite(np.asarray(x, float)).all() else nan_kept)(r, x),
    ),
    # ------------------------------------------------------------------ stack tools
    _arr(
        "apply_filters",
        lambda x, tmp, **kw: _nu().apply_filters(x, **{"filters": ("median", "gaussian"), **kw}),
        "stack",
        options={"median_size": "count", "gaussian_sigma": "nonneg", "filters": "choice"},
        documented={**_STACK_OK, **_NAN_KEPT},
        check=_stack_check,
    ),
    _arr(
        "match_histograms_across_time",
        lambda x, tmp, **kw: _nu().match_histograms_across_time(x, **kw),
        "stack",
        options={"reference_t": "channel"},
        documented={**_STACK_OK, **_NAN_KEPT},
        check=_stack_check,
    ),
    _arr(
        "max_z_project",
        lambda x, tmp, **kw: _nu().max_z_project(x, **kw),
        "stack",
        documented={**_STACK_OK, **_MAX_Z_NAN},
        check=_max_z_check,
    ),
    _arr(
        "correct_intra_stack_z_drift",
        lambda x, tmp, **kw: _nu().correct_intra_stack_z_drift(x, return_shifts=True, **kw),
        "stack",
        options={"registration_channel": "channel", "upsample_factor": "count"},
        documented={**_STACK_OK, **_NAN_MOVED},
        check=_shifted_check,
    ),
    _arr(
        "register_stack",
        lambda x, tmp, **kw: _nu().register_stack(
            x, **{"registration_channel": 0, "return_shifts": True, **kw}
        ),
        "stack",
        options={"registration_channel": "channel", "reference_t": "channel"},
        documented={**_STACK_OK, **_NAN_MOVED},
        check=_shifted_check,
    ),
    _arr(
        "apply_shifts",
        lambda x, tmp, **kw: _nu().apply_shifts(_D()["stack"], x, **kw),
        "shifts",
        classes=("ndim", "nan", "inf", "empty", "complex", "object"),
        options={"interpolation_order": "count", "mode": "choice"},
    ),
    _arr(
        "apply_stack_tool",
        lambda x, tmp, tool="max-z", **kw: _nu().apply_stack_tool(tool, x, **kw)[0],
        "stack",
        options={"tool": "choice"},
        documented={**_STACK_OK, **_MAX_Z_NAN},
        check=_max_z_check,
    ),
    # ------------------------------------------------------------------ files (issue 20)
    _arr(
        "resolve_spectral_axis",
        lambda x, tmp: _nu().resolve_spectral_axis(None, {}, _D()["axis"].size, spectral_axis=x),
        "axis",
        classes=(
            "nan",
            "inf",
            "empty",
            "complex",
            "object",
            "float16",
            "negative",
            "huge",
            "tiny",
        ),
        documented={
            "object": "an object array of numbers is used as float64",
            "float16": "used as float64",
            "negative": "an axis may have any sign (e.g. Raman shifts): kept",
            "huge": "an axis has no assumed unit: kept as given",
            "tiny": "an axis has no assumed unit: kept as given",
        },
        check=_finite_axis,
    ),
]

#: File classes of an input only (readers).
IN_CLASSES = ("missing", "empty_file", "truncated", "mislabelled", "folder")
#: ... of a second input (spectra / seeds CSV) of a file function.
SECOND_CLASSES = ("second_missing", "second_folder", "out_is_second")
_MAPS = {"target": 2850.0, "numerator": 2850.0, "denominator": 2950.0, "n_clusters": 2}


def _file(name, call, kind, classes=FILE_CLASSES, **kw) -> Entry:
    return Entry(name, "file", call, kind, classes, **kw)


def _out(tmp):
    return tmp / "out.ome.tif"


def _writer_call(name: str, base: dict, second: str | None, prefix: tuple) -> Callable:
    """call(input, tmp, out=None, second=None, **options) of a file-level function."""

    def call(p, tmp, out=None, second_path=None, **kw):
        args = [*prefix, p, out or _out(tmp)]
        extra = dict(base)
        if second == "positional":
            args.append(second_path)
        elif second == "seeds":
            extra["seeds"] = second_path
        return getattr(_nu(), name)(*args, **{**extra, **kw})

    return call


def _expanded_as_given(p: Path) -> list[Path]:
    out = _nu().expand_inputs(p)
    assert out == [Path(p)], f"expand_inputs({p}) gave {out}"
    return out


def _batch_failed(p: Path, tmp: Path) -> Any:
    summary = _nu().run_batch(_nu().apply_stack_tool_file, [p], tmp / "o", prefix=("max-z",))
    assert not summary.ok and not list((tmp / "o").glob("*.tif")), summary
    return summary


FILE_ENTRIES: list[Entry] = [
    _file("read_image", lambda p, tmp: _nu().read_image(p), "two", IN_CLASSES),
    _file("read_lazy", lambda p, tmp: _nu().read_lazy(p)[0].compute(), "two", IN_CLASSES),
    _file(
        "read_zarr", lambda p, tmp: _nu().read_zarr(p), "zarr", ("missing", "mislabelled", "folder")
    ),
    _file("read_sidecar", lambda p, tmp: _nu().read_sidecar(p), "json", IN_CLASSES),
    _file("read_spectra_csv", lambda p, tmp: _nu().read_spectra_csv(p), "csv", IN_CLASSES),
    _file("load_spectra", lambda p, tmp: _nu().load_spectra(p, n_channels=8), "csv", IN_CLASSES),
    _file("load_ste", lambda p, tmp: _nu().load_ste(p), "npy", IN_CLASSES),
    _file(
        "read_pixel_spectra",
        lambda p, tmp: _nu().read_pixel_spectra(p, image_shape=(12, 12)),
        "rows",
        IN_CLASSES,
    ),
    *(
        _file(
            name,
            _writer_call(name, base, second, prefix),
            kind,
            FILE_CLASSES + (SECOND_CLASSES if second else ()),
            options=opts,
        )
        for name, kind, base, second, prefix, opts in (
            (
                "unmix",
                "two",
                {"n_bootstrap": 0, "signal_percentile": 95.0, "verbose": False},
                None,
                (),
                {
                    "n_bootstrap": "count",
                    "source_channel": "channel",
                    "compression_level": "count",
                    "output_format": "choice",
                },
            ),
            (
                "unmix_picasso",
                "mix",
                {"max_iter": 3, "pixel_bin_size": 4, "verbose": False},
                None,
                (),
                {"max_iter": "count", "compression_level": "count"},
            ),
            ("nnls_unmix_file", "hyper", {}, "positional", (), {"output_format": "choice"}),
            (
                "seeded_nnmf_file",
                "hyper",
                NNMF,
                "positional",
                (),
                {"max_iter": "count", "solver": "choice"},
            ),
            (
                "random_nnmf_file",
                "hyper",
                {"k": 2, **NNMF},
                None,
                (),
                {"k": "count", "max_iter": "count"},
            ),
            ("nnmf_file", "hyper", NNMF, "seeds", (), {"max_iter": "count"}),
            (
                "map_report_file",
                "hyper",
                {**_MAPS, "report": False},
                None,
                (),
                {"n_clusters": "count", "window": "nonneg"},
            ),
            (
                "stnmf_file",
                "npy",
                {"r": 2, "num_iter": 3, "figure": False},
                None,
                (),
                {"r": "count", "num_iter": "count"},
            ),
            ("apply_stack_tool_file", "two", {}, None, ("max-z",), {}),
            ("convert_time_encoded_stack_to_channel_stack", "timech", {}, None, (), {}),
        )
    ),
    _file(
        "read_envi",
        lambda p, tmp: _nu().read_envi(p)[0].compute(),
        "envi",
        ("missing", "empty_file", "mislabelled", "folder"),
    ),
    _file(
        "read_zarr_levels",
        lambda p, tmp: _nu().read_zarr_levels(p),
        "zarr",
        ("missing", "mislabelled", "folder"),
    ),
    _file("read_axis_file", lambda p, tmp: _nu().read_axis_file(p), "json", IN_CLASSES),
    _file("reapply_plan", lambda p, tmp: _nu().reapply_plan(p), "json", IN_CLASSES),
    _file(
        "reapply",
        lambda p, tmp: _nu().reapply(p, [tmp / "in.ome.tif"], output_dir=tmp / "o"),
        "json",
        IN_CLASSES,
    ),
    _file(
        "expand_inputs",
        lambda p, tmp: _expanded_as_given(p),
        "two",
        ("missing", "folder"),
        documented={"missing": "a path named explicitly is kept, so the batch reports it failed"},
    ),
    _file(
        "run_batch",
        lambda p, tmp: _batch_failed(p, tmp),
        "two",
        ("missing", "empty_file", "truncated", "mislabelled", "folder"),
        documented=dict.fromkeys(
            ("missing", "empty_file", "truncated", "mislabelled", "folder"),
            "the input is reported failed in the summary (ok is False); the batch goes on",
        ),
    ),
    _file(
        "save_result",
        lambda p, tmp, out=None, **kw: _nu().save_result(
            _nu().nnls_unmix(_D()["cube"], _D()["H"]), out or _out(tmp), **kw
        ),
        "result",
        ("out_readonly", "out_folder_missing", "out_exists"),
        options={"slice_axis": "choice", "output_format": "choice"},
    ),
]

#: CLI commands: (input kind, extra positional args by kind, a count option flag)
CLI_COMMANDS = {
    "filter": ("two", (), "--median-size"),
    "match-histograms": ("two", (), "--reference-t"),
    "max-z": ("two", (), None),
    "z-drift": ("two", (), "--upsample-factor"),
    "register": ("two", (), "--upsample-factor"),
    "unmix": ("two", (), "--n-bootstrap"),
    "picasso": ("mix", (), "--max-iter"),
    "nnls": ("hyper", ("csv",), None),
    "nnmf": ("hyper", (), "--k"),
    "stnmf": ("npy", (), "--r"),
    "maps": ("hyper", (), "--n-clusters"),
    "convert-time-to-channels": ("timech", (), None),
}
CLI_CLASSES = ("missing", "folder", "mislabelled", "out_is_input", "out_exists", "out_readonly")


def _cli_entries() -> list[Entry]:
    out = []
    for name, (kind, _, flag) in CLI_COMMANDS.items():
        opts = {flag: "count"} if flag else {}
        out.append(Entry(f"cli {name}", "cli", None, kind, CLI_CLASSES, options=opts))
    return out


HOOK_ENTRIES: list[Entry] = [
    Entry(
        "get_reader",
        "hook",
        None,
        "two",
        IN_CLASSES,
        documented={
            "missing": "not claimed (None): napari says no reader found",
            "folder": "not claimed (None): napari tries the folder readers",
        },
        check=returned_none,
    ),
    Entry(
        "get_zarr_reader",
        "hook",
        None,
        "zarr",
        ("missing", "mislabelled", "folder"),
        documented={
            "missing": "not claimed (None): napari says no reader found",
            "mislabelled": "a file named *.zarr is not claimed (None)",
        },
        check=returned_none,
    ),
    Entry(
        "write_image_layer",
        "hook",
        None,
        "layer",
        (
            "ndim",
            "empty",
            "complex",
            "object",
            "bool",
            "float16",
            "rgb",
            "out_readonly",
            "out_folder_missing",
            "out_exists",
        ),
        documented={"bool": "saved as uint8 0/1", "float16": "saved as float32"},
        check=written,
    ),
    Entry(
        "write_shapes_layer",
        "hook",
        None,
        "shapes",
        ("short_types", "short_features", "ragged", "out_readonly", "out_exists"),
    ),
]

#: Exported names not in the matrix, and why.
EXEMPT = {
    "report_path_from_output_path": "path arithmetic only (no data, no options)",
    "show_all_channels_in_napari": "opens a napari viewer; its file errors are read_image's",
    "show_unmixed_channels_in_napari": "opens a napari viewer; its file errors are read_image's",
    "Suggestions": "a result container returned by suggest_rois",
    "UnmixResult": "a result container returned by the NNMF / NNLS functions",
    "SeedSet": "built by prepare_seeds (in the matrix)",
    "ComponentSeed": "checked when used, by prepare_seeds / seeded_nnmf (in the matrix)",
}


def all_entries() -> list[Entry]:
    return [*ENTRIES, *FILE_ENTRIES, *_cli_entries(), *HOOK_ENTRIES]


# ----------------------------------------------------------------------------- the docs
_KIND_TITLES = {
    "array": "Array-level functions and classes",
    "file": "File-level functions and readers",
    "cli": "Command line",
    "hook": "npe2 hooks (napari reader / writers)",
}


def summary_markdown() -> str:
    """The matrix's counts as Markdown (``docs/reliability.md`` holds exactly this)."""
    entries = all_entries()
    lines: list[str] = []
    total = {"cases": 0, "error": 0, "documented": 0, "open": 0}
    for kind, title in _KIND_TITLES.items():
        lines += [f"### {title}", "", "| entry point | cases | clear error | documented result | open |",
                  "|---|---:|---:|---:|---:|"]  # fmt: skip
        for e in (e for e in entries if e.kind == kind):
            counts = {"error": 0, "documented": 0, "open": 0}
            for _, cls, _ in e.cases():
                counts[e.expected(cls)] += 1
            n = sum(counts.values())
            total["cases"] += n
            for k, v in counts.items():
                total[k] += v
            lines.append(
                f"| `{e.name}` | {n} | {counts['error']} | {counts['documented']} | "
                f"{counts['open']} |"
            )
        lines.append("")
    head = [
        f"**{total['cases']} cases** over {len(entries)} entry points: "
        f"{total['error']} answered by a clear error, {total['documented']} by a documented "
        f"result, {total['open']} open (run as strict expected failures naming their issue).",
        "",
    ]
    documented = ["### Documented results", "", "| entry point | input | result |", "|---|---|---|"]
    opened = ["### Open cases", "", "| entry point | case | issue |", "|---|---|---|"]
    for e in entries:
        by_text: dict[str, list[str]] = {}
        run = {c for _, c, _ in e.cases()}
        for cls, text in e.documented.items():
            if cls in run and cls not in e.open:
                by_text.setdefault(text, []).append(cls)
        for text, classes in by_text.items():
            documented.append(f"| `{e.name}` | {', '.join(classes)} | {text} |")
        for cls, text in e.open.items():
            opened.append(f"| `{e.name}` | {cls} | {text} |")
    exempt = ["### Not in the matrix", "", "| name | why |", "|---|---|"]
    exempt += [f"| `{name}` | {why} |" for name, why in sorted(EXEMPT.items())]
    return "\n".join([*head, *lines, *documented, "", *opened, "", *exempt, ""])
