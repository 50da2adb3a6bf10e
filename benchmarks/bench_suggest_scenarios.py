"""Benchmark: ROI suggester and background workflows on the randomised scenario generator.

Two tables over :func:`napari_unmix.core.scenarios.hyperspectral.make_scene` (known maps,
spectra, background and the component that dominates each object):

1. **suggester** — with the defaults (object scale and group count estimated from the data)
   against the previous fixed defaults (``local_background_sigma=8``, ``max_groups=3``) and
   the oracle group count (``max_groups`` = the true number of components, sigma 8): the
   components that dominate at least one object and get a box dominated by them (found /
   total), the pure groups (all boxes dominated by one component) / groups, per image
   size (64-1024 px) and data type (``uint16`` counts, ``float32`` in an arbitrary unit),
   and split by the scene's contrast-to-noise ratio (CNR: counts per channel at abundance 1
   over the noise, ``counts / sqrt(counts + read_noise²)``; below 1 the objects are hardly
   visible in any channel). A unit check runs the same scenes × 1e-30, × 1 and × 1e30.
2. **background workflows** — scenes with two close spectral variants (cosine 0.86-0.92),
   a third component and a smooth background gradient; ROI-mean seeds in one pure object
   per component and one background ROI in the largest empty area; seeded NNMF with:
   plain seeds, a background component (the previous locked channel-mean W and the new
   estimated, unlocked W), background-ROI subtraction (the previous constant spectrum and
   the new per-pixel scaled one), the two new ones also with ``anchor=0`` (no seed
   anchor: plain NNMF). Reported: H cosine and W map correlation (Pearson) with
   the truth, the worst of the two close variants and of all components, median over scenes.

No reference package implements a ROI suggester or these background workflows; the
obvious baselines are the previous defaults, run side by side. ``--quick`` runs fewer
scenes and sizes up to 256 px.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row
from napari_unmix.api.nmf import seeded_nnmf
from napari_unmix.core.scenarios.hyperspectral import make_scene
from napari_unmix.core.seeds import ComponentSeed
from napari_unmix.core.suggest import find_suggestions, score_against_truth

SUGGEST_SETTINGS = {
    "defaults (estimated)": lambda k: {},
    "previous defaults (sigma 8, 3 groups)": lambda k: {
        "local_background_sigma": 8.0,
        "max_groups": 3,
    },
    "sigma 8, true group count": lambda k: {"local_background_sigma": 8.0, "max_groups": k},
}


def cnr(params: dict) -> float:
    """Counts per channel at abundance 1 over the noise of one pixel and channel."""
    return float(params["counts"] / np.sqrt(params["counts"] + params["read_noise"] ** 2))


def suggest_scene(size: int, seed: int, dtype: str):
    return make_scene(
        random_state=10_000 * size + seed,
        shape=(size, size),
        dtype=dtype,
        max_channels=80 if size <= 256 else 40,
    )


def score_scene(scene, res) -> tuple[int, int, int, int]:
    """(found, total, pure groups, groups) of one suggestion on one scene."""
    need = set(scene.object_components.tolist())
    s = score_against_truth(res.boxes, res.groups, scene.maps)
    return len(set(s["components_found"]) & need), len(need), s["n_pure_groups"], s["n_groups"]


def suggester_rows(sizes: tuple[int, ...], n_seeds: dict[int, int]) -> list[dict]:
    rows = []
    for size in sizes:
        for dtype in ("uint16", "float32"):
            acc = {name: np.zeros((2, 4), int) for name in SUGGEST_SETTINGS}
            seconds = dict.fromkeys(SUGGEST_SETTINGS, 0.0)
            for seed in range(n_seeds[size]):
                scene = suggest_scene(size, seed, dtype)
                band = int(cnr(scene.params) >= 1.0)
                for name, make in SUGGEST_SETTINGS.items():
                    t0 = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        res = find_suggestions(scene.cube, **make(scene.n_components))
                    seconds[name] += time.perf_counter() - t0
                    acc[name][band] += score_scene(scene, res)
            for name in SUGGEST_SETTINGS:
                lo, hi = acc[name]
                tot = lo + hi
                rows.append(
                    {
                        "benchmark": "suggest scenarios",
                        "size": f"{size}x{size}",
                        "data": dtype,
                        "settings": name,
                        "scenes": n_seeds[size],
                        "found (CNR >= 1)": f"{hi[0]}/{hi[1]}",
                        "found (CNR < 1)": f"{lo[0]}/{lo[1]}",
                        "found (all)": f"{tot[0]}/{tot[1]}",
                        "pure groups": f"{tot[2]}/{tot[3]}",
                        "groups per scene": round(tot[3] / n_seeds[size], 1),
                        "s per scene": round(seconds[name] / n_seeds[size], 3),
                    }
                )
    return rows


def unit_rows(n: int) -> list[dict]:
    """The same float scenes × 2^-100 and × 2^100 (exact in floating point: identical boxes
    and groups?) and × 1e-30 and × 1e30 (rounded by float32: the same components found and
    the same number of groups?)."""
    exact = same = 0
    for seed in range(n):
        scene = make_scene(random_state=7_000 + seed, shape=(128, 128), dtype="float32")
        cube = np.nan_to_num(scene.cube, nan=0.0)
        base = find_suggestions(cube)
        runs = [find_suggestions(cube * np.float32(f)) for f in (2.0**-100, 2.0**100)]
        exact += all(
            np.array_equal(r.boxes, base.boxes) and np.array_equal(r.groups, base.groups)
            for r in runs
        )
        runs = [find_suggestions(cube * np.float32(f)) for f in (1e-30, 1e30)]
        same += all(
            score_scene(scene, r)[0] == score_scene(scene, base)[0] and r.n_groups == base.n_groups
            for r in runs
        )
    return [
        {
            "benchmark": "suggest unit check",
            "scenes": n,
            "identical boxes and groups at x2^-100, x2^100": f"{exact}/{n}",
            "same components found and group count at x1e-30, x1e30": f"{same}/{n}",
        }
    ]


# ----------------------------------------------------------------------------- backgrounds
def pure_roi(scene, j: int) -> np.ndarray:
    """Mask of the purest, largest object dominated by component ``j`` (eroded by 1 px)."""
    total = scene.maps.sum(axis=0)
    purity = np.where(total > 0, scene.maps[j] / np.maximum(total, 1e-12), 0)
    best, best_key = None, None
    for i in np.flatnonzero(scene.object_components == j):
        obj = scene.labels == i + 1
        if not obj.any():
            continue
        key = (round(float(np.median(purity[obj])), 2), int(obj.sum()))
        if best_key is None or key > best_key:
            best, best_key = obj, key
    eroded = ndi.binary_erosion(best)
    return eroded if eroded.sum() >= 4 else best


def background_roi(scene) -> np.ndarray:
    """The largest square (at most 17 px) in the object-free area."""
    empty = scene.maps.sum(axis=0) < 0.01 * scene.maps.max()
    dist = ndi.distance_transform_edt(np.pad(empty, 1))[1:-1, 1:-1]  # the border is no room
    y, x = np.unravel_index(np.argmax(dist), dist.shape)
    half = int(np.clip(dist[y, x] / np.sqrt(2) - 1, 1, 8))
    mask = np.zeros(empty.shape, bool)
    mask[y - half : y + half + 1, x - half : x + half + 1] = True
    return mask & empty


def background_scene(seed: int):
    rng = np.random.default_rng(seed)
    return make_scene(
        random_state=seed,
        shape=(128, 128),
        n_components=3,
        close_pair=True,
        background_level=float(rng.uniform(0.2, 0.6)),
        counts=float(10 ** rng.uniform(2.5, 4.0)),
        dtype="uint16",
        n_channels=60,
        object_diameter=float(rng.uniform(8, 20)),
        nan_fraction=0.0,
    )


WORKFLOWS = {
    "plain ROI seeds": {},
    "background component, channel-mean W locked (previous)": {
        "component": True,
        "seed_options": {"background_projection": "mean"},
        "lock_w": True,
    },
    "background component, estimated W (new default)": {"component": True},
    "background component, estimated W, anchor 0 (plain NNMF)": {"component": True, "anchor": 0.0},
    "background subtraction, constant (previous)": {
        "subtract": True,
        "seed_options": {"background_subtraction": "constant"},
    },
    "background subtraction, scaled per pixel (new default)": {"subtract": True},
    "background subtraction, scaled per pixel, anchor 0 (plain NNMF)": {
        "subtract": True,
        "anchor": 0.0,
    },
}


def run_workflow(scene, wf: dict) -> tuple[np.ndarray, np.ndarray]:
    """H cosine and W correlation with the truth per component (k,)."""
    k = scene.n_components
    comps = [ComponentSeed(name=f"c{j}", masks=[pure_roi(scene, j)]) for j in range(k)]
    bg = background_roi(scene)
    opts = dict(wf.get("seed_options", {}))
    if wf.get("component"):
        comps.append(
            ComponentSeed(name="bg", masks=[bg], background=True, lock_w=wf.get("lock_w", False))
        )
    if wf.get("subtract"):
        opts["background_masks"] = [bg]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anchor = {"anchor": wf["anchor"]} if "anchor" in wf else {}  # else the default
        res = seeded_nnmf(scene.cube, comps, seed_options=opts, **anchor)
    H, W = np.asarray(res.H)[:k], np.asarray(res.W)[:k].reshape(k, -1)
    truth_h, truth_w = scene.spectra, scene.maps.reshape(k, -1)
    cos = np.sum(H * truth_h, axis=1) / (
        np.linalg.norm(H, axis=1) * np.linalg.norm(truth_h, axis=1) + 1e-300
    )
    corr = np.array([np.corrcoef(W[j], truth_w[j])[0, 1] for j in range(k)])
    return cos, np.nan_to_num(corr, nan=0.0)


def background_rows(n: int) -> list[dict]:
    results = {name: [] for name in WORKFLOWS}
    for seed in range(n):
        scene = background_scene(500 + seed)
        for name, wf in WORKFLOWS.items():
            results[name].append(run_workflow(scene, wf))
    rows = []
    for name, res in results.items():
        cos = np.array([c for c, _ in res])
        corr = np.array([r for _, r in res])
        rows.append(
            {
                "benchmark": "background workflows",
                "workflow": name,
                "scenes": n,
                "close variants: H cosine (worst, median)": round(
                    float(np.median(cos[:, :2].min(axis=1))), 3
                ),
                "close variants: map corr (worst, median)": round(
                    float(np.median(corr[:, :2].min(axis=1))), 3
                ),
                "all: H cosine (worst, median)": round(float(np.median(cos.min(axis=1))), 3),
                "all: map corr (worst, median)": round(float(np.median(corr.min(axis=1))), 3),
                "variant map corr < 0.9": f"{int((corr[:, :2].min(axis=1) < 0.9).sum())}/{n}",
            }
        )
    return rows


def main() -> int:
    quick = _common.quick_run(__doc__, "fewer scenes, sizes <= 256 px")
    if quick:
        sizes, seeds, n_unit, n_bg = (64, 128, 256), {64: 4, 128: 4, 256: 3}, 3, 4
    else:
        sizes = (64, 128, 256, 512, 1024)
        seeds, n_unit, n_bg = {64: 10, 128: 10, 256: 8, 512: 5, 1024: 3}, 6, 12
    t0 = time.perf_counter()
    sug = suggester_rows(sizes, seeds)
    print(f"ROI suggester on the scenario generator ({machine()})")
    print_table(sug)
    unit = unit_rows(n_unit)
    print_table(unit)
    bg = background_rows(n_bg)
    print(f"\nBackground workflows, seeded NNMF ({machine()})")
    print_table(bg)
    print(f"({time.perf_counter() - t0:.0f} s, peak {peak_rss_mb():.0f} MB)")
    save_rows("bench_suggest_scenarios", sug + unit + bg)

    def total(name: str, key: str = "found (CNR >= 1)") -> str:
        num = den = 0
        for r in sug:
            if r["settings"] == name:
                a, b = map(int, r[key].split("/"))
                num, den = num + a, den + b
        return f"{num}/{den}"

    new, old = (
        "background subtraction, scaled per pixel (new default)",
        "background subtraction, constant (previous)",
    )
    by = {r["workflow"]: r for r in bg}

    def seconds(name: str) -> float:
        rows = [r for r in sug if r["settings"] == name]
        return float(np.mean([r["s per scene"] for r in rows]))

    save_summary("bench_suggest_scenarios", [
        summary_row(
            "ROI suggester", "scenario table, defaults", data=f"sizes {sizes[0]}-{sizes[-1]} px",
            ours_s=seconds("defaults (estimated)"),
            reference_s=seconds("previous defaults (sigma 8, 3 groups)"),
            ours_accuracy=f"found {total('defaults (estimated)')} (CNR >= 1), "
            f"{total('defaults (estimated)', 'found (all)')} all",
            reference="previous defaults (sigma 8, 3 groups)",
            reference_accuracy=f"found {total('previous defaults (sigma 8, 3 groups)')} "
            f"(CNR >= 1), {total('previous defaults (sigma 8, 3 groups)', 'found (all)')} all",
        ),
        summary_row(
            "seeded NNMF backgrounds", "background-ROI subtraction", data="close variants",
            ours_s=None,
            ours_accuracy=f"variants H cos {by[new]['close variants: H cosine (worst, median)']}, "
            f"map corr {by[new]['close variants: map corr (worst, median)']}",
            reference="constant subtraction (previous)",
            reference_accuracy=f"H cos {by[old]['close variants: H cosine (worst, median)']}, "
            f"map corr {by[old]['close variants: map corr (worst, median)']}",
        ),
    ])  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
