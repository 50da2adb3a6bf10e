"""Demo: STNMF subunits of model cells with 7 known Gaussian subunits.

Runs the :class:`~napari_unmix.api.stnmf.STNMF` class on the sparsely firing model cell
(``make_ste_sparse``) at 20,000 spikes with the reference settings (the ``stnmf``
package's) and the recovery settings (frames smoothed by half a stixel, sparsity in noise
SDs), and on the ``ste`` sample (the default model cell of ``core/scenarios/stnmf.py``)
at 5,000 and 20,000 spikes; matches the modules to the true subunits (Hungarian,
correlation >= 0.8 / 0.9), compares diameters with the truth, and exports modules
OME-TIFF + JSON + CSV + PNG.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..api.stnmf import STNMF, export_stnmf, resolve_settings
from ..core import synthetic
from ..core.scenarios.stnmf import make_cell, match_subunits


def _row(label: str, s: STNMF, truth: dict) -> dict:
    corr, idx = match_subunits(s.modules, truth["subunits"], with_index=True)
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
        ste, truth = synthetic.make_ste_sparse(n_spikes=20000)
        px = truth["pixel_size"]
        for name in ("reference", "recovery"):
            s = STNMF(ste, r=20, pixel_size=px, num_iter=1000, **resolve_settings(name))
            rows.append(_row(f"sparse cell, m=20,000, {name} settings", s, truth))
        export_stnmf(s, output_dir, name="stnmf_m20000", figure=False, overwrite=True)
        save_figure(
            s.plot(truth=truth["subunits"]), output_dir / "stnmf_m20000.png", overwrite=True
        )
        for m in (5000, 20000):
            ste, truth = make_cell(n_spikes=m)
            s = STNMF(ste, r=20, pixel_size=px, num_iter=1000, **resolve_settings("recovery"))
            rows.append(_row(f"ste sample (model cell), m={m:,}, recovery settings", s, truth))
    return rows
