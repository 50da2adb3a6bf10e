"""Synthetic spike-triggered stimulus ensembles with known subunits (STNMF)."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np

from ..validate import check_sizes

__all__ = [
    "make_ste",
    "make_ste_sparse",
]


# ----------------------------------------------------------------------------- STNMF
def _hex_subunit_centers(n: int, spacing: float, center: np.ndarray) -> np.ndarray:
    pts = [np.zeros(2)]
    ring = 1
    while len(pts) < n:
        for j in range(6 * ring):
            ang = 2 * np.pi * j / (6 * ring)
            pts.append(ring * spacing * np.array([np.cos(ang), np.sin(ang)]))
        ring += 1
    return np.array(pts[:n]) + center


def make_ste(
    *,
    n_spikes: int = 20000,
    grid: int = 20,
    n_subunits: int = 7,
    subunit_sigma: float = 1.2,
    spacing: float = 3.0,
    pixel_size: float = 30.0,
    rate_gain: float = 0.35,
    batch: int = 20000,
    random_state: int = 0,
    threshold: float = 0.0,
    exponent: float = 1.0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Spike-triggered stimulus ensemble of a model ganglion cell with Gaussian subunits.

    Binary white-noise frames (±1) drive ``n_subunits`` Gaussian subunits (one central, the
    others on a hexagonal ring); each subunit's drive is rectified, summed, and Poisson
    spikes are drawn at ``rate_gain`` × drive per frame. Every spike adds its frame to the
    ensemble (a frame with n spikes appears n times).

    ``threshold`` and ``exponent`` add an output nonlinearity: the rate is
    ``rate_gain × max(drive − threshold, 0) ** exponent``. The defaults (0, 1) keep the
    linear output of the original model; a threshold near the drive's mean plus one or
    two standard deviations and an exponent of 2 give a sparsely firing cell whose
    spikes each follow strong drive of one or two subunits, which is what STNMF needs to
    separate them (``make_ste_sparse`` uses such settings).

    Returns
    -------
    ste : ndarray, shape (grid, grid, n_spikes), float32
        Axes (x, y, m), as the ``stnmf`` package expects.
    truth : dict
        ``subunits`` (n_subunits×grid×grid, unit max), ``centers`` (n_subunits×2, stixels),
        ``sigma`` (stixels), ``pixel_size`` (µm per stixel), ``diameters`` (µm, the
        effective diameter of the 2-sigma ellipse: 4·sigma·pixel_size), ``n_frames``.

    Examples
    --------
    >>> ste, truth = make_ste(n_spikes=500, grid=12)
    >>> ste.shape, truth["subunits"].shape
    ((12, 12, 500), (7, 12, 12))
    """
    check_sizes({"n_spikes": n_spikes, "grid": grid, "n_subunits": n_subunits, "batch": batch})
    rng = np.random.default_rng(random_state)
    centers = _hex_subunit_centers(n_subunits, spacing, np.array([(grid - 1) / 2] * 2))
    g = np.arange(grid, dtype=np.float64)
    filt = np.exp(
        -(
            (g[None, :, None] - centers[:, 0, None, None]) ** 2
            + (g[None, None, :] - centers[:, 1, None, None]) ** 2
        )
        / (2 * subunit_sigma**2)
    )
    filt /= filt.max(axis=(1, 2), keepdims=True)
    fmat = filt.reshape(n_subunits, -1).T.astype(np.float32)  # stixels × subunits
    chunks, total, n_frames = [], 0, 0
    while total < n_spikes:
        frames = rng.choice(np.array([-1.0, 1.0], np.float32), size=(batch, grid * grid))
        drive = np.maximum(frames @ fmat, 0).sum(axis=1)
        if threshold != 0.0 or exponent != 1.0:
            drive = np.maximum(drive - threshold, 0) ** exponent
        counts = rng.poisson(rate_gain * drive)
        n_frames += batch
        if counts.any():
            chunks.append(np.repeat(frames, counts, axis=0))
            total += int(counts.sum())
    ste = np.concatenate(chunks, axis=0)[:n_spikes]  # m × (x*y)
    ste = ste.reshape(n_spikes, grid, grid).transpose(1, 2, 0)
    return np.ascontiguousarray(ste, dtype=np.float32), {
        "subunits": filt.astype(np.float32),
        "centers": centers,
        "sigma": subunit_sigma,
        "pixel_size": pixel_size,
        "diameters": np.full(n_subunits, 4 * subunit_sigma * pixel_size),
        "n_frames": n_frames,
    }


def _variant(base: Any, name: str, doc: str, **defaults: Any) -> Any:
    """``base`` with other ``defaults`` (its signature, shown by ``help()``, says so); the
    truth records the keywords the variant sets."""

    @functools.wraps(base)
    def _variant_call(**kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        given = {**defaults, **kwargs}
        ste, truth = base(**given)
        truth.update({k: given[k] for k in defaults})
        return ste, truth

    sig = inspect.signature(base)
    params = [p.replace(default=defaults.get(p.name, p.default)) for p in sig.parameters.values()]
    _variant_call.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    _variant_call.__name__ = _variant_call.__qualname__ = name
    _variant_call.__doc__ = doc
    del _variant_call.__wrapped__  # type: ignore[attr-defined]
    return _variant_call


make_ste_sparse = _variant(
    make_ste,
    "make_ste_sparse",
    """:func:`make_ste` with a thresholded output: a sparsely firing model cell.

    The cell fires only when the summed rectified subunit drive exceeds ``threshold``
    (about one standard deviation above its mean for the default 7 subunits), so each
    spike follows strong drive of a few subunits. This is the regime in which STNMF can
    separate subunits from tens of thousands of spikes; with :func:`make_ste`'s linear
    output even 50,000 spikes do not suffice. The other keywords are :func:`make_ste`'s.

    Examples
    --------
    >>> ste, truth = make_ste_sparse(n_spikes=300, grid=12)
    >>> ste.shape, truth["threshold"]
    ((12, 12, 300), 8.0)
    """,
    threshold=8.0,
    rate_gain=0.3,
)
