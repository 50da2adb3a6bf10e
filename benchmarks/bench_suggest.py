"""Benchmark: ROI suggester time (up to 512×512×80) and ground-truth recovery.

Two tables:

1. **accuracy** on the bead cube (4 components, one 4× dimmer) and on the harder cube with
   five closely related spectra (pairwise cosine 0.85–0.95): how many true components
   dominate (>= 60 % of the true abundance) a suggested ROI and how many groups are pure,
   with the gradient fingerprint on/off and hierarchical/greedy grouping, on the sample
   (seed 0) and summed over several seeds;
2. **time** on bead cubes of 128², 256² and 512² × 80 channels. The generator scales the
   bead radius with the image, so the larger cubes are also run with
   ``local_background_sigma`` scaled by the same factor; the defaults (``None``) estimate
   the object scale and the group count from the data (the scenario table over many
   conditions is ``bench_suggest_scenarios.py``).

No reference package implements this suggester (no PyPI equivalent of a threshold-sweep
ROI proposer with spectral grouping): the reference column says "not available"; the
figure to compare with is the issue's, about 0.4 s on 256×256×80. ``--quick`` runs fewer
seeds and no 512² cube.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row, timed
from napari_unmix.api.suggest import suggest_rois
from napari_unmix.core.suggest import score_against_truth
from napari_unmix.core.synthetic import make_bead_cube, make_similar_bead_cube

CUBES = {"bead cube": make_bead_cube, "similar cube": make_similar_bead_cube}
GROUPINGS = (
    ("hierarchical", True, True),
    ("hierarchical", True, False),
    ("greedy", False, True),
    ("greedy", False, False),
)


def accuracy_rows(n_seeds: int) -> list[dict]:
    rows = []
    for cube_name, make in CUBES.items():
        data = [make(random_state=s + (cube_name == "similar cube")) for s in range(n_seeds)]
        k_true = len(data[0][1]["spectra"])
        for grouping, hierarchical, gradient in GROUPINGS:
            for k in (3, k_true):
                found, pure, first = 0, 0, None
                for cube, truth in data:
                    res = suggest_rois(
                        cube,
                        max_groups=k,
                        hierarchical=hierarchical,
                        gradient_fingerprint=gradient,
                        warn=False,
                    )
                    s = score_against_truth(res.boxes, res.groups, truth["abundances"])
                    found += s["n_found"]
                    pure += s["n_pure_groups"]
                    first = (
                        first or f"{s['n_found']}/{k_true}, {s['n_pure_groups']}/{s['n_groups']}"
                    )
                rows.append(
                    {
                        "benchmark": "suggest accuracy",
                        "cube": cube_name,
                        "grouping": grouping,
                        "gradient": "on" if gradient else "off",
                        "groups": k,
                        "sample: found, pure": first,
                        f"{n_seeds} seeds: found": f"{found}/{n_seeds * min(k, k_true)}",
                        f"{n_seeds} seeds: pure groups": f"{pure}/{n_seeds * k}",
                    }
                )
    return rows


def timing_rows(sizes: tuple[int, ...]) -> list[dict]:
    rows = []
    for n in sizes:
        cube, truth = make_bead_cube(shape=(n, n), n_channels=80)
        settings = [
            {},  # the defaults: object scale and group count estimated from the data
            {"max_groups": 3, "local_background_sigma": 8.0},  # the previous defaults
            {"max_groups": 4},
            {"max_groups": 4, "binning": 2},
        ]
        if n > 128:
            settings.append({"max_groups": 4, "local_background_sigma": 8.0 * n / 128})
        for kw in settings:
            seconds, res = timed(lambda c=cube, s=kw: suggest_rois(c, warn=False, **s), repeat=3)
            score = score_against_truth(res.boxes, res.groups, truth["abundances"])
            rows.append(
                {
                    "benchmark": "suggest_rois",
                    "size": f"{n}x{n}x80",
                    "settings": ", ".join(f"{k}={v}" for k, v in kw.items()) or "defaults",
                    "ours_s": f"{seconds:.3f}",
                    "reference": "not available",
                    "ratio": "n/a",
                    "found": f"{score['n_found']}/4",
                    "pure_groups": f"{score['n_pure_groups']}/{score['n_groups']}",
                    "peak_rss_mb": f"{peak_rss_mb():.0f}",
                }
            )
    return rows


def main() -> int:
    quick = _common.quick_run(__doc__, "4 seeds, 128² and 256² only")
    acc = accuracy_rows(4 if quick else 12)
    print(f"ROI suggester accuracy ({machine()})")
    print_table(acc)
    tim = timing_rows((128, 256) if quick else (128, 256, 512))
    print(f"\nROI suggester time ({machine()})")
    print_table(tim)
    save_rows("bench_suggest", tim + acc)
    save_summary("bench_suggest", [
        summary_row(
            "ROI suggester", r["settings"], data=f"bead cube {r['size']}",
            ours_s=float(r["ours_s"]), ours_peak_mb=float(r["peak_rss_mb"]),
            ours_accuracy=f"found {r['found']}, pure groups {r['pure_groups']}",
            reference="none (no reference package)", reference_s="not available",
        )
        for r in tim
    ])  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
