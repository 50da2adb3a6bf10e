"""Demo: PICASSO on the 3-channel sample (known mixing matrix) and a 4-channel mix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.picasso import crosstalk_metrics
from ..core.synthetic import make_picasso_mix


def _row(name: str, out: np.ndarray, truth: dict, report: dict) -> dict:
    m = crosstalk_metrics(out[0, 0], truth["fluorophores"][0, 0])
    its = report["result"]["iterations_run"]
    return {
        "tool": "picasso",
        "result": f"{name}: {its[0]} iterations",
        "vs ground truth": (
            f"crosstalk {m['crosstalk']:.3f} (<=0.03), own-signal gain "
            f"{min(m['gain']):.2f}-{max(m['gain']):.2f} (>=0.9), signal pixels clipped "
            f"{max(m['clipped_signal_fraction']):.1%} (<5%)"
        ),
    }


def run(output_dir: Path) -> list[dict]:
    from ..api.picasso import unmix_picasso
    from ..io.omio_io import read_image, write_image
    from ..io.sidecar import read_sidecar
    from ..plot.figure import save_figure
    from ..plot.picasso import picasso_figure

    output_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n_ch in (3, 4):
        data, truth = make_picasso_mix(n_channels=n_ch, random_state=0)
        src = write_image(output_dir / f"mix{n_ch}.ome.tif", data, overwrite=True)
        runs = [("source_sink_n", {})]
        if n_ch == 3:  # 128² images: ~1000 blocks per plane with pixel_bin_size=4
            runs.append(("matlab_3c", {"pixel_bin_size": 4}))
        for impl, extra in runs:
            dst = output_dir / f"mix{n_ch}_{impl}.ome.tif"
            for p in (dst, Path(f"{dst}.json")):
                p.unlink(missing_ok=True)
            path = unmix_picasso(src, dst, implementation=impl, verbose=False, **extra)
            out, _ = read_image(path)
            report = read_sidecar(path)
            rows.append(_row(f"{n_ch} channels, {impl}", out, truth, report))
            mix_est = np.asarray(report["result"]["mixing_matrix_by_t"][0])
            fig = picasso_figure(
                data[0, 0],
                out[0, 0],
                truth=truth["fluorophores"][0, 0],
                mixing_estimated=mix_est,
                mixing_true=truth["mixing"],
                title=f"PICASSO {impl}, {n_ch} channels",
            )
            save_figure(fig, output_dir / f"mix{n_ch}_{impl}.png", overwrite=True)
    return rows
