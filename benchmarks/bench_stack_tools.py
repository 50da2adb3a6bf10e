"""Stack tools vs ``spectral-unmixing`` (same data, same process): time and accuracy.

Data: the bleed-through sample moved by a known drift (z-drift inside each stack, shifts
between time points) so the aligned truth is known; filters and histogram matching are
compared output to output. ``--quick`` uses smaller images.

Run: ``PYTHONPATH=src python benchmarks/bench_stack_tools.py [--quick]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
import napari_unmix.core.stack_tools as ours
from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row, timed
from napari_unmix.core.synthetic import make_bleedthrough_stack

PAD = 16


def drifting(n_t: int, n_z: int, size: int, *, z_drift: bool, t_shift: bool, seed: int = 0):
    """Views of one scene with known drift, and the undrifted truth (both TZCYX)."""
    rng = np.random.default_rng(seed)
    base, _ = make_bleedthrough_stack(
        n_t=1, n_z=n_z, shape=(size + 2 * PAD,) * 2, noise_sigma=0.0, random_state=seed
    )
    dz = np.cumsum(rng.uniform(-1, 1, (n_z, 2)), axis=0) if z_drift else np.zeros((n_z, 2))
    dz -= dz[0]
    dt = rng.uniform(-4, 4, (n_t, 2)) if t_shift else np.zeros((n_t, 2))
    dt[0] = 0
    crop = (slice(PAD, PAD + size),) * 2
    data = np.empty((n_t, n_z, 2, size, size), np.float32)
    for t, z, c in np.ndindex(n_t, n_z, 2):
        data[t, z, c] = ndi.shift(base[0, z, c], dz[z] + dt[t], order=3, mode="nearest")[crop]
    truth = np.broadcast_to(base[:, :, :, PAD:-PAD, PAD:-PAD], data.shape)
    data += rng.normal(0, 0.005, data.shape).astype(np.float32)
    return data, truth, dz, dt


def rel_rms(out: np.ndarray, truth: np.ndarray) -> float:
    """RMS error in the interior (8 px from the border) relative to the truth's RMS."""
    inner = (..., slice(8, -8), slice(8, -8))
    return float(np.sqrt(np.mean((out[inner] - truth[inner]) ** 2) / np.mean(truth[inner] ** 2)))


def main() -> int:
    quick = _common.quick_run(__doc__, "small sizes (seconds)")
    size, n_t, n_z, repeat = (96, 3, 4, 1) if quick else (256, 4, 8, 3)
    try:
        from spectral_unmixing import filters as ref_filters
        from spectral_unmixing import registration as ref_reg
    except ImportError:
        ref_filters = ref_reg = None
    rows: list[dict] = []
    shape = f"{n_t}x{n_z}x2x{size}x{size}"

    summary: list[dict] = []

    def row(task, t_ours, t_ref, acc_ours, acc_ref, metric):
        summary.append(
            summary_row(
                "stack tools",
                task,
                data=f"bleed-through sample {shape} (TZCYX)",
                ours_s=t_ours,
                ours_accuracy=f"{metric} {acc_ours}",
                reference="spectral-unmixing",
                reference_s="not available" if t_ref is None else t_ref,
                reference_accuracy=None if acc_ref is None else f"{metric} {acc_ref}",
            )
        )
        rows.append(
            {
                "benchmark": "bench_stack_tools",
                "task": task,
                "shape (TZCYX)": shape,
                "ours s": f"{t_ours:.3f}",
                "spectral-unmixing s": "not available" if t_ref is None else f"{t_ref:.3f}",
                "ratio ref/ours": "" if t_ref is None else f"{t_ref / t_ours:.2f}",
                "metric": metric,
                "ours": acc_ours,
                "spectral-unmixing": "not available" if acc_ref is None else acc_ref,
            }
        )

    # time registration
    data, truth, _, dt = drifting(n_t, n_z, size, z_drift=False, t_shift=True)
    t_o, (out_o, sh) = timed(
        lambda: ours.register_stack(data, registration_channel=0, return_shifts=True), repeat=repeat
    )
    t_r = out_r = None
    if ref_reg is not None:
        t_r, out_r = timed(
            lambda: ref_reg.register_stack(data, registration_channel=0, verbose=False),
            repeat=repeat,
        )
    row(
        "register over time",
        t_o,
        t_r,
        f"{rel_rms(out_o, truth):.4f} (shift err {np.abs(sh + dt).max():.3f} px)",
        None if out_r is None else f"{rel_rms(out_r, truth):.4f}",
        "rel. RMS to truth",
    )
    # intra-stack z-drift
    data, truth, dz, _ = drifting(n_t, n_z, size, z_drift=True, t_shift=False, seed=1)
    t_o, (out_o, sh) = timed(
        lambda: ours.correct_intra_stack_z_drift(data, return_shifts=True), repeat=repeat
    )
    t_r = out_r = None
    if ref_reg is not None:
        t_r, out_r = timed(
            lambda: ref_reg.correct_intra_stack_z_drift(data, verbose=False), repeat=repeat
        )
    row(
        "z-drift (neighbor)",
        t_o,
        t_r,
        f"{rel_rms(out_o, truth):.4f} (shift err {np.abs(sh + dz[None]).max():.3f} px)",
        None if out_r is None else f"{rel_rms(out_r, truth):.4f}",
        "rel. RMS to truth",
    )
    # filters and histogram matching: same outputs expected
    bleached = data * (0.8 ** np.arange(n_t))[:, None, None, None, None].astype(np.float32)
    for task, fo, fr in (
        (
            "filters median+gaussian 2-D",
            lambda: ours.apply_filters(bleached, ["median", "gaussian"]),
            None
            if ref_filters is None
            else lambda: ref_filters.apply_filters(bleached, ["median", "gaussian"]),
        ),
        (
            "match histograms across time",
            lambda: ours.match_histograms_across_time(bleached),
            None
            if ref_filters is None
            else lambda: ref_filters.match_histograms_across_time(bleached),
        ),
    ):
        t_o, out_o = timed(fo, repeat=repeat)
        t_r, out_r = (None, None) if fr is None else timed(fr, repeat=repeat)
        diff = None if out_r is None else f"{np.abs(out_o - out_r).max():.2e}"
        row(task, t_o, t_r, "0 (reference)", diff, "max |ours - ref|")
    print(f"bench_stack_tools on {machine()}; peak RSS {peak_rss_mb():.0f} MB")
    print_table(rows)
    save_rows("bench_stack_tools", rows)
    save_summary("bench_stack_tools", summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
