"""Hyperspectral maps: our cluster maps, silhouette and preprocessing vs ``foodspec`` 1.0.0.

Same data for both: the two-region cube (200 wavenumbers, 600–1800 cm⁻¹, noise 0.05) at
256×256 (``--quick``: 64×64). foodspec's hyperspectral segmentation is
``HyperspectralDataset.segment`` (k-means with n_init=10, or full Ward via
``AgglomerativeClustering``); its silhouette is ``compute_embedding_silhouette`` on every
pixel; its ALS baseline loops over pixels with a sparse solve each. foodspec has no
Gaussian-mixture segmentation: that row says so. foodspec's full Ward needs an n×n distance
matrix (~17 GB at 256×256), so it runs at 128×128 (``--quick``: 64×64) and the row says so.

Usage: ``python benchmarks/bench_hsmap.py [--quick]`` (with foodspec installed, e.g. in
``.venv-bench``; without it, the reference columns read "not available").
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common
from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row, timed
from napari_unmix.core import hsmap
from napari_unmix.core.metrics import adjusted_rand_index, silhouette
from napari_unmix.core.preprocess import baseline_asls
from napari_unmix.core.synthetic import make_two_region_cube

try:
    import foodspec
    from foodspec.core.spectral_dataset import HyperspectralDataset
    from foodspec.metrics import compute_embedding_silhouette
    from foodspec.preprocess.baseline import ALSBaseline

    FOODSPEC = f"foodspec {foodspec.__version__}"
    FOODSPEC_ERR = ""
except Exception as err:  # reference missing or its API changed: say so, never fake it
    FOODSPEC = None
    FOODSPEC_ERR = f"not available ({type(err).__name__}: {err})"


def _fs_dataset(cube, axis):
    import pandas as pd

    yx = np.moveaxis(cube, 0, -1).astype(np.float64)  # foodspec wants (y, x, wn)
    meta = pd.DataFrame({"pixel": np.arange(yx.shape[0] * yx.shape[1])})
    return HyperspectralDataset.from_cube(yx, axis, meta)


def _child(conn, fn):
    t0 = time.perf_counter()
    out = fn()
    conn.send((time.perf_counter() - t0, out))
    conn.close()


def _in_child(fn):
    """Run ``fn`` in a forked child; returns (seconds, result, child peak RSS MB)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn))
    proc.start()
    seconds, out = parent.recv()
    proc.join()
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return seconds, out, rss


def _row(case, size, ours, ref, *, ours_acc="", ref_acc="", notes=""):
    ratio = f"{ref / ours:.1f}x" if isinstance(ref, float) and ours > 0 else ""
    return {
        "benchmark": "bench_hsmap",
        "case": case,
        "size": size,
        "ours (s)": f"{ours:.3f}",
        "reference": FOODSPEC or "foodspec",
        "reference (s)": f"{ref:.3f}" if isinstance(ref, float) else ref,
        "ref/ours": ratio,
        "ours ARI": ours_acc,
        "ref ARI": ref_acc,
        "notes": notes,
    }


def main() -> int:
    quick = _common.quick_run(__doc__, "64×64 instead of 256×256")
    warnings.filterwarnings("ignore", module="foodspec")  # its sparse-format notices
    warnings.filterwarnings("ignore", message=".*spsolve requires A be CSC")
    side = 64 if quick else 256
    ward_side = 64 if quick else 128
    cube, truth = make_two_region_cube(shape=(side, side))
    axis, gt = truth["spectral_axis"], truth["labels"]
    size = f"{side}×{side}×200"
    na = FOODSPEC_ERR
    rows = []
    # foodspec's Ward first: its forked child's peak RSS is then its own
    if FOODSPEC:
        wcube, wtruth = make_two_region_cube(shape=(ward_side, ward_side))
        ds_w = _fs_dataset(wcube, axis)
        fs_w_t, fs_w_lab, fs_w_rss = _in_child(lambda: ds_w.segment("hierarchical", 2))
        fs_w_ari = f"{adjusted_rand_index(fs_w_lab, wtruth['labels']):.3f}"
        ours_w_t, res_w = timed(
            lambda: hsmap.cluster_pixels(wcube, n_clusters=2, method="ward"), repeat=1
        )
        rows.append(
            _row(
                "Ward (same size as foodspec)", f"{ward_side}×{ward_side}×200", ours_w_t, fs_w_t,
                ours_acc=f"{adjusted_rand_index(res_w.labels, wtruth['labels']):.3f}",
                ref_acc=fs_w_ari, notes=f"foodspec full Ward, child peak RSS {fs_w_rss:.0f} MB",
            )
        )  # fmt: skip

    # connectivity-constrained Ward on every pixel (sparse 4-neighbour graph), Ward's size
    wcube2, wtruth2 = make_two_region_cube(shape=(ward_side, ward_side))
    ours_g_t, res_g = timed(
        lambda: hsmap.cluster_pixels(wcube2, n_clusters=2, method="ward", connectivity="grid"),
        repeat=1,
    )
    rows.append(
        _row("Ward, grid connectivity, all pixels", f"{ward_side}×{ward_side}×200", ours_g_t,
             na or "see the first row",
             ours_acc=f"{adjusted_rand_index(res_g.labels, wtruth2['labels']):.3f}",
             notes="no n² matrix: a sparse neighbour graph")
    )  # fmt: skip

    # k-means
    ours_t, res = timed(lambda: hsmap.cluster_pixels(cube, n_clusters=2, random_state=0))
    ours_ari = f"{adjusted_rand_index(res.labels, gt):.3f}"
    ref_t, ref_acc = na, ""
    if FOODSPEC:
        ds = _fs_dataset(cube, axis)
        ref_t, lab = timed(lambda: ds.segment("kmeans", 2), repeat=1)
        ref_acc = f"{adjusted_rand_index(lab, gt):.3f}"
    rows.append(_row("k-means cluster map", size, ours_t, ref_t, ours_acc=ours_ari,
                     ref_acc=ref_acc, notes="ours n_init=1, foodspec n_init=10"))  # fmt: skip

    # silhouette on a seeded 10k-pixel sample, and foodspec on the same sample
    feats = cube.reshape(200, -1).T
    n_s = min(10000, feats.shape[0])
    idx = np.sort(np.random.default_rng(0).choice(feats.shape[0], n_s, replace=False))
    ours_t, s = timed(lambda: silhouette(feats, res.labels.ravel(), sample_size=10000))
    ref_t, notes = na, f"ours {s:.3f}"
    if FOODSPEC:
        ref_t, s_ref = timed(
            lambda: compute_embedding_silhouette(feats[idx], res.labels.ravel()[idx]), repeat=1
        )
        notes += f", foodspec {s_ref:.3f} on the same sample"
    rows.append(_row(f"silhouette, {n_s} px sample", size, ours_t, ref_t, notes=notes))
    if FOODSPEC:  # foodspec has no subsampling: all pixels, at the Ward size
        wf = wcube.reshape(200, -1).T
        ref_t, s_all = timed(
            lambda: compute_embedding_silhouette(wf, res_w.labels.ravel()), repeat=1
        )
        ours_t, s_ours = timed(lambda: silhouette(wf, res_w.labels.ravel(), sample_size=None))
        rows.append(
            _row("silhouette, all pixels", f"{ward_side}×{ward_side}×200", ours_t, ref_t,
                 notes=f"ours {s_ours:.3f}, foodspec {s_all:.3f}")
        )  # fmt: skip

    # Ward at full size (subsample + assignment), GMM
    ours_t, res_ward = timed(
        lambda: hsmap.cluster_pixels(cube, n_clusters=2, method="ward"), repeat=1
    )
    n2_gb = (side * side) ** 2 * 8 / 2 / 1e9
    if side > ward_side:
        ref_ward = na or f"not run (full Ward needs ~{n2_gb:.0f} GB of distances)"
    else:
        ref_ward = na or "see the first row"
    rows.append(
        _row("Ward cluster map", size, ours_t, ref_ward,
             ours_acc=f"{adjusted_rand_index(res_ward.labels, gt):.3f}",
             notes=res_ward.report["fit"]["mode"])
    )  # fmt: skip
    ours_t, res_gmm = timed(
        lambda: hsmap.cluster_pixels(cube, n_clusters=2, method="gmm"), repeat=1
    )
    rows.append(
        _row("GMM cluster map", size, ours_t,
             na or "not available (foodspec 1.0.0 has no Gaussian-mixture segmentation)",
             ours_acc=f"{adjusted_rand_index(res_gmm.labels, gt):.3f}",
             notes=f"diag covariance, fitted on {res_gmm.report['fit']['n_fit']} px")
    )  # fmt: skip

    # AsLS baseline: ours vectorised over every pixel, foodspec's per-pixel loop on a few
    ours_t, _ = timed(lambda: baseline_asls(feats, lam=1e5, p=0.001, n_iter=10), repeat=1)
    ref_t, notes = na, f"ours {1e3 * ours_t / feats.shape[0]:.3f} ms/px"
    if FOODSPEC:
        n_fs = 200
        ref_sub, _ = timed(
            lambda: ALSBaseline(lambda_=1e5, p=0.001, max_iter=10).transform(feats[:n_fs]),
            repeat=1,
        )
        per_px = ref_sub / n_fs
        ref_t = per_px * feats.shape[0]
        notes += (f"; foodspec {1e3 * per_px:.1f} ms/px measured on {n_fs} px, "
                  f"reference (s) extrapolated to {feats.shape[0]} px")  # fmt: skip
    rows.append(_row("AsLS baseline, all pixels", size, ours_t, ref_t, notes=notes))

    print(f"bench_hsmap on {machine()}; our peak RSS {peak_rss_mb():.0f} MB")
    print_table(rows)
    save_rows("bench_hsmap", rows)
    save_summary("bench_hsmap", [_summary(r) for r in rows])
    return 0


def _summary(r: dict) -> dict:
    def num(v):
        try:
            return float(v)
        except (TypeError, ValueError):
            return v

    return summary_row(
        "hyperspectral maps", r["case"], data=r["size"], ours_s=num(r["ours (s)"]),
        ours_accuracy=f"ARI {r['ours ARI']}" if r["ours ARI"] else r["notes"],
        reference=r["reference"], reference_s=num(r["reference (s)"]),
        reference_accuracy=f"ARI {r['ref ARI']}" if r["ref ARI"] else None,
    )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
