"""Bleed-through scenario table: |alpha - truth| of every estimator, ours vs the reference.

Random two-channel stacks from :mod:`napari_unmix.core.scenarios.bleedthrough` (seeded):
true alpha 0.05-0.5 (fixed or changing over time), 0.1-100 photons per intensity unit
(Poisson + read noise), camera offsets and autofluorescence, source and target biology
separate, touching, partly or fully co-localised, 64²-192² images with 1-6 z-slices.
Every estimator (mean_ratio, linear_fit, corr_min, mi_min) runs on time point 0, ours
(``estimate_alpha``, default settings) and the ``spectral-unmixing`` package's
``estimate_alpha_from_volume`` side by side on the same volume. The table gives the median
and 90th percentile of |alpha - truth| by photon count and by overlap, ours' 95 % interval
coverage of the truth, and for ``mi_min`` how often it said it could not trust its curve.

Usage: ``python benchmarks/bench_bleedthrough_scenarios.py [--quick]`` (the bench venv has
the reference; without it the reference columns say "not available").
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, print_table, save_rows, save_summary, summary_row

METHODS = ("mean_ratio", "linear_fit", "corr_min", "mi_min")
PHOTON_BINS = ((0.1, 1.0), (1.0, 10.0), (10.0, 100.0))


def _reference():
    try:
        from spectral_unmixing import estimate_alpha_from_volume

        return estimate_alpha_from_volume
    except Exception as err:  # not installed / broken: say so, never fake it
        print(f"reference spectral-unmixing not available: {type(err).__name__}: {err}")
        return None


def _photon_bin(g: float) -> str:
    for lo, hi in PHOTON_BINS:
        if lo <= g < hi or (hi == PHOTON_BINS[-1][1] and g <= hi):
            return f"{lo:g}-{hi:g} photons/unit"
    return "other"


def run(n: int, seed: int) -> list[dict]:
    """One record per scenario and estimator."""
    from napari_unmix.core.bleedthrough import AlphaReliabilityWarning, estimate_alpha
    from napari_unmix.core.scenarios.bleedthrough import draw_scenarios, make_scenario

    ref = _reference()
    records = []
    for p in draw_scenarios(n, random_state=seed):
        data, truth = make_scenario(**p)
        src, tgt = data[0, :, 0], data[0, :, 1]
        a_true = truth["alpha_by_t"][0]
        for method in METHODS:
            rec = {"overlap": p["overlap"], "photons": _photon_bin(p["photons_per_unit"])}
            rec.update(method=method, truth=a_true)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", AlphaReliabilityWarning)
                t0 = time.perf_counter()
                est = estimate_alpha(src, tgt, method=method)
                rec["ours_s"] = time.perf_counter() - t0
            rec["ours"] = est.alpha
            rec["ours_ci_covers"] = est.ci[0] <= a_true <= est.ci[1]
            rec["flagged"] = any(issubclass(w.category, AlphaReliabilityWarning) for w in caught)
            if method == "mi_min":
                rec["mi_argmin"] = est.details["method_details"].get("mi_argmin", est.alpha)
            if ref is not None:
                t0 = time.perf_counter()
                try:
                    rec["reference"] = float(ref(src, tgt, method=method))
                except Exception as err:  # the reference refuses some scenes: count them
                    rec["reference_error"] = f"{type(err).__name__}: {err}"
                rec["reference_s"] = time.perf_counter() - t0
            records.append(rec)
    return records


def _stats(errors: list[float]) -> str:
    if not errors:
        return ""
    e = np.asarray(errors)
    return f"{np.median(e):.3f} / {np.percentile(e, 90):.3f}"


def _compare(ours: list[float], ref: list[float]) -> str:
    """Share of scenes where our error is smaller / equal (within 1e-4) / larger than the
    reference's."""
    if not ref or len(ref) != len(ours):
        return ""
    d = np.asarray(ours) - np.asarray(ref)
    return f"{np.mean(d < -1e-4):.0%} / {np.mean(abs(d) <= 1e-4):.0%} / {np.mean(d > 1e-4):.0%}"


def table(records: list[dict]) -> list[dict]:
    """Rows: per estimator and group (all, photon bin, overlap)."""
    groups = [("all", lambda r: True)]
    groups += [(f"{lo:g}-{hi:g} photons/unit", None) for lo, hi in PHOTON_BINS]
    groups += [(f"overlap {o}", None) for o in ("separate", "touching", "partial", "full")]
    rows = []
    for method in METHODS:
        mine = [r for r in records if r["method"] == method]
        for name, test in groups:
            if test is None:
                key = "photons" if "photons" in name else "overlap"
                value = name.removeprefix("overlap ")
                sel = [r for r in mine if r[key] == value]
            else:
                sel = mine
            if not sel:
                continue
            ours = [abs(r["ours"] - r["truth"]) for r in sel]
            ref = [abs(r["reference"] - r["truth"]) for r in sel if "reference" in r]
            row = {
                "benchmark": "bleedthrough scenarios",
                "estimator": method,
                "scenes": name,
                "n": len(sel),
                "ours |a-truth| median / p90": _stats(ours),
                "reference |a-truth| median / p90": _stats(ref) or "not available",
                "ours better / equal / worse (1e-4)": _compare(ours, ref),
                "ours 95% CI covers truth": f"{np.mean([r['ours_ci_covers'] for r in sel]):.0%}",
            }
            if any("reference_error" in r for r in sel):
                row["reference failed"] = sum("reference_error" in r for r in sel)
            if method == "mi_min":
                flagged = [r for r in sel if r["flagged"]]
                row["mi_min flagged unreliable"] = f"{len(flagged)}/{len(sel)}"
                trusted = [abs(r["ours"] - r["truth"]) for r in sel if not r["flagged"]]
                row["trusted |a-truth| median"] = f"{np.median(trusted):.3f}" if trusted else ""
                if flagged:
                    row["flagged: fallback / MI argmin |a-truth| median"] = (
                        f"{np.median([abs(r['ours'] - r['truth']) for r in flagged]):.3f} / "
                        f"{np.median([abs(r['mi_argmin'] - r['truth']) for r in flagged]):.3f}"
                    )
            rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 scenarios instead of 240")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    n = 40 if args.quick else 240
    print(f"bench_bleedthrough_scenarios: {n} random scenes (seed {args.seed}); {machine()}")
    records = run(n, args.seed)
    rows = table(records)
    print_table(rows)
    save_rows("bench_bleedthrough_scenarios", rows)
    data = f"{n} random scenes, 0.1-100 photons/unit, 4 overlaps"
    summary = []
    for method in METHODS:
        mine = [r for r in records if r["method"] == method]
        ours = [abs(r["ours"] - r["truth"]) for r in mine]
        ref = [abs(r["reference"] - r["truth"]) for r in mine if "reference" in r]
        part = [r for r in mine if r["overlap"] == "partial"]
        summary.append(
            summary_row(
                "bleed-through", f"scenario table, {method}", data=data,
                ours_s=float(np.median([r["ours_s"] for r in mine])),
                ours_accuracy=f"median |alpha-truth| {np.median(ours):.3f} (partial overlap "
                f"{np.median([abs(r['ours'] - r['truth']) for r in part]):.3f})",
                reference="spectral-unmixing",
                reference_s=float(np.median([r["reference_s"] for r in mine]))
                if ref else "not available",
                reference_accuracy=(
                    f"median |alpha-truth| {np.median(ref):.3f} (partial overlap "
                    f"{np.median([abs(r['reference'] - r['truth']) for r in part if 'reference' in r]):.3f})"
                ) if ref else None,
            )
        )  # fmt: skip
    save_summary("bench_bleedthrough_scenarios", summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
