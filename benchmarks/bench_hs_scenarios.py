"""Accuracy over randomised hyperspectral scenes: NNLS, seeded NNMF and random NNMF.

Scenes come from :func:`napari_unmix.core.scenarios.hyperspectral.make_scene` (counts 1-1e4,
shot + read noise, background gradients, close spectra, objects of 3-40 px, uint16 or float,
nm or cm-1, NaN pixels), each seeded. On every scene, side by side on the same data:

* **NNLS** with the true spectra (+ background spectrum): ours (``nnls_unmix``) and
  scikit-learn ``non_negative_factorization(update_H=False, solver="cd")`` — worst map
  Pearson r to the truth over the components, time;
* **seeded NNMF** from ROI-mean seeds (the first three objects each component dominates, a
  background ROI as a further component): ours (``seeded_nnmf`` defaults) and scikit-learn
  ``init="custom", solver="cd"`` (defaults: tol 1e-4, max_iter 200) from the same seeds —
  worst spectrum cosine and worst map r to the truth, relative error, time;
* **random NNMF** with k = components (+ background): ours (``random_nnmf`` defaults),
  scikit-learn ``NMF(init="nndsvda", solver="cd", max_iter=1000)`` and, when installed,
  the reference package ``spectral-unmixing``'s random NNMF — relative error and worst
  best-match spectrum cosine.

Float data with NaN pixels: the NaN pixels are dropped for scikit-learn (ours skips them),
and data are clipped at 0 for scikit-learn only (it refuses negative values); every
relative error is measured on the unclipped data.

Usage: ``python benchmarks/bench_hs_scenarios.py [--quick] [--scenes N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row
from napari_unmix.api.nmf import nnls_unmix, random_nnmf, seeded_nnmf
from napari_unmix.core.scenarios.hyperspectral import make_scene
from napari_unmix.core.seeds import ComponentSeed, prepare_seeds

try:  # the reference package, installed in .venv-bench only
    import spectral_unmixing as _su

    REFERENCE = f"spectral-unmixing {getattr(_su, '__version__', '')}".strip()
except ImportError:  # pragma: no cover - depends on the venv
    _su = None
    REFERENCE = None


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else 0.0


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / den) if den > 0 else 0.0


def _best_match_cosine(H: np.ndarray, truth: np.ndarray) -> float:
    """Worst cosine over the true spectra after the best one-to-one matching."""
    from scipy.optimize import linear_sum_assignment

    cos = np.array([[_cos(t, h) for h in H] for t in truth])
    rows, cols = linear_sum_assignment(-cos)
    return float(cos[rows, cols].min())


def _roi_seeds(scene, data):
    masks, background = scene.roi_masks()
    comps = [ComponentSeed(name=f"c{j}", masks=[m]) for j, m in enumerate(masks)]
    if scene.params["background_level"] > 0:
        comps.append(ComponentSeed(name="background", masks=[background]))
    return prepare_seeds(data, comps, background_projection=None)


def _timed(fn):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn()
    return time.perf_counter() - t0, out


def _describe(scene) -> str:
    p = scene.params
    return (
        f"{p['shape'][0]}x{p['shape'][1]}x{p['n_channels']} k={p['n_components']} "
        f"{p['dtype']} counts={p['counts']:.3g} {p['spectral_units']}"
        + (" pair" if p["close_pair"] else "")
        + (" bg" if p["background_level"] > 0 else "")
        + (" NaN" if p["nan_fraction"] > 0 else "")
    )


def _sk_data(scene):
    """Finite pixels, clipped at 0 (for scikit-learn) and as they are (for the errors)."""
    X = scene.cube.reshape(scene.cube.shape[0], -1).T.astype(np.float64)
    good = np.isfinite(X).all(axis=1)
    return np.maximum(X[good], 0.0), good, X[good]


def run_scene(seed: int, max_side: int, max_channels: int) -> list[dict]:
    from sklearn.decomposition import NMF, non_negative_factorization

    scene = make_scene(random_state=seed, max_side=max_side, max_channels=max_channels)
    k = scene.n_components
    W_true, H_true = scene.truth()
    kb = H_true.shape[0]
    X, good, X_raw = _sk_data(scene)
    truth_maps = W_true[good]
    base = {"scene": seed, "data": _describe(scene)}
    rows = []

    # NNLS with the true spectra
    t, res = _timed(lambda: nnls_unmix(scene.cube, H_true))
    r_ours = min(_corr(res.W[j], scene.maps[j]) for j in range(k))
    t_sk, (Ws, _, _) = _timed(
        lambda: non_negative_factorization(X, H=H_true, n_components=kb, update_H=False)
    )
    r_sk = min(_corr(Ws[:, j], truth_maps[:, j]) for j in range(k))
    rows.append(base | {"method": "NNLS", "ours_s": t, "ours": f"map r {r_ours:.3f}",
                        "ours_score": r_ours, "sklearn_s": t_sk,
                        "sklearn": f"map r {r_sk:.3f}", "sklearn_score": r_sk})  # fmt: skip

    # seeded NNMF from ROI-mean seeds
    data = np.nan_to_num(scene.cube.astype(np.float64))
    seeds = _roi_seeds(scene, data)
    t, res = _timed(lambda: seeded_nnmf(scene.cube, seeds))
    cos_ours = min(_cos(res.H[j], scene.spectra[j]) for j in range(k))
    r_ours = min(_corr(res.W[j], scene.maps[j]) for j in range(k))
    W0 = seeds.W0.reshape(seeds.k, -1).T[good]
    t_sk, (Ws, Hs, n_sk) = _timed(
        lambda: non_negative_factorization(
            X, W=W0.copy(), H=seeds.H0.copy(), n_components=seeds.k, init="custom"
        )
    )
    cos_sk = min(_cos(Hs[j], scene.spectra[j]) for j in range(k))
    r_sk = min(_corr(Ws[:, j], truth_maps[:, j]) for j in range(k))
    err_sk = float(np.linalg.norm(X_raw - Ws @ Hs) / np.linalg.norm(X_raw))
    rows.append(base | {
        "method": "seeded NNMF", "ours_s": t, "ours_score": cos_ours,
        "ours": f"cos {cos_ours:.3f} r {r_ours:.3f} err {res.relative_error:.4f} "
        f"({res.n_iter} it)",
        "sklearn_s": t_sk, "sklearn_score": cos_sk,
        "sklearn": f"cos {cos_sk:.3f} r {r_sk:.3f} err {err_sk:.4f} ({n_sk} it)",
    })  # fmt: skip

    # random NNMF, k = components (+ background)
    t, res = _timed(lambda: random_nnmf(scene.cube, kb, random_state=0))
    cos_ours = _best_match_cosine(res.H, H_true)
    model = NMF(kb, init="nndsvda", solver="cd", max_iter=1000, random_state=0)
    t_sk, Wsk = _timed(lambda: model.fit_transform(X))
    err_sk = float(np.linalg.norm(X_raw - Wsk @ model.components_) / np.linalg.norm(X_raw))
    cos_sk = _best_match_cosine(model.components_, H_true)
    row = base | {
        "method": "random NNMF", "ours_s": t, "ours_score": cos_ours,
        "ours": f"cos {cos_ours:.3f} err {res.relative_error:.4f} ({res.n_iter} it)",
        "sklearn_s": t_sk, "sklearn_score": cos_sk,
        "sklearn": f"cos {cos_sk:.3f} err {err_sk:.4f} ({model.n_iter_} it)",
    }  # fmt: skip
    ref = _reference_random_nnmf(X, X_raw, kb, H_true)
    if ref is not None:
        row |= ref
    rows.append(row)
    return rows


def _reference_random_nnmf(X, X_raw, k, H_true):
    """The reference package's random NNMF on the same pixels, when it has one."""
    fn = None if _su is None else getattr(_su, "random_nnmf", None)
    if fn is None:
        return None
    t, out = _timed(lambda: fn(X, k))
    H = np.asarray(out[1] if isinstance(out, tuple) else out.H)
    W = np.asarray(out[0] if isinstance(out, tuple) else out.W)
    err = float(np.linalg.norm(X_raw - W @ H) / np.linalg.norm(X_raw))
    cos = _best_match_cosine(H, H_true)
    return {"reference_s": t, "reference": f"cos {cos:.3f} err {err:.4f}", "reference_score": cos}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 scenes up to 128 px")
    parser.add_argument("--scenes", type=int, default=None, help="number of scenes")
    args = parser.parse_args(argv)
    n = args.scenes or (8 if args.quick else 24)
    max_side, max_channels = (128, 60) if args.quick else (256, 120)
    print(f"machine: {machine()}; reference: {REFERENCE or 'spectral-unmixing not installed'}")
    rows = []
    for seed in range(n):
        rows += run_scene(seed, max_side, max_channels)
        print(f"scene {seed}: {rows[-1]['data']}", flush=True)
    for r in rows:
        for key in ("ours_s", "sklearn_s", "reference_s"):
            if key in r:
                r[key] = round(r[key], 3)
    print_table([{k: v for k, v in r.items() if not k.endswith("_score")} for r in rows])
    save_rows("bench_hs_scenarios", rows)
    summary = []
    for method in ("NNLS", "seeded NNMF", "random NNMF"):
        sel = [r for r in rows if r["method"] == method]
        metric = "worst map r" if method == "NNLS" else "worst spectrum cos"
        ours = [r["ours_score"] for r in sel]
        sk = [r["sklearn_score"] for r in sel]
        line = {
            "method": method,
            "scenes": len(sel),
            "metric": metric,
            "ours median": round(statistics.median(ours), 3),
            "ours 10th pct": round(float(np.percentile(ours, 10)), 3),
            "sklearn median": round(statistics.median(sk), 3),
            "sklearn 10th pct": round(float(np.percentile(sk, 10)), 3),
            "ours >= sklearn - 0.005": f"{sum(o >= s - 0.005 for o, s in zip(ours, sk, strict=True))}"
            f"/{len(sel)}",
            "ours s (median)": round(statistics.median(r["ours_s"] for r in sel), 3),
            "sklearn s (median)": round(statistics.median(r["sklearn_s"] for r in sel), 3),
        }
        summary.append(line)
        summary_row_ref = summary_row(
            "hyperspectral scenarios", method, data=f"{len(sel)} random scenes",
            ours_s=line["ours s (median)"], ours_peak_mb=round(peak_rss_mb()),
            ours_accuracy=f"{metric} median {line['ours median']}, 10th pct "
            f"{line['ours 10th pct']}",
            reference="scikit-learn", reference_s=line["sklearn s (median)"],
            reference_accuracy=f"{metric} median {line['sklearn median']}, 10th pct "
            f"{line['sklearn 10th pct']}",
        )  # fmt: skip
        line["_summary"] = summary_row_ref
    print()
    print_table([{k: v for k, v in s.items() if not k.startswith("_")} for s in summary])
    save_summary("bench_hs_scenarios", [s["_summary"] for s in summary])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
