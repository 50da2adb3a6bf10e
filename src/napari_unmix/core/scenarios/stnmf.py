"""Model retinal ganglion cells with known subunits, for STNMF.

A model cell sees binary white-noise frames (±``contrast``). Each of its Gaussian subunits
filters a frame, passes the result through a rectifying nonlinearity (``max(x, 0) **
subunit_exponent``), the subunit outputs are summed, and the cell fires Poisson spikes at
a rate ``max(drive − threshold, 0) ** output_exponent``, the threshold set
``threshold_sd`` standard deviations above the mean drive (``threshold_sd=None`` with ``output_exponent=1`` is a linear cell, on which no method
separates subunits). A fraction ``noise`` of the
spikes is background firing, unrelated to the stimulus. The spike-triggered ensemble
(every spike adds its frame; a frame with n spikes appears n times) has axes (x, y, m),
as the ``stnmf`` package expects.

:func:`draw_cells` draws cells across the conditions recordings have (subunit count,
size, overlap, nonlinearity, noise, contrast unit); :func:`make_cell` builds one;
:func:`make_recording` returns the stimulus movie and spike counts per frame of the same
model (for the path from a recording to an ensemble).

Examples
--------
>>> ste, truth = make_cell(ModelCell(grid=12), n_spikes=500, random_state=1)
>>> ste.shape, truth["subunits"].shape
((12, 12, 500), (7, 12, 12))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

__all__ = [
    "ModelCell",
    "draw_cells",
    "make_cell",
    "make_population",
    "make_recording",
    "match_subunits",
]


@dataclass(frozen=True)
class ModelCell:
    """Parameters of one model cell (sizes in stixels; ``pixel_size`` in µm)."""

    n_subunits: int = 7
    sigma: float = 1.2  #: subunit Gaussian width (stixels); each subunit varies ±10 %
    spacing: float = 3.0  #: centre distance of neighbouring subunits (stixels); overlap
    subunit_exponent: float = 1.0  #: subunit nonlinearity max(x, 0) ** exponent
    threshold_sd: float | None = 1.0  #: output threshold in SDs above the mean drive (None: 0)
    output_exponent: float = 1.0  #: output nonlinearity max(drive - threshold, 0) ** exponent
    noise: float = 0.0  #: fraction of spikes unrelated to the stimulus
    contrast: float = 1.0  #: stimulus amplitude (the unit of the ensemble)
    grid: int = 20
    pixel_size: float = 30.0
    jitter: float = 0.3  #: random shift of the subunit centres (stixels)
    center: tuple[float, float] | None = None  #: receptive-field centre (default: middle)


def _centers(n: int, spacing: float, center: np.ndarray) -> np.ndarray:
    pts = [np.zeros(2)]
    ring = 1
    while len(pts) < n:
        ang = 2 * np.pi * np.arange(6 * ring) / (6 * ring)
        pts.extend(ring * spacing * np.stack([np.cos(ang), np.sin(ang)], axis=1))
        ring += 1
    return np.array(pts[:n]) + center


def _subunits(cell: ModelCell, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    middle = np.full(2, (cell.grid - 1) / 2) if cell.center is None else np.asarray(cell.center)
    centers = _centers(cell.n_subunits, cell.spacing, middle)
    centers = centers + rng.uniform(-cell.jitter, cell.jitter, centers.shape)
    sigmas = cell.sigma * rng.uniform(0.9, 1.1, cell.n_subunits)
    g = np.arange(cell.grid, dtype=np.float64)
    d2 = (g[None, :, None] - centers[:, 0, None, None]) ** 2 + (
        g[None, None, :] - centers[:, 1, None, None]
    ) ** 2
    filt = np.exp(-d2 / (2 * sigmas[:, None, None] ** 2))
    return filt / filt.max(axis=(1, 2), keepdims=True), centers


def _drive(frames: np.ndarray, fmat: np.ndarray, cell: ModelCell) -> np.ndarray:
    return (np.maximum(frames @ fmat, 0) ** cell.subunit_exponent).sum(axis=1)


def _rate(frames: np.ndarray, fmat: np.ndarray, cell: ModelCell, level: float) -> np.ndarray:
    return np.maximum(_drive(frames, fmat, cell) - level, 0) ** cell.output_exponent


def _simulate(cell: ModelCell, n_spikes: int, rng: np.random.Generator, batch: int = 20000):
    """Frames (n_frames, x*y, float32) batch by batch and spike counts, until n_spikes."""
    filt, centers = _subunits(cell, rng)
    fmat = filt.reshape(cell.n_subunits, -1).T.astype(np.float32)
    n_pix = cell.grid**2
    levels = np.array([-1.0, 1.0], np.float32)
    calib = _drive(rng.choice(levels, (batch, n_pix)), fmat, cell)
    level = 0.0  # threshold_sd None: rate proportional to the summed drive (linear cell)
    if cell.threshold_sd is not None:
        level = float(calib.mean() + cell.threshold_sd * calib.std())
    rate = _rate(rng.choice(levels, (batch, n_pix)), fmat, cell, level)
    gain = 0.3 / max(float(rate.mean()), 1e-12)  # about 0.3 stimulus spikes per frame
    frames_out, counts_out, total = [], [], 0
    while total < n_spikes:
        frames = rng.choice(levels, (batch, n_pix))
        lam = gain * _rate(frames, fmat, cell, level)
        lam = lam * (1 - cell.noise) + cell.noise * 0.3  # background firing
        counts = rng.poisson(lam)
        frames_out.append(frames)
        counts_out.append(counts)
        total += int(counts.sum())
    truth = {
        "subunits": filt.astype(np.float32),
        "centers": centers,
        "pixel_size": cell.pixel_size,
        "diameters": 4 * cell.sigma * cell.pixel_size * np.ones(cell.n_subunits),
        "cell": asdict(cell),
    }
    return frames_out, counts_out, truth


def make_cell(
    cell: ModelCell | None = None,
    /,
    *,
    n_spikes: int = 20000,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Spike-triggered ensemble (x, y, n_spikes) of a model cell, and its truth.

    ``cell`` holds the model's parameters (default :class:`ModelCell`). The truth has
    ``subunits`` (k, x, y; unit peak), ``centers`` (k, 2; stixels), ``diameters`` (µm,
    4σ), ``pixel_size``, ``cell`` (the parameters) and ``n_frames``.
    """
    cell = cell or ModelCell()
    if n_spikes < 1:
        raise ValueError(f"n_spikes must be >= 1, got {n_spikes=}")
    rng = np.random.default_rng(random_state)
    frames, counts, truth = _simulate(cell, n_spikes, rng)
    ste = np.concatenate([np.repeat(f, c, axis=0) for f, c in zip(frames, counts, strict=True)])[
        :n_spikes
    ]
    truth["n_frames"] = sum(len(c) for c in counts)
    ste = (ste * np.float32(cell.contrast)).reshape(n_spikes, cell.grid, cell.grid)
    return np.ascontiguousarray(ste.transpose(1, 2, 0)), truth


def make_recording(
    cell: ModelCell | None = None,
    /,
    *,
    n_spikes: int = 2000,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Stimulus movie (t, x, y) and spike counts per frame (t,) of a model cell.

    The cell responds to frame ``t`` in frame ``t`` (latency 0). The movie holds every
    simulated frame, so keep ``n_spikes`` small (a few thousand spikes need about ten
    times as many frames).

    Examples
    --------
    >>> stim, counts, truth = make_recording(ModelCell(grid=8, n_subunits=3), n_spikes=200)
    >>> stim.shape[1:], bool(counts.sum() >= 200)
    ((8, 8), True)
    """
    cell = cell or ModelCell()
    rng = np.random.default_rng(random_state)
    frames, counts, truth = _simulate(cell, n_spikes, rng, batch=max(n_spikes * 4, 1000))
    stim = np.concatenate(frames) * np.float32(cell.contrast)
    truth["n_frames"] = stim.shape[0]
    return stim.reshape(-1, cell.grid, cell.grid), np.concatenate(counts), truth


def make_population(
    n_cells: int = 3,
    /,
    *,
    n_frames: int = 20000,
    grid: int = 24,
    rate: float = 0.15,
    random_state: int | np.random.Generator | None = 0,
    cell: ModelCell | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray], list[dict[str, Any]]]:
    """Several model cells watching one stimulus movie: movie (t, x, y), counts per cell.

    The cells' receptive fields sit at different places of a ``grid`` × ``grid`` movie;
    each fires about ``rate`` spikes per frame; ``cell`` holds the parameters of every cell
    (its ``grid`` and ``center`` are set here).
    Returns the movie, ``{"cell 0": counts, ...}`` and one truth dict per cell.

    Examples
    --------
    >>> stim, counts, truths = make_population(
    ...     2, n_frames=500, grid=16, cell=ModelCell(n_subunits=3)
    ... )
    >>> stim.shape, sorted(counts), truths[0]["subunits"].shape
    ((500, 16, 16), ['cell 0', 'cell 1'], (3, 16, 16))
    """
    base = cell or ModelCell()
    rng = np.random.default_rng(random_state)
    stim = rng.choice(np.array([-1.0, 1.0], np.float32), (n_frames, grid * grid))
    ang = 2 * np.pi * np.arange(n_cells) / max(n_cells, 1) + rng.uniform(0, np.pi)
    radius = grid / 4 if n_cells > 1 else 0.0
    counts, truths = {}, []
    for i in range(n_cells):
        center = (grid - 1) / 2 + radius * np.array([np.cos(ang[i]), np.sin(ang[i])])
        cell = replace(base, grid=grid, center=(float(center[0]), float(center[1])))
        filt, centers = _subunits(cell, rng)
        fmat = filt.reshape(cell.n_subunits, -1).T.astype(np.float32)
        drive = _drive(stim, fmat, cell)
        level = 0.0 if cell.threshold_sd is None else drive.mean() + cell.threshold_sd * drive.std()
        lam = np.maximum(drive - level, 0) ** cell.output_exponent
        lam = rate * lam / max(float(lam.mean()), 1e-12)
        counts[f"cell {i}"] = rng.poisson(lam * (1 - cell.noise) + cell.noise * rate)
        truths.append({"subunits": filt.astype(np.float32), "centers": centers,
                       "pixel_size": cell.pixel_size, "cell": asdict(cell)})  # fmt: skip
    return (
        stim.reshape(n_frames, grid, grid) * np.float32(base.contrast),
        counts,
        truths,
    )


def draw_cells(n: int, /, *, random_state: int | None = 0) -> list[ModelCell]:
    """``n`` model cells drawn across recording conditions (7 ± 3 subunits, ...).

    Subunit count 4-10, width 1.0-1.6 stixels, spacing 2.3-3.3 widths (overlap),
    subunit nonlinearity exponent 1 or 2, output threshold 0.5-1.5 SD with exponent 1-3,
    background firing 0-20 % of the spikes, stimulus contrast 0.1-100 (the unit).

    Examples
    --------
    >>> [c.n_subunits for c in draw_cells(3, random_state=0)]
    [7, 9, 9]
    """
    rng = np.random.default_rng(random_state)
    cells = []
    for _ in range(n):
        sigma = float(rng.uniform(1.0, 1.6))
        cells.append(
            ModelCell(
                n_subunits=int(rng.integers(4, 11)),
                sigma=round(sigma, 2),
                spacing=round(sigma * float(rng.uniform(2.3, 3.3)), 2),
                subunit_exponent=float(rng.choice([1.0, 2.0])),
                threshold_sd=round(float(rng.uniform(0.5, 1.5)), 2),
                output_exponent=float(rng.choice([1.0, 2.0, 3.0])),
                noise=round(float(rng.uniform(0.0, 0.2)), 2),
                contrast=float(10 ** rng.uniform(-1, 2)),
            )
        )
    return cells


def match_subunits(
    modules: np.ndarray, subunits: np.ndarray, /, *, with_index: bool = False
) -> Any:
    """Correlation of every true subunit with its module (Hungarian matching), (k,).

    With ``with_index``, also the index of the module matched to every subunit.

    Examples
    --------
    >>> t = np.eye(3).reshape(3, 3, 1)
    >>> match_subunits(t[::-1], t).round(2).tolist()
    [1.0, 1.0, 1.0]
    >>> match_subunits(t[::-1], t, with_index=True)[1].tolist()
    [2, 1, 0]
    """
    from scipy.optimize import linear_sum_assignment

    t = np.asarray(subunits, np.float64).reshape(len(subunits), -1)
    w = np.nan_to_num(np.asarray(modules, np.float64).reshape(len(modules), -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.nan_to_num(np.corrcoef(t, w)[: len(t), len(t) :])
    i, j = linear_sum_assignment(-c)
    out = np.zeros(len(t))
    out[i] = c[i, j]
    idx = np.full(len(t), -1)
    idx[i] = j
    return (out, idx) if with_index else out
