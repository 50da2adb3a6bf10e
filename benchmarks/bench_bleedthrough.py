"""Bleed-through correction: napari-unmix vs the ``spectral-unmixing`` package.

On one synthetic TZCYX stack (``make_bleedthrough_stack``, alpha = 0.35; full size
5x20x2x512x512 float32 = 210 MB, ``--quick``: 2x5x2x256x256):

* alpha per method (ours with the default max_alpha_voxels=500,000, ours on every voxel,
  the reference) against the truth and against each other;
* estimation time per method (reference t = 0, all z; ours without and with the
  bootstrap interval);
* what the 95 % interval costs on a 16x512x512 volume (``--quick``: 4x256x256): the bare
  estimate, the default call (bounded m-out-of-n bootstrap), the previous ordinary
  bootstrap (every mask voxel per resample, estimated in full), and the reference (which
  computes no interval);
* end-to-end ``unmix(input, output, method="mean_ratio")`` time, peak memory and output
  size, each run in a fresh process (``ru_maxrss`` is per process). Output compression:
  ours writes uncompressed OME-TIFF (zlib level 0, our default: corrected float32 data
  barely compress); the reference writes with OMIO's default zlib level 3.

Usage: ``python benchmarks/bench_bleedthrough.py [--quick]`` (run with the bench venv,
which has ``spectral-unmixing``; without it the reference rows say "not available").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as bench  # noqa: E402

METHODS = ("mean_ratio", "linear_fit", "corr_min", "mi_min")


def _reference():
    try:
        from spectral_unmixing import estimate_alpha_from_volume, unmix

        return estimate_alpha_from_volume, unmix
    except Exception as err:  # not installed / broken: say so, never fake it
        print(f"reference spectral-unmixing not available: {type(err).__name__}: {err}")
        return None, None


def _e2e_child(which: str, src: str, dst: str) -> None:
    """Run one end-to-end unmix in this (fresh) process and print JSON."""
    import omio  # noqa: F401  both tools import it (and napari with it): the baseline

    base = bench.peak_rss_mb()
    t0 = time.perf_counter()
    if which == "make":  # write the input file (in a child, so the parent stays small)
        from napari_unmix.core.synthetic import make_bleedthrough_stack
        from napari_unmix.io.omio_io import write_image

        n_t, n_z, yx = (int(v) for v in dst.split("x"))
        data, _ = make_bleedthrough_stack(n_t=n_t, n_z=n_z, shape=(yx, yx))
        write_image(src, data)
        print(json.dumps({"seconds": time.perf_counter() - t0}))
        return
    if which == "read":
        from napari_unmix.io.omio_io import read_image

        read_image(src)
    elif which == "ours":
        from napari_unmix.api.bleedthrough import unmix

        unmix(src, dst, method="mean_ratio", verbose=False)
    else:
        from spectral_unmixing import unmix

        unmix(src, dst, method="mean_ratio", verbose=False)
    dt = time.perf_counter() - t0
    size = _size_mb(dst) if which != "read" else 0.0
    print(
        json.dumps(
            {"seconds": dt, "peak_mb": bench.peak_rss_mb(), "base_mb": base, "size_mb": size}
        )
    )


def _size_mb(path: str) -> float:
    p = Path(path)
    if not p.exists():  # the reference may rename; take what it wrote next to it
        cands = sorted(p.parent.glob(p.name.split(".")[0] + "*.tif"))
        p = cands[0] if cands else p
    return p.stat().st_size / 2**20 if p.exists() else float("nan")


def _run_child(which: str, src: Path, dst: Path | str) -> dict | None:
    env = dict(os.environ)
    cmd = [sys.executable, __file__, "--e2e", which, str(src), str(dst)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"{which} end-to-end failed:\n{proc.stderr[-2000:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small stack (2x5x2x256x256)")
    parser.add_argument("--e2e", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.e2e:
        _e2e_child(*args.e2e)
        return 0

    from napari_unmix.core.bleedthrough import estimate_alpha
    from napari_unmix.core.synthetic import make_bleedthrough_stack

    n_t, n_z, yx = (2, 5, 256) if args.quick else (5, 20, 512)
    size_mb = n_t * n_z * 2 * yx * yx * 4 / 2**20
    label = f"{n_t}x{n_z}x2x{yx}x{yx} float32 ({size_mb:.0f} MB)"
    print(f"bench_bleedthrough on {label}; {bench.machine()}")
    ref_estimate, ref_unmix = _reference()
    rows = []
    # end to end first, every run in a fresh child of this still small process:
    # ru_maxrss survives fork+exec, so children of a big parent would inherit its peak
    with tempfile.TemporaryDirectory(prefix="bench_bleed_") as tmp:
        tmp = Path(tmp)
        inp = tmp / "input.ome.tif"
        _run_child("make", inp, f"{n_t}x{n_z}x{yx}")
        read = _run_child("read", inp, "")
        ours = _run_child("ours", inp, tmp / "ours.ome.tif")
        ref = _run_child("ref", inp, tmp / "ref.ome.tif") if ref_unmix is not None else None
    row = {"benchmark": "bleedthrough", "case": "unmix() end to end, mean_ratio", "data": label}
    if read:
        row["OMIO read alone s"] = round(read["seconds"], 2)
    for name, res, zlib in (("ours", ours, 0), ("reference", ref, 3)):
        if res:
            row.update(
                {
                    f"{name} s": round(res["seconds"], 2),
                    f"{name} peak MB": round(res["peak_mb"]),
                    f"{name} peak-baseline / input": (
                        f"{(res['peak_mb'] - res['base_mb']) / size_mb:.2f}x"
                    ),
                    f"{name} file MB (zlib {zlib})": round(res["size_mb"]),
                }
            )
    if ref:
        if ours:
            row["speed-up"] = f"{ref['seconds'] / ours['seconds']:.1f}x"
            if read:
                row["speed-up without the shared read"] = (
                    f"{(ref['seconds'] - read['seconds']) / (ours['seconds'] - read['seconds']):.1f}x"
                )
    elif ref_unmix is None:
        row["reference s"] = "not available"
    e2e_row = row
    e2e_ours, e2e_ref = ours, ref  # the names are reused below

    data, truth = make_bleedthrough_stack(n_t=n_t, n_z=n_z, shape=(yx, yx))
    src, tgt = data[0, :, 0], data[0, :, 1]
    repeat = 3
    for method in METHODS:
        t_ours, ours = bench.timed(
            lambda m=method: estimate_alpha(src, tgt, method=m, n_bootstrap=0), repeat=repeat
        )
        t_boot, boot = bench.timed(lambda m=method: estimate_alpha(src, tgt, method=m), repeat=1)
        full = estimate_alpha(src, tgt, method=method, n_bootstrap=0, max_alpha_voxels=None)
        row = {
            "benchmark": "bleedthrough",
            "case": f"alpha {method}",
            "data": label,
            "truth": truth["alpha"],
            "ours": round(ours.alpha, 5),
            "ours 95% CI": f"{boot.ci[0]:.4f}-{boot.ci[1]:.4f}",
            "ours all voxels": round(full.alpha, 5),
            "ours s": round(t_ours, 4),
            "ours+bootstrap s": round(t_boot, 3),
        }
        if ref_estimate is not None:
            t_ref, ref = bench.timed(
                lambda m=method: ref_estimate(src, tgt, method=m), repeat=repeat
            )
            row.update(
                {
                    "reference": round(ref, 5),
                    "|ours-ref|": f"{abs(ours.alpha - ref):.1e}",
                    "|all voxels-ref|": f"{abs(full.alpha - ref):.1e}",
                    "reference s": round(t_ref, 4),
                    "speed-up": f"{t_ref / t_ours:.1f}x",
                }
            )
        else:
            row["reference"] = "not available"
        rows.append(row)
    ci_rows = _ci_cost(ref_estimate, quick=args.quick)
    rows.extend(ci_rows)
    rows.append(e2e_row)
    bench.print_table(rows)
    bench.save_rows("bench_bleedthrough", rows)
    summary = _summary(rows[: len(METHODS)] + [e2e_row], e2e_ours, e2e_ref, label, truth["alpha"])
    for r in ci_rows:
        summary.append(
            bench.summary_row(
                "bleed-through", f"alpha with 95% interval ({r['case'].split()[-1]})",
                data=r["data"], ours_s=r["ours default (with CI) s"],
                ours_accuracy=f"CI costs {r['default / bare']} the bare estimate "
                f"(ordinary bootstrap: {r['ordinary bootstrap / bare']})",
                reference="spectral-unmixing (no interval)",
                reference_s=r.get("reference s", "not available"),
            )
        )  # fmt: skip
    bench.save_summary("bench_bleedthrough", summary)
    return 0


def _ordinary_bootstrap(src, tgt, method: str, n: int = 100) -> tuple[float, float]:
    """The previous default interval: ``n`` resamples of every mask voxel, each estimated
    in full (what ``estimate_alpha`` did before the bounded m-out-of-n bootstrap)."""
    import numpy as np

    from napari_unmix.core.bleedthrough import ALPHA_METHODS, estimate_alpha

    est = estimate_alpha(src, tgt, method=method, n_bootstrap=0)
    x, y = est.mask_source.astype(np.float64), est.mask_target.astype(np.float64)
    rng = np.random.default_rng(0)
    func = ALPHA_METHODS[method].function
    alphas = [
        func(x[i], y[i], alpha_max=1.0, mi_bins=64)[0] for i in rng.integers(0, x.size, (n, x.size))
    ]
    lo, hi = np.percentile(alphas, [2.5, 97.5])
    return float(lo), float(hi)


def _ci_cost(ref_estimate, *, quick: bool) -> list[dict]:
    """What the 95 % interval costs on one volume: bare estimate, the default call (bounded
    m-out-of-n bootstrap, 100 resamples), the previous ordinary bootstrap, the reference
    (which gives no interval)."""
    import warnings

    from napari_unmix.core.bleedthrough import AlphaReliabilityWarning, estimate_alpha
    from napari_unmix.core.synthetic import make_bleedthrough_stack

    n_z, yx = (4, 256) if quick else (16, 512)
    data, _ = make_bleedthrough_stack(n_t=1, n_z=n_z, shape=(yx, yx))
    src, tgt = data[0, :, 0], data[0, :, 1]
    label = f"{n_z}x{yx}x{yx} volume (one time point)"
    rows = []
    warnings.simplefilter("ignore", AlphaReliabilityWarning)  # (said in the tables)
    for method in METHODS:
        t_bare, _ = bench.timed(
            lambda m=method: estimate_alpha(src, tgt, method=m, n_bootstrap=0), repeat=5
        )
        t_def, est = bench.timed(lambda m=method: estimate_alpha(src, tgt, method=m), repeat=5)
        t_old, old = bench.timed(lambda m=method: _ordinary_bootstrap(src, tgt, m), repeat=1)
        row = {
            "benchmark": "bleedthrough",
            "case": f"95% interval cost, {method}",
            "data": label,
            "ours bare s": round(t_bare, 4),
            "ours default (with CI) s": round(t_def, 4),
            "ours ordinary bootstrap s": round(t_old, 3),
            "default / bare": f"{t_def / t_bare:.1f}x",
            "ordinary bootstrap / bare": f"{t_old / t_bare:.1f}x",
            "ours CI": f"{est.ci[0]:.4f}-{est.ci[1]:.4f}",
            "ordinary bootstrap CI": f"{old[0]:.4f}-{old[1]:.4f}",
        }
        if ref_estimate is not None:
            t_ref, _ = bench.timed(lambda m=method: ref_estimate(src, tgt, method=m), repeat=5)
            row["reference s"] = round(t_ref, 4)
            row["reference / ours default"] = f"{t_ref / t_def:.1f}x"
        rows.append(row)
    return rows


def _summary(rows, ours, ref, label, truth) -> list[dict]:
    """Headline rows: alpha per method (time, |alpha - truth|) and unmix() end to end."""

    def err(v):
        return f"|alpha-truth| {abs(v - truth):.1e}" if isinstance(v, float) else None

    out = []
    by_method = {}
    for r in rows[:-1]:
        method = r["case"].removeprefix("alpha ")
        by_method[method] = r
        out.append(
            bench.summary_row(
                "bleed-through", f"estimate alpha, {method}", data=label, ours_s=r["ours s"],
                ours_accuracy=err(r["ours"]), reference="spectral-unmixing",
                reference_s=r.get("reference s", "not available"),
                reference_accuracy=err(r.get("reference")),
            )
        )  # fmt: skip
    m = by_method.get("mean_ratio", {})
    out.append(
        bench.summary_row(
            "bleed-through", "unmix() file to file, mean_ratio", data=label,
            ours_s=ours["seconds"] if ours else None,
            ours_peak_mb=ours["peak_mb"] if ours else None,
            ours_accuracy=err(m.get("ours")), reference="spectral-unmixing",
            reference_s=ref["seconds"] if ref else "not available",
            reference_peak_mb=ref["peak_mb"] if ref else None,
            reference_accuracy=err(m.get("reference")),
        )
    )  # fmt: skip
    return out


if __name__ == "__main__":
    raise SystemExit(main())
