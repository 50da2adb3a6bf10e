"""Registration accuracy over the drift scenarios: every method, every texture, noise level.

Data: :func:`napari_unmix.core.scenarios.registration.make_registration_stack` - time
series (T = 4) that drift by up to +-10 px (sub-pixel) on six textures (sparse cells,
dense tissue, smooth low-contrast field, large offset, intensity ramp, NaN/inf pixels),
at 1, 10 and 100 photons per intensity unit, on two image sizes. Each later time point is
registered onto time point 0.

Methods, side by side on the same pairs:

- ours ``phase_cross_correlation`` (the default: the masked ZNCC surface of the
  smoothed images, least-squares sub-pixel step) and
  ``phase_cross_correlation_only`` (upsample 20);
- ours with the integer peak found instead among the peaks of windowed correlation
  surfaces - plain, phase-normalised or both - each climbed to the local maximum of the
  overlap ZNCC (``normalization="plain"`` / ``"phase"`` / ``"both"``): how the default
  (``"zncc"``) was chosen;
- before: scikit-image ``phase_cross_correlation(normalization=None)``, upsample 20 - the
  coarse step of the previous version, which its least-squares step then refined within
  2 px (so its gross errors are the ones it returned);
- scikit-image ``phase_cross_correlation`` with its defaults (phase normalisation),
  upsample 20 - the obvious baseline;
- pystackreg ``StackReg(TRANSLATION)`` - the reference of ``method="pystackreg"``.

Metrics per cell (texture x photons x size): median and max shift error (px, worst
axis), the Cramer-Rao bound of the shift's standard deviation (px, what the photons allow), the residual of the corrected frame (rendered exactly from the scene, no
interpolation) over the reference frame's std (median, max), the share of pairs with a
residual below 5 %, failures (exceptions, non-finite shifts), median time per pair.

Run: ``PYTHONPATH=src python benchmarks/bench_registration.py [--quick]``
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row
from napari_unmix.core.progress import run as run_steps
from napari_unmix.core.scenarios.registration import (
    TEXTURES,
    make_registration_stack,
    registration_residual,
)
from napari_unmix.core.stack_tools import estimate_time_shifts, estimate_translation

PHOTONS = (1.0, 10.0, 100.0)
N_T = 4


def _ours(method: str, **options) -> Callable:
    def run(stack: np.ndarray) -> np.ndarray:
        steps = estimate_time_shifts(stack, registration_channel=0, method=method, **options)
        return run_steps(steps)  # the generator's return value: the shifts

    return run


def _ours_variant(**options) -> Callable:
    def run(stack: np.ndarray) -> np.ndarray:
        frames = stack[:, :, 0].max(axis=1)
        out = [np.zeros(2)]
        out += [estimate_translation(frames[0], f, **options).shift for f in frames[1:]]
        return np.array(out)

    return run


def _skimage(normalization: str | None) -> Callable:
    from skimage.registration import phase_cross_correlation

    def run(stack: np.ndarray) -> np.ndarray:
        frames = stack[:, :, 0].max(axis=1)
        out = [np.zeros(2)]
        for f in frames[1:]:
            shift, _, _ = phase_cross_correlation(
                frames[0], f, upsample_factor=20, normalization=normalization
            )
            out.append(shift)
        return np.array(out)

    return run


def _stackreg() -> Callable | None:
    try:
        from pystackreg import StackReg
    except ImportError:
        return None

    def run(stack: np.ndarray) -> np.ndarray:
        frames = stack[:, :, 0].max(axis=1).astype(np.float64)
        out = [np.zeros(2)]
        for f in frames[1:]:
            tmat = StackReg(StackReg.TRANSLATION).register(frames[0], f)
            out.append([-tmat[1, 2], -tmat[0, 2]])
        return np.array(out)

    return run


def methods() -> dict[str, Callable]:
    table = {
        "ours phase_cross_correlation": _ours("phase_cross_correlation"),
        "ours phase_cross_correlation_only (upsample 20)": _ours(
            "phase_cross_correlation_only", upsample_factor=20
        ),
        "ours, peaks of the plain correlation": _ours_variant(normalization="plain"),
        "ours, peaks of the phase correlation": _ours_variant(normalization="phase"),
        "ours, peaks of both": _ours_variant(normalization="both"),
        "before (skimage PCC normalization=None)": _skimage(None),
        "skimage phase_cross_correlation": _skimage("phase"),
    }
    stackreg = _stackreg()
    if stackreg is not None:
        table["pystackreg TRANSLATION"] = stackreg
    return table


def cramer_rao(cases: list, photons: float, read_noise: float = 1.5) -> float:
    """Median over pairs of the Cramer-Rao bound (px, worse axis) of the shift.

    Fisher information of a translation between two frames with independent Poisson +
    read noise: sum of squared gradients of the clean image over twice the noise
    variance (both frames are noisy), per axis. No estimator can have a smaller standard
    deviation; a method within ~1.5x of it is near-optimal.
    """
    bounds = []
    for _, truth in cases:
        clean = truth["clean"][:, :, 0].max(axis=1).astype(np.float64)
        for frame in clean[1:]:
            var = (np.clip(frame, 0, None) * photons + read_noise**2) / photons**2
            info = [(g**2 / (2 * var)).sum() for g in np.gradient(frame)]
            bounds.append(1 / np.sqrt(min(info)))
    return float(np.median(bounds))


def run_cell(fn: Callable, cases: list) -> dict:
    """Shift errors, residuals, failures and time of one method over the cases."""
    errors, residuals, seconds, failures = [], [], [], 0
    for stack, truth in cases:
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the fallback warnings are counted below
                shifts = np.asarray(fn(stack), np.float64)
        except Exception:  # a method that refuses the data (e.g. NaN) fails the cell
            failures += N_T - 1
            continue
        seconds.append((time.perf_counter() - t0) / (N_T - 1))
        ok = np.isfinite(shifts).all(axis=1)[1:]
        failures += int((~ok).sum())
        shifts = np.where(np.isfinite(shifts), shifts, 0.0)
        errors.extend(np.abs(shifts - truth["shifts"]).max(axis=1)[1:][ok])
        res = registration_residual(truth["scene"], truth["drift"], shifts)[1:]
        residuals.extend(np.where(ok, res, np.inf))
    errors, residuals = np.array(errors), np.array(residuals)
    return {
        "err median px": f"{np.median(errors):.3f}" if errors.size else "-",
        "err max px": f"{errors.max():.3f}" if errors.size else "-",
        "res/std median": f"{np.median(residuals):.3f}" if residuals.size else "-",
        "res/std max": f"{residuals.max():.3f}" if residuals.size else "-",
        "res < 5 %": f"{(residuals < 0.05).mean():.0%}" if residuals.size else "0%",
        "failed": failures,
        "ms per pair": f"{1e3 * np.median(seconds):.1f}" if seconds else "-",
    }


def main() -> int:
    quick = _common.quick_run(__doc__, "one small size, fewer seeds")
    sizes, seeds = ((48,), range(2)) if quick else ((64, 192), range(4))
    table = methods()
    rows: list[dict] = []
    for size in sizes:
        for photons in PHOTONS:
            for texture in TEXTURES:
                cases = [
                    make_registration_stack(
                        texture,
                        shape=(size, size),
                        n_t=N_T,
                        photons_per_unit=photons,
                        random_state=1000 * size + seed,
                    )
                    for seed in seeds
                ]
                for name, fn in table.items():
                    rows.append(
                        {
                            "benchmark": "bench_registration",
                            "method": name,
                            "texture": texture,
                            "photons/unit": f"{photons:g}",
                            "size": f"{size}x{size}",
                            "pairs": len(cases) * (N_T - 1),
                            **run_cell(fn, cases),
                        }
                    )
                bound = f"{cramer_rao(cases, photons):.3f}"
                for row in rows[-len(table) :]:
                    row["Cramer-Rao px"] = bound
                print(f"done {size} px, {photons:g} photons/unit, {texture}", flush=True)
    print(f"bench_registration on {machine()}; peak RSS {peak_rss_mb():.0f} MB")
    print_table(rows)
    save_rows("bench_registration", rows)
    save_summary("bench_registration", _summary(rows, sizes[-1]))
    return 0


def _summary(rows: list[dict], size: int) -> list[dict]:
    """One row per texture at 10 photons/unit on the larger size: ours vs skimage."""
    out = []
    pick = {(r["method"], r["texture"]): r for r in rows}
    pick = {
        (r["method"], r["texture"]): r
        for r in rows
        if r["photons/unit"] == "10" and r["size"] == f"{size}x{size}"
    }

    def acc(r: dict) -> str:
        return (
            f"err med {r['err median px']} / max {r['err max px']} px; "
            f"res/std max {r['res/std max']}; failed {r['failed']}"
        )

    def secs(r: dict) -> float | None:
        return None if r["ms per pair"] == "-" else float(r["ms per pair"]) / 1e3

    for texture in TEXTURES:
        ours = pick[("ours phase_cross_correlation", texture)]
        ref = pick[("skimage phase_cross_correlation", texture)]
        out.append(
            summary_row(
                "registration",
                f"{texture}, 10 photons/unit",
                data=f"T={N_T}, {size}x{size}, drift +-10 px",
                ours_s=secs(ours),
                ours_accuracy=acc(ours),
                reference="skimage phase_cross_correlation (upsample 20)",
                reference_s=secs(ref),
                reference_accuracy=acc(ref),
            )
        )
    return out


if __name__ == "__main__":
    raise SystemExit(main())
