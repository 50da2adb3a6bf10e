"""The ``STNMF`` class: spike-triggered non-negative matrix factorization, ``stnmf`` names.

Users of the ``stnmf`` package switch by changing the import::

    from napari_unmix import STNMF          # instead of: from stnmf import STNMF
    s = STNMF(ste, r=20, pixel_size=30)     # ste: x × y × spikes
    s.subunits, s.diameters, s.plot()

The factorisation is :mod:`napari_unmix.core.stnmf` (the same sparse semi-NMF with
AF-HALS, computed through the stixel Gram matrix so an iteration does not read the whole
ensemble); the subunit properties are :mod:`.properties`. The parameters and their
defaults are :class:`~napari_unmix.core.stnmf.StnmfOptions`.

Examples are in :mod:`napari_unmix.api.stnmf`, which re-exports every public name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ...core import stnmf as core
from ...core.progress import Steps, run
from ...core.result import Result, ResultLayer
from ...core.stnmf import (
    StnmfOptions,
    check_ensemble_values,
    check_memory,
    format_bytes,
    stnmf_memory,
)
from ...core.validate import check_array, check_int
from .properties import SubunitProperties, modules_table

__all__ = ["STNMF"]

_O = StnmfOptions
#: RGBA of the STA outline in napari (grey: black vanished on the dark canvas)
STA_OUTLINE_COLOR = (0.62, 0.62, 0.62, 1.0)


class STNMF(SubunitProperties):
    """Spike-triggered non-negative matrix factorization of an ensemble ``ste`` (x, y, m).

    Parameters
    ----------
    ste : (x, y, m) array_like
        One stimulus frame per spike. NaN stixels (or a masked array) are left out of the
        factorisation and are NaN in the modules.
    r : int
        Number of modules.
    init : {"nnsvdlrc", "random"} or (r, x, y) array
        Initial modules.
    flipsign, sort : bool
        After factorising, give modules the sign of their mean weight / order them
        (localized first, by absolute mean weight).
    factorize : bool
        Factorise at construction.
    method : str
        ``"SparseSemiNMF"`` (the only method).
    sparsity : float
        L1 weight on the modules (larger: smaller, sparser modules).
    seed : int or None
        Random seed (random init only).
    dtype : str
        Compute precision.
    pixel_size : float
        Stixel size in µm (0: unknown; sizes then come in stixels with a warning).
    moransi_threshold : float
        Modules with Moran's I above this are localized (subunits).
    num_iter : int
        Iterations of :meth:`factorize` at construction.
    callbacks : callable or list, optional
        ``callback(self, i, callback_data=..., **callback_kwargs)``; returning ``False``
        stops (the ``stnmf`` convention).
    formulation : {"gram", "direct"}
        How iterations form their products (see :mod:`napari_unmix.core.stnmf`).
    smoothing : float
        Width (stixels) of a Gaussian that smooths every spike's frame before the
        factorisation (0: none, as the ``stnmf`` package). White-noise stimulus noise is
        independent from stixel to stixel while subunits are smooth, so smoothing by
        half a stixel recovers far more subunits from few spikes (``docs/stnmf.md``);
        diameters are corrected for it.
    normalize : bool
        Divide the (smoothed) ensemble by its standard deviation first, so ``sparsity``
        is in units of the stimulus noise and results do not depend on the stimulus unit.
    min_weight_z : float
        A subunit must also have a mean weight this many standard errors above zero
        (:attr:`weight_z`; 0: Moran's I alone decides, as the ``stnmf`` package). Needed
        with ``smoothing``, which makes noise modules smooth too.
    min_weight_ratio : float
        ... and at least this fraction of the largest module's ``weight_z`` (with
        ``min_weight_z`` > 0): noise modules of a strongly driven cell reach z of 10-20.
    blas_threads : int or None
        BLAS threads of the solver (1 is fastest on a busy machine; None: BLAS default).

    Raises
    ------
    STNMFMemoryError
        Before allocating anything large, when the ensemble copy and the
        stixels × stixels Gram matrix would not fit in memory (the message names the
        shape; a mis-oriented ensemble is the usual cause).
    ValueError
        For a zero, constant or overflowing ensemble, NaN everywhere, or too few spikes.
    """

    def __init__(
        self,
        ste: Any,
        r: int = _O.r,
        init: str | np.ndarray | None = _O.init,
        flipsign: bool = _O.flipsign,
        sort: bool = _O.sort,
        factorize: bool = True,
        *,
        method: str = _O.method,
        sparsity: float = _O.sparsity,
        seed: int | None = _O.seed,
        dtype: str = _O.dtype,
        pixel_size: float = _O.pixel_size,
        moransi_threshold: float = _O.moransi_threshold,
        num_iter: int = _O.num_iter,
        callbacks: Callable | list[Callable] | None = None,
        formulation: str = _O.formulation,
        blas_threads: int | None = _O.blas_threads,
        smoothing: float = _O.smoothing,
        normalize: bool = _O.normalize,
        min_weight_z: float = _O.min_weight_z,
        min_weight_ratio: float = _O.min_weight_ratio,
    ):
        check_array("ste", ste)
        given = {k: v for k, v in locals().items() if k != "init" or isinstance(v, str)}
        r = check_int("r", r)  # r < 2: the message below names the ensemble's size too
        given["r"] = max(r, 2)
        self.options = opts = StnmfOptions.pick(given)  # the one place options are checked
        if np.ndim(ste) != 3:
            raise ValueError(
                f"expected an ensemble of shape (x, y, spikes), got {np.shape(ste)=}; "
                "stack the spike-triggered frames along the last axis"
            )
        self.x, self.y, self.m = (int(s) for s in np.shape(ste))
        self.r, self.sparsity, self.dtype = r, opts.sparsity, opts.dtype
        self.smoothing, self.normalize = opts.smoothing, opts.normalize
        self.min_weight_z, self.min_weight_ratio = opts.min_weight_z, opts.min_weight_ratio
        check_size(self.x, self.y, self.m, self.r, self.dtype)
        self.method, self.formulation = opts.method, opts.formulation
        self.blas_threads = opts.blas_threads
        self.autoflip, self.autosort = opts.flipsign, opts.sort
        self.num_iter, self.callbacks = opts.num_iter, callbacks
        if np.ma.isMaskedArray(ste):
            data = np.ma.filled(ste.astype(self.dtype), np.nan)
        else:
            data = np.asarray(ste, dtype=self.dtype)
        flat = data.reshape(self.x * self.y, self.m)
        self.mask = np.isfinite(flat).all(axis=1)
        self.masked = not self.mask.all()
        if not self.mask.any():
            raise ValueError("every stixel contains NaN or inf; nothing to factorise")
        self.v = flat[self.mask] if self.masked else flat
        n = self.v.shape[0]
        if self.r < 2 or self.m < self.r or n < self.r:
            raise ValueError(
                f"need 2 <= r <= spikes and stixels, got r={self.r}, {self.m} spikes, "
                f"{n} valid stixels; lower r or record more spikes"
            )
        self.pixel_size = opts.pixel_size
        self.moransi_threshold = opts.moransi_threshold
        check_ensemble_values(
            self.v, dtype=self.dtype, overflow=not self.normalize,
            source_dtype=np.result_type(ste),
        )  # fmt: skip
        raw = self.v
        if self.smoothing > 0 or self.normalize:  # normalize: any stimulus unit works
            self.v = prepare(data, self.mask, self.smoothing, self.normalize)
        with np.errstate(invalid="ignore"):
            sta = np.full(self.x * self.y, np.nan, dtype=np.float64)
            sta[self.mask] = raw.mean(axis=1, dtype=np.float64)
        self._sta = sta.reshape(self.x, self.y)
        self._sta.setflags(write=False)
        self._g: np.ndarray | None = None
        self._w = np.zeros((n, self.r), dtype=self.dtype)
        self._signs = np.ones(self.r)
        self._h: np.ndarray | None = None
        self._res: float | None = None
        self.history: list[float] = []
        self.n_iter = 0
        self._cache: dict[str, Any] = {}
        self.reseed(seed)
        self.is_initialized = False
        self.init_method = None
        self.seconds = 0.0
        if init is not None:
            self.init(init)
        if factorize:
            self.factorize(self.num_iter)

    # ------------------------------------------------------------------ factorisation
    @property
    def gram(self) -> np.ndarray:
        """Gram matrix ``V Vᵀ`` of the valid stixels (computed once, on first use)."""
        if self._g is None:
            self._g = core.gram(self.v, blas_threads=self.blas_threads)
        return self._g

    def reseed(self, seed: int | None = None) -> None:
        """Re-seed the random generator used by ``init="random"``."""
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def init(self, w0: str | np.ndarray = _O.init) -> None:
        """Initialise the modules (``"nnsvdlrc"``, ``"random"`` or an (r, x, y) array)."""
        self.init_method = w0 if isinstance(w0, str) else "given"
        if not isinstance(w0, str):
            w0 = np.asarray(w0, dtype=self.dtype)
            if w0.shape != (self.r, self.x, self.y):
                raise ValueError(
                    f"expected initial modules of shape {(self.r, self.x, self.y)}, got {w0.shape=}"
                )
            w0 = w0.reshape(self.r, -1)[:, self.mask].T
        self._w = core.init_modules(
            self.gram, self.r, init=w0, m=self.m, sparsity=self.sparsity,
            random_state=self.rng, dtype=self.dtype, blas_threads=self.blas_threads,
        )  # fmt: skip
        self._signs = np.ones(self.r)
        self._changed()
        self.is_initialized = True

    def iter_factorize(
        self,
        num_iter: int | None = None,
        callback: Callable | list[Callable] | None = None,
        callback_data: dict | None = None,
        callback_kwargs: dict | None = None,
    ) -> Steps:
        """Generator form of :meth:`factorize`: yields a
        :class:`~napari_unmix.core.progress.Progress` per iteration (``partial``: the
        residual)."""
        num_iter = self.num_iter if num_iter is None else int(num_iter)
        if not self.is_initialized:
            self.init()
        callback = self.callbacks if callback is None else callback
        user = [callback] if callable(callback) else list(callback or [])
        data = callback_data if isinstance(callback_data, dict) else {}
        kwargs = dict(callback_kwargs or {})

        def bridge(i: int, res: float, w: np.ndarray) -> bool:
            self._w, self._res = w, res
            self._changed(keep_res=True)
            return all(cb(self, i, callback_data=data, **kwargs) is not False for cb in user)

        t0 = time.perf_counter()
        result = yield from core.iter_sparse_seminmf(
            self.v, self.r, init=self._w * 1, sparsity=self.sparsity, num_iter=num_iter,
            dtype=self.dtype, formulation=self.formulation, g=self.gram,
            blas_threads=self.blas_threads, callbacks=[bridge] if user else None,
        )  # fmt: skip
        self._w, self._h, self._res = result.modules, result.weights, result.residual
        self._signs = np.ones(self.r)
        self.history, self.n_iter = result.history, result.n_iter
        self._cache.clear()
        self.seconds = time.perf_counter() - t0
        if self.autoflip:
            self.flipsign()
        if self.autosort:
            self.sort()

    def factorize(
        self,
        num_iter: int | None = None,
        callback: Callable | list[Callable] | None = None,
        callback_data: dict | None = None,
        callback_kwargs: dict | None = None,
        disp: bool = True,
        tqdm_args: dict | None = None,
    ) -> None:
        """Run ``num_iter`` AF-HALS iterations (then flip signs and sort if enabled).

        ``callback``, ``callback_data``, ``callback_kwargs`` as in ``stnmf``; ``disp`` and
        ``tqdm_args`` are accepted and ignored (use :meth:`iter_factorize` for progress).
        """
        run(self.iter_factorize(num_iter, callback, callback_data, callback_kwargs))

    def _changed(self, keep_res: bool = False) -> None:
        self._h = None
        self._cache.clear()
        if not keep_res:
            self._res = None

    def flipsign(self) -> None:
        """Give every module the sign of its mean weight (weights become mostly positive)."""
        self._signs = self._signs * np.where(self.weights.mean(axis=1) < 0, -1.0, 1.0)
        self._h = None
        self._cache.clear()

    def sort(self) -> None:
        """Order modules: localized first, each group by decreasing absolute mean weight."""
        mean = np.abs(self.weights.mean(axis=1))
        loc = np.isin(np.arange(self.r), self.localized)
        order = np.lexsort((-mean, ~loc))
        h = self._h[order]
        self._w, self._signs = self._w[:, order], self._signs[order]
        self._cache.clear()
        self._h = h

    # ------------------------------------------------------------------ factors
    @property
    def modules(self) -> np.ndarray:
        """Spatial modules (r, x, y); NaN at masked stixels."""
        if "modules" not in self._cache:
            out = np.full((self.r, self.x * self.y), np.nan, dtype=self.dtype)
            out[:, self.mask] = (self._w * self._signs.astype(self.dtype)).T
            out = out.reshape(self.r, self.x, self.y)
            out.setflags(write=False)
            self._cache["modules"] = out
        return self._cache["modules"]

    @property
    def weights(self) -> np.ndarray:
        """Per-spike weights (r, m), least squares with unit-norm rows (times the signs)."""
        if self._h is None:
            self._h = core.solve_weights(self.v, self._w)
        return self._h * self._signs.astype(self.dtype)[:, None]

    @property
    def w(self) -> np.ndarray:
        """Modules as an (stixels, r) matrix (``stnmf`` name)."""
        return self._w * self._signs.astype(self.dtype)

    @property
    def h(self) -> np.ndarray:
        """Weights (``stnmf`` name)."""
        return self.weights

    @property
    def res(self) -> float:
        """Frobenius reconstruction error ``‖V − W H‖``."""
        if self._res is None:
            self._res = self.residual()
        return self._res

    def residual(self) -> float:
        """Recompute ``‖V − W H‖`` directly from the ensemble (in chunks of spikes)."""
        w, h = self.w.astype(np.float64), self.weights
        total = 0.0
        for start in range(0, self.m, 8192):
            sl = slice(start, start + 8192)
            total += float(np.sum((self.v[:, sl] - w @ h[:, sl]) ** 2))
        self._res = float(np.sqrt(total))
        return self._res

    @property
    def pixel_size(self) -> float:
        return self._pixel_size

    @pixel_size.setter
    def pixel_size(self, um: float) -> None:
        if um is None or um < 0:
            raise ValueError(f"pixel_size must be >= 0 µm (0: unknown), got {um!r}")
        self._pixel_size = float(um)

    # ------------------------------------------------------------------ outputs
    def plot(
        self,
        full: bool = True,
        colors: str = "hsv",
        cmap: str | None = None,
        truth: np.ndarray | None = None,
    ):
        """Figure: STA with outlines, modules, weights (if ``full``), Moran's I; ``truth``
        (s, x, y) adds the true subunit outlines."""
        from ...plot.stnmf import plot_stnmf

        return plot_stnmf(self, full=full, colors=colors, cmap=cmap, truth=truth)

    def to_result(self, source: str = "") -> Result:
        """The STA, the modules and the outlines as layers, with the report and the module
        table (``tables["modules"]``).

        The outlines layer (shapes) holds the STA outline (grey: readable on napari's dark
        and light canvases) and one polygon per subunit in its colour, with ``properties``
        ``module`` and ``kind``.
        """
        import warnings

        from .properties import PixelSizeWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PixelSizeWarning)
            report, rows = self.report, modules_table(self)
        lim = float(np.nanmax(np.abs(self.modules))) or 1.0
        slim = float(np.nanmax(np.abs(self.sta))) or 1.0
        layers = [
            ResultLayer(
                "STA", np.asarray(self.sta, np.float32), colormap="PiYG", blending="translucent",
                contrast_limits=(-slim, slim), axes="XY", role="sta",
            ),
            ResultLayer(
                "modules", np.array(self.modules), colormap="PiYG", blending="translucent",
                contrast_limits=(-lim, lim), axes="CXY", role="map",
            ),
            self._outlines_layer(),
        ]  # fmt: skip
        return Result("STNMF", layers, report=report, source=source, tables={"modules": rows})

    def _outlines_layer(self) -> ResultLayer:
        from ...plot.stnmf import subunit_colors

        shapes, colors, kinds = [], [], {"module": [], "kind": []}
        if len(self.sta_outline) >= 3:
            shapes.append(np.asarray(self.sta_outline))
            colors.append(list(STA_OUTLINE_COLOR))
            kinds["module"].append(-1)
            kinds["kind"].append("STA")
        cols = subunit_colors(self.num_subunits)
        for k, c, o in zip(self.localized, cols, self.outlines, strict=True):
            if len(o) >= 3:
                shapes.append(np.asarray(o))
                colors.append(list(c))
                kinds["module"].append(int(k))
                kinds["kind"].append("subunit")
        extra = {
            "shape_type": "polygon", "edge_color": np.array(colors).reshape(-1, 4),
            "face_color": "transparent", "edge_width": 0.08,
            "properties": {k: np.array(v) for k, v in kinds.items()},
        }  # fmt: skip
        return ResultLayer(
            "outlines", shapes, kind="shapes", axes="XY", role="outline", extra=extra
        )


# ----------------------------------------------------------------------------- helpers
def check_size(x: int, y: int, m: int, r: int, dtype: str) -> None:
    """Refuse, before any large allocation, an ensemble whose Gram matrix cannot fit."""
    n = x * y
    need = stnmf_memory(n, m, r, dtype=dtype)
    hint = ""
    if n > m:
        hint = (
            f"; it has more stixels than spikes: if the spikes are not the last axis, move "
            f"them there (the long axis is spikes: np.moveaxis(ste, {int(np.argmax((x, y, m)))}, -1))"
        )
    check_memory(
        need,
        what=(
            f"STNMF of an ensemble of shape ({x}, {y}, {m}) read as (x, y, spikes) = {n} "
            f"stixels × {m} spikes (a {n} × {n} Gram matrix of {format_bytes(8 * n * n)} in "
            f"float64){hint}"
        ),
    )


def prepare(data: np.ndarray, mask: np.ndarray, smoothing: float, normalize: bool) -> np.ndarray:
    """Valid stixels × spikes of ``data`` (x, y, m), smoothed in x, y, and scaled to unit SD."""
    from scipy import ndimage

    x, y, m = data.shape
    if smoothing > 0:
        filled = np.where(mask.reshape(x, y, 1), data, 0).astype(data.dtype, copy=False)
        data = ndimage.gaussian_filter(filled, (smoothing, smoothing, 0), mode="constant")
    v = data.reshape(x * y, m)[mask]
    if normalize:
        sd = float(v.std(dtype=np.float64))
        v = v / v.dtype.type(sd) if sd > 0 else v
    return np.ascontiguousarray(v)
