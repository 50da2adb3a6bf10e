"""Demo: ROI suggester on the bead cube and on the harder five-similar-spectra cube."""

from __future__ import annotations

from pathlib import Path

from ..api.suggest import suggest_rois
from ..core import synthetic
from ..core.suggest import score_against_truth
from ..io.omio_io import write_image
from ..io.sidecar import write_sidecar

#: (sample, generator, settings) run by the demo
RUNS = (
    ("bead_cube", synthetic.make_bead_cube, {}),  # defaults: scale and groups estimated
    ("bead_cube", synthetic.make_bead_cube, {"max_groups": 4}),
    ("bead_cube", synthetic.make_bead_cube, {"max_groups": 3}),
    ("similar_cube", synthetic.make_similar_bead_cube, {"max_groups": 5}),
    ("similar_cube", synthetic.make_similar_bead_cube, {"max_groups": 5, "hierarchical": False}),
)


def run(output_dir: Path) -> list[dict]:
    from ..plot.figure import save_figure
    from ..plot.suggest import suggestions_figure

    output_dir.mkdir(parents=True, exist_ok=True)
    rows, cubes = [], {}
    for sample, make, settings in RUNS:
        if sample not in cubes:
            cubes[sample] = make()
        cube, truth = cubes[sample]
        res = suggest_rois(cube, name=sample, warn=False, **settings)
        score = score_against_truth(res.boxes, res.groups, truth["abundances"])
        res.report["ground_truth_score"] = score
        tag = "_".join([sample, *(f"{k}{v}" for k, v in settings.items())])
        path = write_image(
            output_dir / f"{tag}_response.ome.tif", res.response[None, None, None], overwrite=True
        )
        write_sidecar(path, res.report, overwrite=True)
        fig = suggestions_figure(
            res,
            spectral_axis=truth["spectral_axis"],
            spectral_units=truth["spectral_units"],
            dominant=score["dominant"],
            names=truth["names"],
            title=f"{sample}: {settings}",
        )
        save_figure(fig, output_dir / f"{tag}.png", overwrite=True)
        k = len(truth["spectra"])
        rows.append(
            {
                "tool": "suggest",
                "result": f"{sample} {settings}: {len(res)} ROIs, {res.n_groups} groups, "
                f"{res.report['seconds']:.2f} s",
                "vs ground truth": f"{score['n_found']}/{k} components dominate a ROI; "
                f"{score['n_pure_groups']}/{score['n_groups']} groups pure",
            }
        )
    return rows
