"""The ``STNMF`` class: spike-triggered non-negative matrix factorization, ``stnmf`` names.

Users of the ``stnmf`` package switch by changing the import::

    from napari_unmix import STNMF          # instead of: from stnmf import STNMF
    s = STNMF(ste, r=20, pixel_size=30)     # ste: x × y × spikes
    s.subunits, s.diameters, s.plot()

The factorisation is :mod:`napari_unmix.core.stnmf` (the same sparse semi-NMF with
AF-HALS, computed through the stixel Gram matrix so an iteration does not read the whole
ensemble); the spatial properties are :mod:`napari_unmix.core.stnmf_props`.

Examples are in :mod:`napari_unmix.api.stnmf`, which re-exports every public name.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Generator
from typing import Any

import numpy as np

from ..core import stnmf as core
from ..core import stnmf_props as props
from ..core.report import describe_array, start_report
from ..core.stnmf_ensemble import check_ensemble_values, check_memory, format_bytes, stnmf_memory
from ..core.validate import check_array, check_option_types

__all__ = ["STNMF", "PixelSizeWarning", "select_sparsity"]


class PixelSizeWarning(UserWarning):
    """A size in µm was asked for but ``pixel_size`` is not set (results in stixels)."""


def _nan_norm(a: np.ndarray, axis: Any) -> np.ndarray:
    return np.sqrt(np.nansum(np.asarray(a, np.float64) ** 2, axis=axis, keepdims=True))


class STNMF:
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
        r: int = 20,
        init: str | np.ndarray | None = "nnsvdlrc",
        flipsign: bool = True,
        sort: bool = True,
        factorize: bool = True,
        *,
        method: str = "SparseSemiNMF",
        sparsity: float = 1.7,
        seed: int | None = 0,
        dtype: str = "float32",
        pixel_size: float = 0,
        moransi_threshold: float = 0.25,
        num_iter: int = 1000,
        callbacks: Callable | list[Callable] | None = None,
        formulation: str = "gram",
        blas_threads: int | None = 1,
        smoothing: float = 0.0,
        normalize: bool = False,
        min_weight_z: float = 0.0,
        min_weight_ratio: float = 0.0,
    ):
        check_array("ste", ste)
        check_option_types(STNMF.__init__, locals())
        if method != "SparseSemiNMF":
            raise ValueError(f"unknown method {method!r}; only 'SparseSemiNMF' is available")
        if np.ndim(ste) != 3:
            raise ValueError(
                f"expected an ensemble of shape (x, y, spikes), got {np.shape(ste)=}; "
                "stack the spike-triggered frames along the last axis"
            )
        if formulation not in core.FORMULATIONS:
            raise ValueError(f"unknown formulation {formulation!r}")
        self.x, self.y, self.m = (int(s) for s in np.shape(ste))
        if not smoothing >= 0:
            raise ValueError(f"smoothing must be >= 0 stixels, got {smoothing=}")
        self.smoothing, self.normalize = float(smoothing), bool(normalize)
        self.min_weight_z, self.min_weight_ratio = float(min_weight_z), float(min_weight_ratio)
        _check_size(self.x, self.y, self.m, int(r), dtype)
        self.r, self.sparsity, self.dtype = int(r), float(sparsity), dtype
        self.method, self.formulation = method, formulation
        self.blas_threads = blas_threads
        self.autoflip, self.autosort = flipsign, sort
        self.num_iter, self.callbacks = num_iter, callbacks
        if np.ma.isMaskedArray(ste):
            data = np.ma.filled(ste.astype(dtype), np.nan)
        else:
            data = np.asarray(ste, dtype=dtype)
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
        self.pixel_size = pixel_size
        self.moransi_threshold = moransi_threshold
        check_ensemble_values(
            self.v, dtype=dtype, overflow=not self.normalize, source_dtype=np.result_type(ste)
        )
        raw = self.v
        if self.smoothing > 0 or self.normalize:  # normalize: any stimulus unit works
            self.v = _prepare(data, self.mask, self.smoothing, self.normalize)
        with np.errstate(invalid="ignore"):
            sta = np.full(self.x * self.y, np.nan, dtype=np.float64)
            sta[self.mask] = raw.mean(axis=1, dtype=np.float64)
        self._sta = sta.reshape(self.x, self.y)
        self._sta.setflags(write=False)
        self._g: np.ndarray | None = None
        self._w = np.zeros((n, self.r), dtype=dtype)
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
            self.factorize(num_iter)

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

    def init(self, w0: str | np.ndarray = "nnsvdlrc") -> None:
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
    ) -> Generator[tuple[int, float], None, None]:
        """Generator form of :meth:`factorize`: yields ``(iteration, residual)``."""
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

        gen = core.iter_sparse_seminmf(
            self.v, self.r, init=self._w * 1, sparsity=self.sparsity, num_iter=num_iter,
            dtype=self.dtype, formulation=self.formulation, g=self.gram,
            blas_threads=self.blas_threads,
            callbacks=[bridge] if user else None,
        )  # fmt: skip
        t0 = time.perf_counter()
        while True:
            try:
                yield next(gen)
            except StopIteration as stop:
                result: core.SemiNMFResult = stop.value
                break
        self._w, self._h, self._res = result.modules, result.weights, result.residual
        self._signs = np.ones(self.r)
        self.history, self.n_iter = result.history, result.n_iter
        self._cache.clear()
        self.seconds = time.perf_counter() - t0
        if self.autoflip:
            self.flipsign()
        if self.autosort:
            self.sort()

    def factorize(self, num_iter: int | None = None, **kwargs: Any) -> None:
        """Run ``num_iter`` AF-HALS iterations (then flip signs and sort if enabled).

        Keywords: ``callback``, ``callback_data``, ``callback_kwargs`` as in ``stnmf``;
        ``disp`` and ``tqdm_args`` are accepted and ignored (use :meth:`iter_factorize`
        for progress).
        """
        kwargs.pop("disp", None)
        kwargs.pop("tqdm_args", None)
        for _ in self.iter_factorize(num_iter, **kwargs):
            pass

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

    # ------------------------------------------------------------------ properties
    def _cached(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def moransi(self) -> np.ndarray:
        """Moran's I of every module (8-connected, row-standardised weights)."""
        return self._cached("moransi", lambda: props.moransi(self.modules))

    @property
    def localized(self) -> np.ndarray:
        """Indices of modules with Moran's I above ``moransi_threshold`` (subunits).

        With ``min_weight_z`` > 0 a subunit must also be driven by the spikes: its mean
        weight at least ``min_weight_z`` standard errors above zero (see
        :attr:`weight_z`) and at least ``min_weight_ratio`` times the largest module's.
        Modules fitted to stimulus noise have mean weights near zero.
        """
        keep = self.moransi > self.moransi_threshold
        if self.min_weight_z > 0:
            z = self.weight_z
            keep &= z > max(self.min_weight_z, self.min_weight_ratio * float(z.max(initial=0)))
        return np.nonzero(keep)[0]

    @property
    def weight_z(self) -> np.ndarray:
        """Mean weight of every module over the spikes in standard errors, ``mean / (sd/√m)``.

        A module that is part of the cell's receptive field contributes to the STA and has
        a mean weight far from zero (tens of standard errors at thousands of spikes); one
        fitted to the stimulus noise has a mean weight of zero ± 1.
        """

        def make():
            h = self.weights.astype(np.float64)
            sd = h.std(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(sd > 0, h.mean(axis=1) * np.sqrt(self.m) / sd, 0.0)

        return self._cached("weight_z", make)

    @property
    def num_subunits(self) -> int:
        return int(self.localized.size)

    @property
    def subunits(self) -> np.ndarray:
        """Localized modules, each scaled to unit norm (s, x, y)."""
        su = np.array(self.modules[self.localized], dtype=self.dtype)
        return su / _nan_norm(su, (1, 2)).astype(self.dtype)

    @property
    def ratios(self) -> np.ndarray:
        """Mean weights of the subunits, normalised to unit norm."""
        mean = self.weights[self.localized].mean(axis=1)
        norm = np.linalg.norm(mean)
        return mean / norm if norm > 0 else mean

    @property
    def outlines(self) -> np.ndarray:
        """Subunit outlines at the 1.22-SD level: object array of (k, 2) [x, y] arrays."""

        def make():
            out = np.empty(self.num_subunits, dtype=object)
            out[:] = [props.contour(s) for s in self.subunits] or []
            return out

        return self._cached("outlines", make)

    def _fits(self) -> list[dict[str, float]]:
        return self._cached("fits", lambda: [props.gaussian_fit(s) for s in self.subunits])

    def _pixel_size_warning(self) -> float:
        if not self.pixel_size:
            warnings.warn(
                "pixel_size is not set; sizes and distances are in stixels "
                "(pass pixel_size=<µm per stixel>)",
                PixelSizeWarning,
                stacklevel=3,
            )
            return 1.0
        return float(self.pixel_size)

    @property
    def diameters(self) -> np.ndarray:
        """Effective diameters 2·sqrt(ab) of the 2-sigma Gaussian-fit ellipses (µm)."""
        scale = self._pixel_size_warning()
        d = np.array([f["diameter"] for f in self._fits()], dtype=np.float64)
        # a Gaussian of width σ smoothed by s has width sqrt(σ² + s²); the diameter is 4σ
        d = np.sqrt(np.clip(d**2 - 16 * self.smoothing**2, 0, None))
        return d * scale

    @property
    def distances(self) -> np.ndarray:
        """Distance of every subunit outline's centroid to the STA outline's centroid (µm)."""
        scale = self._pixel_size_warning()
        c0 = props.polygon_centroid(self.sta_outline)
        cs = [props.polygon_centroid(o) for o in self.outlines]
        return np.array([np.hypot(*(c - c0)) for c in cs]).reshape(-1) * scale

    @property
    def polarities(self) -> np.ndarray:
        """+1 (ON) / −1 (OFF): sign at the maximum |value| times the sign of the ratio."""
        peak = np.array([props.polarity(s) for s in self.subunits], dtype=np.int8)
        return (peak * np.where(self.ratios < 0, -1, 1)).astype(np.int8)

    @property
    def sta(self) -> np.ndarray:
        """Spike-triggered average (x, y)."""
        return self._sta

    @property
    def sta_outline(self) -> np.ndarray:
        return self._cached("sta_outline", lambda: props.contour(self._sta))

    @property
    def sta_diameter(self) -> float:
        scale = self._pixel_size_warning()
        fit = self._cached("sta_fit", lambda: props.gaussian_fit(self._sta))
        return float(fit["diameter"] * scale)

    @property
    def coverage(self) -> float:
        """Fraction of the STA outline area covered by non-overlapping subunit outlines."""
        return props.coverage(self.sta_outline, list(self.outlines), (self.x, self.y))

    @property
    def modules_info(self) -> np.recarray:
        """All per-module properties as a record array (NaN / 0 for non-localized)."""
        dtype = [
            ("index", "uint16"), ("module", self.dtype, (self.x, self.y)),
            ("weight", self.dtype), ("moransi", self.dtype), ("localized", "bool"),
            ("polarity", "int8"), ("contour", "object"), ("diameter", "float32"),
            ("distance", "float32"),
        ]  # fmt: skip
        info = np.zeros(self.r, dtype=dtype).view(np.recarray)
        loc = self.localized
        info.index = np.arange(self.r)
        info.module = self.modules
        info.weight = self.weights.mean(axis=1)
        info.moransi = self.moransi
        info.localized[loc] = True
        info.diameter[:] = np.nan
        info.distance[:] = np.nan
        if loc.size:
            info.polarity[loc] = self.polarities
            for k, o in zip(loc, self.outlines, strict=True):
                info.contour[k] = o
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PixelSizeWarning)
                info.diameter[loc] = self.diameters
                info.distance[loc] = self.distances
        return info

    @property
    def pixel_size(self) -> float:
        return self._pixel_size

    @pixel_size.setter
    def pixel_size(self, um: float) -> None:
        if um is None or um < 0:
            raise ValueError(f"pixel_size must be >= 0 µm (0: unknown), got {um!r}")
        self._pixel_size = float(um)

    @property
    def moransi_threshold(self) -> float:
        return self._moransi_threshold

    @moransi_threshold.setter
    def moransi_threshold(self, value: float) -> None:
        if not -1 < value < 1:
            raise ValueError(f"moransi_threshold must be in (-1, 1), got {value!r}")
        self._moransi_threshold = float(value)
        if hasattr(self, "_cache"):
            self._cache.clear()

    # ------------------------------------------------------------------ outputs
    @property
    def report(self) -> dict[str, Any]:
        """Provenance: parameters, iterations, residual, subunit summary, versions."""
        params = {
            "r": self.r, "init": self.init_method,
            "sparsity": self.sparsity, "seed": self.seed, "dtype": self.dtype,
            "pixel_size": self.pixel_size, "moransi_threshold": self.moransi_threshold,
            "num_iter": self.n_iter, "formulation": self.formulation,
            "flipsign": self.autoflip, "sort": self.autosort,
            "smoothing": self.smoothing, "normalize": self.normalize,
            "min_weight_z": self.min_weight_z, "min_weight_ratio": self.min_weight_ratio,
        }  # fmt: skip
        rep = start_report("stnmf", params, {"ste": describe_array(self.v, axes="stixels×spikes")})
        rep["ste_shape_xym"] = [self.x, self.y, self.m]
        rep["masked_stixels"] = int((~self.mask).sum())
        rep["residual"] = self.res
        rep["residual_history"] = self.history
        rep["moransi"] = self.moransi
        rep["localized"] = self.localized
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PixelSizeWarning)
            rep["diameters"] = self.diameters
            rep["distances"] = self.distances
        rep["size_units"] = "µm" if self.pixel_size else "stixels"
        rep["polarities"] = self.polarities
        rep["coverage"] = self.coverage
        return rep

    def plot(self, full: bool = True, colors: str = "hsv", cmap: str | None = None, **kwargs):
        """Figure: STA with outlines, modules, weights (if ``full``), Moran's I."""
        from ..plot.stnmf import plot_stnmf

        return plot_stnmf(self, full=full, colors=colors, cmap=cmap, **kwargs)


# ----------------------------------------------------------------------------- helpers
def _check_size(x: int, y: int, m: int, r: int, dtype: str) -> None:
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


def _prepare(data: np.ndarray, mask: np.ndarray, smoothing: float, normalize: bool) -> np.ndarray:
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


def select_sparsity(
    ste: Any,
    /,
    *,
    sparsities: tuple[float, ...] = (1.7, 2.5, 3.5, 5.0),
    **kwargs: Any,
) -> tuple[STNMF, list[dict[str, float]]]:
    """Factorise once per sparsity and keep the run with the most total localization.

    The score of a run is the sum of Moran's I over its localized modules (how many
    subunits, and how compact): too little sparsity leaves subunits mixed with noise,
    too much merges or erases them. No ground truth is used. The Gram matrix is computed
    once and shared, so the scan costs a few single runs of the Gram solver.
    ``kwargs`` go to :class:`STNMF` (``r``, ``num_iter``, ``pixel_size``, ...).

    Returns the best :class:`STNMF` and one row per sparsity (``sparsity``,
    ``num_subunits``, ``score``, ``residual``).

    Examples
    --------
    >>> from napari_unmix.core.synthetic import make_ste_sparse
    >>> ste, _ = make_ste_sparse(n_spikes=1500, grid=10)
    >>> best, rows = select_sparsity(ste, sparsities=(1.7, 3.0), r=6, num_iter=10)
    >>> len(rows), best.sparsity in (1.7, 3.0)
    (2, True)
    """
    if not sparsities:
        raise ValueError("give at least one sparsity")
    init = kwargs.pop("init", "nnsvdlrc")
    rows, best, best_score, g = [], None, -np.inf, None
    for sp in sparsities:
        s = STNMF(ste, sparsity=sp, init=None, factorize=False, **kwargs)
        if g is None:
            g = s.gram
        s._g = g
        s.init(init)
        s.factorize()
        score = float(s.moransi[s.localized].sum())
        rows.append(
            {"sparsity": sp, "num_subunits": s.num_subunits, "score": score, "residual": s.res}
        )
        if score > best_score:
            best, best_score = s, score
    return best, rows
