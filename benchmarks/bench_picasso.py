"""PICASSO: napari-unmix vs the ``spectral-unmixing`` package on the same synthetic data.

3 channels mixed by a known matrix (off-diagonals 0.1–0.4), 512² (``--quick``: 256²).
Times one run of each implementation (the reference's source–sink mode takes minutes),
and scores every output against the true fluorophores: residual crosstalk, own-signal
gain (1 = fluorophore keeps its own-channel intensity), fraction of true-signal pixels
clipped to zero, fraction of all pixels clipped to zero.

Usage: ``python benchmarks/bench_picasso.py [--quick] [--skip-reference-source-sink]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row
from napari_unmix.core.picasso import apply_picasso, crosstalk_metrics, estimate_picasso
from napari_unmix.core.synthetic import make_picasso_mix


def _score(out_cyx: np.ndarray, truth: dict) -> dict:
    m = crosstalk_metrics(out_cyx, truth["fluorophores"][0, 0])
    return {
        "crosstalk": f"{m['crosstalk']:.4f}",
        "gain min": f"{min(m['gain']):.3f}",
        "signal clipped": f"{max(m['clipped_signal_fraction']):.1%}",
        "all clipped": f"{max(m['clipped_fraction']):.1%}",
    }


def reference_matlab(run, vol: np.ndarray, bin_size: int) -> np.ndarray:
    """The reference's MATLAB-like PICASSO with the published defaults (C, Z, Y, X in,
    max-normalised out); shared with ``bench_picasso_scenarios.py``."""
    out, _ = run(
        vol,
        background_percentile=1.0,
        max_iter=200,
        step_size=0.2,
        qn=100,
        pixel_bin_size=bin_size,
        alpha_clip=0.5,
        negativity_threshold=0.9e-3,
        clip_every_n_iterations=50,
        require_three_channels=vol.shape[0] == 3,
    )
    return out


def _ours(data, truth, label, **kw):
    t0 = time.perf_counter()
    res = estimate_picasso(data, **kw)
    out = apply_picasso(data, res)
    dt = time.perf_counter() - t0
    row = {"implementation": label, "package": "napari-unmix", "seconds": dt}
    return row | _score(out[0, 0], truth), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256² instead of 512²")
    parser.add_argument(
        "--skip-reference-source-sink",
        action="store_true",
        help="do not run the reference source-sink mode (minutes per image)",
    )
    args = parser.parse_args()
    size = 256 if args.quick else 512
    bin_size = 16 * size // 512  # ~1000 blocks per plane, as the MATLAB code on 512²
    data, truth = make_picasso_mix(n_channels=3, shape=(size, size), random_state=0)
    vol = np.moveaxis(data[0], 1, 0)  # C, Z, Y, X as the reference wants
    chan_max = vol.reshape(3, -1).max(axis=1)
    print(f"PICASSO benchmark: 3×{size}², {machine()}", flush=True)

    rows = []
    r, _ = _ours(data, truth, "matlab_3c", implementation="matlab_3c", pixel_bin_size=bin_size)
    rows.append(r)
    r, ours_compat = _ours(
        data,
        truth,
        "matlab_3c reference_compatible",
        implementation="matlab_3c",
        pixel_bin_size=bin_size,
        reference_compatible=True,
    )
    rows.append(r)
    r, _ = _ours(data, truth, "source_sink_n", implementation="source_sink_n")
    rows.append(r)

    try:
        from spectral_unmixing.picasso_impl import (
            default_source_sink_matrix,
            run_picasso_matlab_like,
            run_source_sink_unmixing,
        )
    except ImportError as err:
        rows.append({"implementation": "reference", "package": f"not available ({err})"})
    else:
        t0 = time.perf_counter()
        ref_m = reference_matlab(run_picasso_matlab_like, vol, bin_size)
        dt = time.perf_counter() - t0
        ref_in = ref_m[:, 0] * chan_max[:, None, None]  # its output is max-normalised
        rows.append(
            {"implementation": "matlab_3c", "package": "spectral-unmixing", "seconds": dt}
            | _score(ref_in, truth)
        )
        diff = np.abs(ours_compat[0, 0] - ref_m[:, 0]).max() / ref_m.max()
        rows[1]["vs reference output"] = f"max |diff| {diff:.3f} of max"
        if not args.skip_reference_source_sink:
            t0 = time.perf_counter()
            ref_s, _ = run_source_sink_unmixing(
                vol,
                source_sink_matrix=default_source_sink_matrix(3),
                background_percentile=1.0,
                mi_bins=64,
                alpha_max=1.0,
                max_alpha_voxels=500_000,
                random_state=0,
            )
            dt = time.perf_counter() - t0
            rows.append(
                {"implementation": "source_sink_n", "package": "spectral-unmixing", "seconds": dt}
                | _score(ref_s[:, 0], truth)
            )
    refs = {r["implementation"]: r for r in rows if r["package"] == "spectral-unmixing"}
    for r in rows:  # ours vs the reference of the same implementation
        ref = refs.get(r["implementation"].split()[0])
        if r["package"] == "napari-unmix" and ref:
            r["speed-up vs reference"] = f"{ref['seconds'] / r['seconds']:.1f}x"
    for r in rows:
        if "seconds" in r:
            r["seconds"] = f"{r['seconds']:.2f}"
        r["size"] = f"3x{size}x{size}"
    rows.append({"implementation": "peak RSS", "package": f"{peak_rss_mb():.0f} MB"})
    print_table(rows)
    save_rows("bench_picasso", rows)
    save_summary("bench_picasso", _summary(rows, size))
    return 0


def _summary(rows: list[dict], size: int) -> list[dict]:
    """Headline rows: each of our implementations vs the reference's of the same name."""

    def acc(r):
        return f"crosstalk {r['crosstalk']}, gain min {r['gain min']}" if r else None

    refs = {r["implementation"]: r for r in rows if r.get("package") == "spectral-unmixing"}
    missing = next((r["package"] for r in rows if r["implementation"] == "reference"), None)
    out = []
    for r in rows:
        if r.get("package") != "napari-unmix":
            continue
        ref = refs.get(r["implementation"].split()[0])
        out.append(
            summary_row(
                "PICASSO", r["implementation"], data=f"3 channels, {size}x{size}",
                ours_s=float(r["seconds"]), ours_accuracy=acc(r),
                reference="spectral-unmixing",
                reference_s=float(ref["seconds"]) if ref else (missing or "not run"),
                reference_accuracy=acc(ref),
            )
        )  # fmt: skip
    return out


if __name__ == "__main__":
    raise SystemExit(main())
