"""Pixel-wise application of PICASSO unmixing matrices, for numpy and dask, and ground-truth metrics.

:func:`apply_unmixing` is the contract other tools build on (e.g. the large-data path):
a pure function of a TZCYX array and an N×N (or T×N×N) matrix that returns a new array
of the same type; dask input stays lazy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..axes import validate_tzcyx
from .checks import _matrix_per_t, validate_channels
from .matlab import replay
from .options import PicassoApplyOptions
from .result import PicassoResult

__all__ = ["apply_picasso", "apply_unmixing", "crosstalk_metrics", "map_selected_channels"]


def map_selected_channels(
    data: Any,
    channels: list[int],
    fn: Callable[[np.ndarray, int], np.ndarray],
    *,
    clip_negative: bool,
    output_dtype: Any,
) -> Any:
    """Replace the selected channels by ``fn(channels_first_block, t)``, plane-wise.

    numpy in → numpy out; dask in → lazy dask out with chunks of whole C×Y×X.
    """
    dtype = np.dtype(output_dtype)

    def block_fn(block: np.ndarray, t0: int) -> np.ndarray:
        out = block.astype(np.float32, copy=True)
        for k in range(block.shape[0]):
            sel = np.moveaxis(block[k][:, channels].astype(np.float32), 1, 0)  # N, Z, Y, X
            res = fn(sel, t0 + k)
            if clip_negative:
                np.maximum(res, 0, out=res)
            out[k][:, channels] = np.moveaxis(res, 0, 1)
        return _cast(out, dtype)

    if hasattr(data, "map_blocks") and hasattr(data, "chunks"):
        arr = data.rechunk({2: -1, 3: -1, 4: -1})
        starts = np.cumsum((0, *arr.chunks[0]))

        def dask_fn(block, block_info=None):
            t0 = int(block_info[0]["chunk-location"][0]) if block_info else 0
            return block_fn(block, int(starts[t0]))

        return arr.map_blocks(dask_fn, dtype=dtype)
    return block_fn(np.asarray(data), 0)


def _cast(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    return out.astype(dtype, copy=False)


def apply_unmixing(
    data: Any,
    matrix: Any,
    /,
    *,
    channels: Sequence[int] | None = None,
    clip_negative: bool = PicassoApplyOptions.clip_negative,
    output_dtype: Any = PicassoApplyOptions.output_dtype,
    background: Any = None,
) -> Any:
    """Apply an unmixing matrix to the selected channels of a TZCYX stack.

    ``out[sel] = matrix @ (data[sel] - background)`` per pixel (without ``background``:
    ``matrix @ data[sel]``), clipped at zero afterwards if ``clip_negative``; other
    channels pass through unchanged. The offsets are not clipped before the matrix: on
    shot-noise-limited data, clipping the noise of the background at zero would add an
    offset only where the background is dark, which the matrix turns into crosstalk.

    Parameters
    ----------
    data : ndarray or dask array, shape (T, Z, C, Y, X)
        Input; never modified. A dask array gives a lazy dask array back (chunks of whole
        C×Y×X planes per time point and z-slice chunk).
    matrix : array, shape (N, N) or (T, N, N)
        Unmixing matrix (one for all time points, or one per time point).
    channels : sequence of int, optional
        The N selected channels, in the matrix's order. Default: all channels.
    clip_negative : bool
        Clip unmixed values below zero.
    output_dtype : dtype
        Default float32; integer types are rounded and clipped to their range.
    background : array, shape (N,) or (T, N), optional
        Offsets subtracted before the matrix.

    Returns
    -------
    ndarray or dask array
        Same shape as ``data``.

    Examples
    --------
    >>> data = np.ones((1, 1, 2, 2, 2), np.float32)
    >>> apply_unmixing(data, [[1.0, -0.5], [0.0, 1.0]])[0, 0, :, 0, 0].tolist()
    [0.5, 1.0]
    """
    validate_tzcyx(data)
    chans = validate_channels(channels, data.shape[2])
    n, n_t = len(chans), data.shape[0]
    mats = _matrix_per_t(matrix, n, n_t).astype(np.float32)
    bgs = None
    if background is not None:
        b = np.asarray(background, dtype=np.float32)
        bgs = np.broadcast_to(b, (n_t, n)) if b.shape == (n,) else b
        if bgs.shape != (n_t, n):
            raise ValueError(f"background must have shape ({n},) or ({n_t}, {n}), got {b.shape}")

    def fn(sel: np.ndarray, t: int) -> np.ndarray:
        if bgs is not None:
            sel = sel - bgs[t][:, None, None, None]
        return np.tensordot(mats[t], sel, axes=(1, 0))

    return map_selected_channels(
        data, chans, fn, clip_negative=clip_negative, output_dtype=output_dtype
    )


def apply_picasso(
    data: Any,
    result: PicassoResult,
    /,
    *,
    clip_negative: bool = PicassoApplyOptions.clip_negative,
    output_dtype: Any = PicassoApplyOptions.output_dtype,
) -> Any:
    """Apply an estimated :class:`PicassoResult` to every time point of ``data``.

    Linear results go through :func:`apply_unmixing`. MATLAB-scheme results replay the
    loop (its transforms and clipping) on every time point, normalised with the
    estimation time point's maxima and backgrounds (``alpha_mode="reference_t"``) so all
    time points are treated alike, then scales by ``result.out_scale``.
    """
    opts = PicassoApplyOptions.pick(locals())
    if result.mode == "linear" or result.out_scale is None:
        return apply_unmixing(
            data, result.matrix, channels=result.channels, background=result.background,
            **opts.as_dict(),
        )  # fmt: skip
    validate_tzcyx(data)
    if data.shape[0] != len(result.fits):
        raise ValueError(
            f"result was estimated for {len(result.fits)} time points, data has {data.shape[0]}"
        )
    scale = result.scale.astype(np.float32)
    bg = result.background.astype(np.float32)
    out_scale = result.out_scale.astype(np.float32)

    def fn(sel: np.ndarray, t: int) -> np.ndarray:
        s = scale[t][:, None, None, None]
        prepared = np.maximum(sel / s - bg[t][:, None, None, None] / s, 0)
        return replay(prepared, result.fits[t]) * out_scale[t][:, None, None, None]

    return map_selected_channels(data, result.channels, fn, **opts.as_dict())


# ----------------------------------------------------------------------------- metrics
def crosstalk_metrics(
    unmixed: np.ndarray, fluorophores: np.ndarray, /, *, signal_fraction: float = 0.05
) -> dict[str, Any]:
    """Compare unmixed channels with the true fluorophores (both N × pixels-shaped).

    Each output channel ``i`` is regressed on all true fluorophores plus a constant:
    ``out_i ≈ Σ_j β_ij F_j + c_i``.

    Returns
    -------
    dict
        ``crosstalk`` — max over i≠j of ``|β_ij / β_ii|``; ``gain`` — ``β_ii`` per
        channel (1 = the fluorophore keeps the intensity it has in its own channel);
        ``clipped_signal_fraction`` — per channel, the fraction of pixels where the true
        fluorophore exceeds ``signal_fraction`` of its maximum but the output is <= 0;
        ``clipped_fraction`` — per channel, the fraction of all pixels <= 0.

    Examples
    --------
    >>> f = np.random.default_rng(0).random((2, 1000))
    >>> m = crosstalk_metrics(f, f)
    >>> round(m["crosstalk"], 6), [round(g, 6) for g in m["gain"]]
    (0.0, [1.0, 1.0])
    """
    n = fluorophores.shape[0]
    out = np.asarray(unmixed, dtype=np.float64).reshape(n, -1)
    f = np.asarray(fluorophores, dtype=np.float64).reshape(n, -1)
    design = np.vstack([f, np.ones(f.shape[1])]).T
    beta = np.linalg.lstsq(design, out.T, rcond=None)[0][:n].T
    ratio = beta / np.diag(beta)[:, None]
    np.fill_diagonal(ratio, 0)
    signal = f > signal_fraction * f.max(axis=1, keepdims=True)
    clipped = out <= 0
    return {
        "crosstalk": float(np.abs(ratio).max()),
        "crosstalk_matrix": ratio.tolist(),
        "gain": np.diag(beta).tolist(),
        "clipped_signal_fraction": ((clipped & signal).sum(1) / signal.sum(1)).tolist(),
        "clipped_fraction": clipped.mean(axis=1).tolist(),
    }
