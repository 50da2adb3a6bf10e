"""Demo: STNMF subunits of model cells with 7 known Gaussian subunits.

Runs the :class:`~napari_unmix.api.stnmf.STNMF` class on the sparsely firing model cell
(``make_ste_sparse``) at 20,000 and 50,000 spikes and on the ``ste`` sample (linear
output), matches the modules to the true subunits (Hungarian, correlation >= 0.8 / 0.9),
compares diameters with the truth, and exports modules OME-TIFF + JSON + CSV + PNG.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..api.stnmf import STNMF, export_stnmf, select_sparsity
from ..core import synthetic


def match_subunits(modules: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlations and module indices of the Hungarian matching of truth to modules.

    Examples
    --------
    >>> t = np.eye(3).reshape(3, 3, 1)
    >>> corr, idx = match_subunits(t[::-1], t)
    >>> corr.round(2).tolist(), idx.tolist()
    ([1.0, 1.0, 1.0], [2, 1, 0])
    """
    t = truth.reshape(len(truth), -1)
    w = np.nan_to_num(modules.reshape(len(modules), -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.nan_to_num(np.corrcoef(t, w)[: len(t), len(t) :])
    rows, cols = linear_sum_assignment(-c)
    return c[rows, cols], cols


def _row(label: str, s: STNMF, truth: dict) -> dict:
    corr, idx = match_subunits(s.modules, truth["subunits"])
    good = idx[corr >= 0.8]
    loc = list(s.localized)
    diam = [s.diameters[loc.index(k)] for k in good if k in loc]
    dtxt = f"median {np.median(diam):.0f} µm" if diam else "-"
    return {
        "tool": "stnmf",
        "result": (
            f"{label}: {s.num_subunits} localized of r={s.r} "
            f"(sparsity {s.sparsity}, {s.n_iter} it, {s.seconds:.1f} s)"
        ),
        "vs ground truth": (
            f"matched {int((corr >= 0.8).sum())}/7 at r>=0.8, {int((corr >= 0.9).sum())}/7 "
            f"at r>=0.9; diameters {dtxt} vs {truth['diameters'][0]:.0f} µm"
        ),
    }


def run(output_dir: Path) -> list[dict]:
    from ..plot.figure import save_figure

    output_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PixelSizeWarning cannot occur; keep the log clean
        ste, truth = synthetic.make_ste_sparse(n_spikes=50000)
        s50 = STNMF(ste, r=20, pixel_size=truth["pixel_size"], num_iter=1000)
        rows.append(_row("sparse cell, m=50,000, defaults", s50, truth))
        export_stnmf(s50, output_dir, name="stnmf_m50000", figure=False, overwrite=True)
        save_figure(
            s50.plot(truth=truth["subunits"]), output_dir / "stnmf_m50000.png", overwrite=True
        )
        del ste
        ste, truth = synthetic.make_ste_sparse(n_spikes=20000)
        s20 = STNMF(ste, r=20, pixel_size=truth["pixel_size"], num_iter=1000)
        rows.append(_row("sparse cell, m=20,000, defaults", s20, truth))
        best, scan = select_sparsity(ste, r=20, pixel_size=truth["pixel_size"], num_iter=1000)
        label = "m=20,000, sparsity scan " + "/".join(f"{r['sparsity']:g}" for r in scan)
        rows.append(_row(label, best, truth))
        save_figure(
            best.plot(truth=truth["subunits"]), output_dir / "stnmf_m20000.png", overwrite=True
        )
        ste, truth = synthetic.make_ste(n_spikes=20000)
        sample = STNMF(ste, r=20, pixel_size=truth["pixel_size"], num_iter=300)
        rows.append(_row("ste sample (linear output), m=20,000", sample, truth))
    return rows
