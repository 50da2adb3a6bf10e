"""Benchmark: fixed-H NNLS and seeded NNMF against scipy, numpy and scikit-learn, side by side.

On bead cubes (``make_bead_cube``, 80 channels, k = 5: four spectra + background):

* fixed-H NNLS through the API (``nnls_unmix``: maps, residual map, KKT check) vs per-pixel
  ``scipy.optimize.nnls`` (every pixel), vs the unconstrained least-squares solve of the
  same problem (``numpy.linalg.lstsq`` and the k x k normal equations), and vs
  ``sklearn.decomposition.non_negative_factorization(update_H=False, solver="cd")``; peak
  memory of the API call (tracemalloc) relative to the cube;
* seeded NNMF (``core.nmf.iter_nmf``, default solver) vs ``non_negative_factorization(
  init="custom", solver="cd")`` from the same ROI-mean seeds on the same (clipped at 0)
  data: the time our solver needs to reach scikit-learn's objective at its defaults, the
  time scikit-learn needs to reach ours (smallest iteration count, grid then bisection),
  and the gap of our default run to a long run (relative objective).

Fairness: our solvers run their products on one BLAS thread (they limit it themselves);
each scikit-learn / numpy / scipy reference is timed both with the default BLAS threads and
with one BLAS thread, and the faster of the two is reported. The NNLS rows alternate the
calls (every round runs our API, scipy per pixel and the unconstrained solves once each,
so load on a shared machine reaches all alike) and keep each one's best round; the NNMF
rows report medians of repeated runs, all in one process.

Usage: ``python benchmarks/bench_nnmf.py [--quick]`` (quick: 128×128 and 256×256 cubes).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from threadpoolctl import threadpool_limits

from _common import machine, peak_rss_mb, print_table, save_rows, save_summary, summary_row, timed
from napari_unmix.api.nmf import nnls_unmix
from napari_unmix.core.nmf import fit_nmf, iter_nmf
from napari_unmix.core.nnls import nnls
from napari_unmix.core.seeds import ComponentSeed, prepare_seeds
from napari_unmix.core.synthetic import make_bead_cube


def _objective(X, W, H):
    R = X - W @ H
    return 0.5 * float(np.vdot(R, R))


def _best_threads(fn, repeat=3):
    """Median time of ``fn`` with default BLAS threads and with one; the faster setting."""
    t_default, result = timed(fn, repeat=repeat)
    with threadpool_limits(limits=1, user_api="blas"):
        t_one, _ = timed(fn, repeat=repeat)
    return (t_one, "1 thread", result) if t_one < t_default else (t_default, "default", result)


def _peak_ratio(fn, nbytes):
    """Peak memory allocated by ``fn`` (tracemalloc, numpy included) per byte of the cube."""
    import tracemalloc

    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / nbytes


def _alternate(fns, repeat):
    """Best wall time of each function of ``fns`` (name -> callable) over ``repeat`` rounds
    that call every function once, in turn; and each one's last result."""
    best, results = {}, {}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            results[name] = fn()
            best[name] = min(best.get(name, np.inf), time.perf_counter() - t0)
    return best, results


def _one_thread(fn):
    def run():
        with threadpool_limits(limits=1, user_api="blas"):
            return fn()

    return run


def _faster(best, name):
    """The faster BLAS setting of reference ``name``: (seconds, label)."""
    one, default = best[f"{name} 1"], best[f"{name} default"]
    return (one, "1 thread") if one <= default else (default, "default")


def bench_nnls(cube, H, label, repeat=3):
    from scipy.optimize import nnls as scipy_nnls
    from sklearn.decomposition import non_negative_factorization

    X = cube.reshape(cube.shape[0], -1).T.astype(np.float64)  # scipy's input, not timed
    HT = np.ascontiguousarray(H.T)
    flat = cube.reshape(cube.shape[0], -1)
    refs = {
        "scipy": lambda: np.array([scipy_nnls(HT, x)[0] for x in X]),
        "lstsq": lambda: np.linalg.lstsq(H.T, flat, rcond=None),
        "normal": lambda: np.linalg.solve(H @ H.T, H @ flat),
    }
    fns = {"api": lambda: nnls_unmix(cube, H)}
    for name, fn in refs.items():
        fns |= {f"{name} default": fn, f"{name} 1": _one_thread(fn)}
    best, results = _alternate(fns, repeat)
    t_api, res = best["api"], results["api"]
    (t_scipy, blas_s), (t_lstsq, blas_l), (t_normal, blas_n) = (_faster(best, r) for r in refs)
    mem = _peak_ratio(lambda: nnls_unmix(cube, H), cube.nbytes)
    ref = results["scipy 1"]
    W = res.W.reshape(H.shape[0], -1).T
    rel_diff = float(np.abs(W - ref).max() / np.abs(ref).max())
    Xc = np.maximum(X, 0)  # scikit-learn refuses negative data
    Wc, _ = nnls(Xc, H)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sk, blas, (Ws, _, n_sk) = _best_threads(
            lambda: non_negative_factorization(
                Xc, H=H, n_components=H.shape[0], update_H=False, solver="cd"
            ),
            repeat=2,
        )
    o_ours, o_sk = _objective(Xc, Wc, H), _objective(Xc, Ws, H)
    check = (
        f"API incl. residual map + KKT; max rel diff {rel_diff:.1e}; "
        f"KKT {res.report['kkt_violation']:.1e}; peak {mem:.2f}x cube; best of {repeat} "
        f"alternated rounds (scipy blas {blas_s})"
    )
    row = {"bench": "nnmf", "case": f"fixed-H NNLS {label}", "ours_s": round(t_api, 4),
           "peak_x_cube": round(mem, 2)}  # fmt: skip
    return [
        row | {"reference": "scipy.optimize.nnls per pixel", "ref_s": round(t_scipy, 3),
               "speedup": round(t_scipy / t_api, 1), "check": check},
        row | {"reference": "numpy.linalg.lstsq (unconstrained)", "ref_s": round(t_lstsq, 4),
               "speedup": round(t_lstsq / t_api, 2),
               "check": f"API / lstsq {t_api / t_lstsq:.2f}x (blas {blas_l})"},
        row | {"reference": "normal equations solve (unconstrained)",
               "ref_s": round(t_normal, 4), "speedup": round(t_normal / t_api, 2),
               "check": f"API / normal equations {t_api / t_normal:.2f}x (blas {blas_n})"},
        row | {"reference": "sklearn NMF update_H=False cd", "ref_s": round(t_sk, 3),
               "speedup": round(t_sk / t_api, 1),
               "check": f"sklearn objective +{(o_sk - o_ours) / o_ours:.1e} rel ({n_sk} it, "
               f"blas {blas})"},
    ]  # fmt: skip


def _seeds(cube, truth):
    A = truth["abundances"]
    masks = [(A[j] > 0.5 * A[j].max()) & (np.delete(A, j, 0).max(0) < 0.05) for j in range(4)]
    comps = [ComponentSeed(name=n, masks=[m]) for n, m in zip(truth["names"], masks, strict=True)]
    comps.append(ComponentSeed(name="bg", masks=[A.max(0) < 0.01], background=True))
    return prepare_seeds(cube, comps, background_projection=None)


def _time_to_reach(run, target, grid):
    """Smallest iteration count reaching ``target`` (grid, then bisection); its time.

    Returns ``(seconds, iterations, error, reached, blas)``: the time is the median of
    three runs at that iteration count with the faster BLAS thread setting.
    """
    lo, hi, err_hi = 0, None, None
    for m in grid:
        t0 = time.perf_counter()
        err = run(m)
        t = time.perf_counter() - t0
        if err <= target:
            hi, err_hi = m, err
            break
        lo = m
    if hi is None:  # not reached: the time of the longest run (a lower bound)
        return t, grid[-1], err, False, "default"
    while hi - lo > 1:
        mid = (lo + hi) // 2
        err = run(mid)
        if err <= target:
            hi, err_hi = mid, err
        else:
            lo = mid
    t, blas, _ = _best_threads(lambda: run(hi), repeat=3)
    return t, hi, err_hi, True, blas


def _ours_to_reach(X, W0, H0, target_obj):
    """Time and iterations for our default solver to reach an objective (generator stopped);
    iterations None when the run ends above it (another stationary point)."""
    t0 = time.perf_counter()
    gen = iter_nmf(X, W0, H0, tol=0.0, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for event in gen:  # Progress: done = iteration, partial = objective
            if event.partial <= target_obj:
                gen.close()
                return time.perf_counter() - t0, event.done
    return time.perf_counter() - t0, None


def bench_seeded(cube, truth, label, grid):
    from sklearn.decomposition import non_negative_factorization

    clipped = np.maximum(cube, 0)  # the same data for every solver
    seeds = _seeds(clipped, truth)
    k = seeds.k
    X = clipped.reshape(cube.shape[0], -1).T.astype(np.float64)
    W0 = seeds.W0.reshape(k, -1).T.copy()
    nx = float(np.linalg.norm(X))
    t_conv, fit = timed(lambda: fit_nmf(X, W0, seeds.H0), repeat=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        long = fit_nmf(X, W0, seeds.H0, tol=0.0, max_iter=1000)
    gap = (fit.objective - long.objective) / long.objective

    def sk(m=200, tol=1e-4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            W, H, n = non_negative_factorization(
                X, W=W0.copy(), H=seeds.H0.copy(), n_components=k, init="custom",
                solver="cd", max_iter=m, tol=tol,
            )  # fmt: skip
        return W, H, n

    t_sk, blas, (Ws, Hs, n_sk) = _best_threads(sk, repeat=3)
    f_sk = _objective(X, Ws, Hs)
    t_ours, (_, it_ours) = timed(lambda: _ours_to_reach(X, W0, seeds.H0, f_sk), repeat=3)
    reached = it_ours is not None  # else: our run ends above sklearn's objective
    rows = [
        {
            "bench": "nnmf",
            "case": f"seeded NNMF {label}",
            "ours_s": round(t_ours, 3),  # not reached: the time of the whole run
            "reference": "sklearn NMF custom init cd (defaults)",
            "ref_s": round(t_sk, 3),
            "speedup": round(t_sk / t_ours, 1) if reached else None,
            "check": "time to sklearn's objective: ours "
            + (f"{it_ours} it" if reached else "not reached (ends at another stationary point)")
            + f", sklearn {n_sk} it "
            f"(blas {blas}); our default run {fit.n_iter} it {t_conv:.2f} s, gap to a "
            f"1000-it run {gap:.1e} rel",
        }
    ]
    # the other way round: how long scikit-learn needs to reach our converged error
    target = fit.relative_error * (1 + 1e-4)

    def run(m):
        W, H, _ = sk(m, tol=0.0)
        return float(np.linalg.norm(X - W @ H)) / nx

    t_sk2, m, err, ok, blas2 = _time_to_reach(run, target, grid)
    rows.append(
        {
            "bench": "nnmf",
            "case": f"seeded NNMF {label}",
            "ours_s": round(t_conv, 3),
            "reference": "sklearn NMF custom init cd to our error",
            "ref_s": round(t_sk2, 3) if ok else f">{t_sk2:.2f}",
            "speedup": round(t_sk2 / t_conv, 1) if ok else f">{t_sk2 / t_conv:.1f}",
            "check": f"target rel err {target:.5f} (ours converged, {fit.n_iter} it); sklearn "
            f"{err:.5f} at {m} it, blas {blas2}" + ("" if ok else " (not reached)"),
        }
    )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cubes (128², 256²)")
    args = parser.parse_args(argv)
    sizes = [(128, 128), (256, 256)] if args.quick else [(256, 256), (512, 512)]
    grid = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    print(f"machine: {machine()}")
    rows = []
    for shape in sizes:
        cube, truth = make_bead_cube(shape=shape, n_channels=80, random_state=1)
        H = np.vstack([truth["spectra"], truth["background_spectrum"]]).astype(np.float64)
        label = f"{shape[0]}x{shape[1]}x80 k=5"
        new = bench_nnls(cube, H, label) + bench_seeded(cube, truth, label, grid)
        print_table(new)
        print(f"done {label}; peak RSS {peak_rss_mb():.0f} MB", flush=True)
        rows += new
    for r in rows:
        r["peak_rss_mb"] = round(peak_rss_mb())
    print_table(rows)
    save_rows("bench_nnmf", rows)
    save_summary("bench_nnmf", [
        summary_row(
            "NNLS / NNMF", r["case"].rsplit(" ", 2)[0],
            data=" ".join(r["case"].rsplit(" ", 2)[1:]),
            ours_s=r["ours_s"], ours_peak_mb=r["peak_rss_mb"], ours_accuracy=r["check"],
            reference=r["reference"],
            reference_s=r["ref_s"] if isinstance(r["ref_s"], float) else str(r["ref_s"]),
        )
        for r in rows
    ])  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
