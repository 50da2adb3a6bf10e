"""Benchmark: ROI suggester time and ground-truth recovery on bead cubes up to 512×512×80.

No reference package implements this suggester (there is no PyPI equivalent of a
threshold-sweep ROI proposer with spectral grouping), so the reference column says
"not available"; the figure to compare with is the issue's: a suggester of this design
takes about 0.4 s on 256×256×80. ``--quick`` runs 128² and 256² only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, peak_rss_mb, print_table, save_rows, timed
from napari_unmix.api.suggest import suggest_rois
from napari_unmix.core.suggest import score_against_truth
from napari_unmix.core.synthetic import make_bead_cube

SETTINGS = (
    {"max_groups": 3},
    {"max_groups": 4},
    {"max_groups": 4, "binning": 2},
    {"max_groups": 4, "hierarchical": False},
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128² and 256² only")
    args = parser.parse_args()
    sizes = (128, 256) if args.quick else (128, 256, 512)
    rows = []
    for n in sizes:
        cube, truth = make_bead_cube(shape=(n, n), n_channels=80)
        for settings in SETTINGS:
            seconds, res = timed(
                lambda c=cube, s=settings: suggest_rois(c, warn=False, **s), repeat=3
            )
            score = score_against_truth(res.boxes, res.groups, truth["abundances"])
            rows.append(
                {
                    "benchmark": "suggest_rois",
                    "size": f"{n}x{n}x80",
                    "settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
                    "ours_s": f"{seconds:.3f}",
                    "reference": "not available",
                    "ratio": "n/a",
                    "found": f"{score['n_found']}/4",
                    "pure_groups": f"{score['n_pure_groups']}/{score['n_groups']}",
                    "peak_rss_mb": f"{peak_rss_mb():.0f}",
                }
            )
    print(f"ROI suggester ({machine()})")
    print_table(rows)
    save_rows("bench_suggest", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
