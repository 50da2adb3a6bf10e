"""Apply a bleed-through correction to a TZCYX stack (numpy or lazy dask), diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from dask import is_dask_collection as _is_dask

from ..axes import validate_tzcyx
from ..mi import mutual_information
from ..validate import check_option_types
from .estimators import _pearson

__all__ = ["apply_correction", "correct_values", "correction_diagnostics"]


def _per_t(value: Any, n_t: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.full(n_t, arr[0])
    if arr.size != n_t:
        raise ValueError(
            f"{name} must be a scalar or one value per time point ({n_t}), got {arr.size}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {arr.tolist()}")
    return arr


def _resolve_dtype(output_dtype: Any, input_dtype: np.dtype) -> np.dtype:
    if isinstance(output_dtype, str) and output_dtype.lower() in {"same", "input"}:
        return np.dtype(input_dtype)
    try:
        dtype = np.dtype(output_dtype)
    except TypeError as err:
        raise ValueError(
            f"unknown output_dtype {output_dtype!r}; e.g. 'float32', 'uint16'"
        ) from err
    if dtype.kind not in "uif":
        raise ValueError(f"output_dtype must be a numeric dtype, got {output_dtype!r}")
    return dtype


def _cast(arr: Any, dtype: np.dtype) -> Any:
    """Cast to ``dtype``; integers are rounded and clipped to the type's range (no wrap)."""
    if arr.dtype == dtype:
        return arr
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        arr = np.rint(arr).clip(info.min, info.max)
    return arr.astype(dtype)


def correct_values(
    src: Any, tgt: Any, a: Any, ar: Any = None, det: Any = None, clip: bool = True
) -> tuple[Any, Any]:
    """The bleed-through formula: corrected (source, target) from measured ones.

    ``target - a * source``; with a reverse coefficient ``ar`` the 2x2 inverse
    ``((source - ar * target) / det, (target - a * source) / det)``, ``det = 1 - a * ar``
    (given or computed). The corrected source is None without ``ar``. numpy or dask,
    arrays or scalars broadcast together.

    Examples
    --------
    >>> correct_values(np.float32(10), np.float32(5), 0.3)
    (None, np.float32(2.0))
    """
    new_t = tgt - a * src
    new_s = None
    if ar is not None:
        det = 1 - a * ar if det is None else det
        new_s = (src - ar * tgt) / det
        new_t = new_t / det
    if clip:
        new_t = new_t.clip(0, None)
        new_s = None if new_s is None else new_s.clip(0, None)
    return new_s, new_t


def apply_correction(
    data: Any,
    alpha: float | Sequence[float] | np.ndarray,
    /,
    *,
    source_channel: int = 0,
    target_channel: int = 1,
    alpha_reverse: float | Sequence[float] | np.ndarray | None = None,
    clip_negative: bool = True,
    output_dtype: Any = "float32",
    out: np.ndarray | None = None,
) -> Any:
    """Remove the bleed-through of one channel into another from a TZCYX stack.

    Parameters
    ----------
    data : ndarray or dask array, shape (T, Z, C, Y, X)
        Measured stack (any numeric dtype; integers are converted before subtracting).
    alpha : float or sequence of float
        Bleed-through of the source into the target, one value or one per time point.
    source_channel, target_channel : int
        Channel indices.
    alpha_reverse : float or sequence of float, optional
        Bleed-through of the target into the source. When given, both channels are
        corrected by inverting ``[[1, alpha_reverse], [alpha, 1]]``; ``alpha *
        alpha_reverse`` must be < 1.
    clip_negative : bool
        Clip corrected channels at 0.
    output_dtype : str or dtype
        ``"float32"`` (default), any numeric dtype (integers: rounded and clipped to the
        type's range), or ``"same"`` for the input dtype.
    out : ndarray, optional
        numpy only: write the result into this array (shape of ``data``, dtype
        ``output_dtype``) instead of a new one. It may be ``data`` itself, for a caller
        that owns ``data`` (e.g. a stack it has just read from a file): this saves one
        stack-sized allocation.

    Returns
    -------
    array of the input's type
        A new stack; all other channels are copied (cast to ``output_dtype``). A dask
        input stays lazy, chunked by whole Y×X planes.

    Examples
    --------
    >>> d = np.zeros((2, 1, 2, 2, 2), np.uint16)
    >>> d[:, :, 0], d[:, :, 1] = 100, 50
    >>> apply_correction(d, [0.3, 0.6], output_dtype="uint16")[:, 0, 1, 0, 0].tolist()
    [20, 0]
    """
    check_option_types(apply_correction, locals())
    validate_tzcyx(data, min_channels=2)
    n_t, _, n_c = data.shape[:3]
    s_ch, t_ch = int(source_channel), int(target_channel)
    for name, ch in (("source_channel", s_ch), ("target_channel", t_ch)):
        if not 0 <= ch < n_c:
            raise ValueError(f"{name}={ch} is out of range for {n_c} channels ({data.shape=})")
    if s_ch == t_ch:
        raise ValueError(f"source_channel and target_channel must differ, both are {s_ch}")
    a = _per_t(alpha, n_t, "alpha")
    ar = None if alpha_reverse is None else _per_t(alpha_reverse, n_t, "alpha_reverse")
    det = None
    if ar is not None:
        det = 1.0 - a * ar
        if np.any(det <= 0):
            raise ValueError(
                "alpha * alpha_reverse must be < 1 for the 2x2 mixing matrix to be invertible, "
                f"got {(a * ar).tolist()}; check both coefficients"
            )
    dtype = _resolve_dtype(output_dtype, data.dtype)
    f32 = np.float32

    def col(v: np.ndarray | None) -> np.ndarray | None:
        return None if v is None else v.astype(f32)[:, None, None, None]

    if _is_dask(data):
        import dask.array as da

        if out is not None:
            raise ValueError("out= is for numpy input; a dask result stays lazy")

        x = data
        if x.chunksize[3] != x.shape[3] or x.chunksize[4] != x.shape[4]:
            x = x.rechunk({3: -1, 4: -1})
        new_s, new_t = correct_values(
            x[:, :, s_ch].astype(f32),
            x[:, :, t_ch].astype(f32),
            col(a),
            col(ar),
            col(det),
            clip_negative,
        )
        chans = [_cast(x[:, :, c], dtype) for c in range(n_c)]
        chans[t_ch] = _cast(new_t, dtype)
        if new_s is not None:
            chans[s_ch] = _cast(new_s, dtype)
        return da.stack(chans, axis=2)

    if out is None:
        out = np.empty_like(data, dtype=dtype)  # same memory layout as the input (order K)
    elif not isinstance(out, np.ndarray) or out.shape != data.shape or out.dtype != dtype:
        raise ValueError(
            f"out must be a numpy array of shape {data.shape} and dtype {dtype}, got "
            f"{type(out).__name__} {getattr(out, 'shape', None)} {getattr(out, 'dtype', None)}"
        )
    for t in range(n_t):  # one time point at a time bounds the float32 temporaries
        plane = data[t]
        src = np.asarray(plane[:, s_ch], dtype=f32)  # no copy when already float32
        tgt = np.asarray(plane[:, t_ch], dtype=f32)
        new_s, new_t = correct_values(
            src,
            tgt,
            f32(a[t]),
            None if ar is None else f32(ar[t]),
            None if det is None else f32(det[t]),
            clip_negative,
        )
        for c in range(n_c):
            if c == t_ch:
                out[t, :, c] = _cast(new_t, dtype)
            elif c == s_ch and new_s is not None:
                out[t, :, c] = _cast(new_s, dtype)
            else:
                out[t, :, c] = _cast(plane[:, c], dtype)
    return out


def correction_diagnostics(
    source: np.ndarray,
    target: np.ndarray,
    corrected_target: np.ndarray,
    *,
    mi_bins: int = 64,
) -> dict[str, float]:
    """Pearson correlation and MI of source vs target before and after correction.

    Arguments are matching 1-D samples (e.g. from :func:`sample_voxels`); voxels that are
    not finite in any of them are left out.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s, t = rng.random(4000), rng.random(4000)
    >>> d = correction_diagnostics(s, t + 0.5 * s, t, mi_bins=16)
    >>> d["pearson_before"] > 0.3 > abs(d["pearson_after"])
    True
    """
    s = np.asarray(source, np.float64).ravel()
    t0 = np.asarray(target, np.float64).ravel()
    t1 = np.asarray(corrected_target, np.float64).ravel()
    ok = np.isfinite(s) & np.isfinite(t0) & np.isfinite(t1)  # NaN voxels: left out
    if not ok.all():
        s, t0, t1 = s[ok], t0[ok], t1[ok]
    return {
        "pearson_before": _pearson(s, t0),
        "pearson_after": _pearson(s, t1),
        "mi_before": mutual_information(s, t0, bins=mi_bins),
        "mi_after": mutual_information(s, t1, bins=mi_bins),
        "n_voxels": int(s.size),
    }
