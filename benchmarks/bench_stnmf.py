"""STNMF: napari-unmix (Gram-matrix AF-HALS) vs the ``stnmf`` package, same data, same run.

Every case runs in its own subprocess (ours with this python, the reference with
``$STNMF_PYTHON``, default ``.venv-stnmf/bin/python``), exchanging the ensemble and the
modules through ``.npy`` files, so peak memory (ru_maxrss) is per case.

* speed: same STE, r = 20, sparsity 1.7, nnsvdlrc init, same iteration count: setup
  (Gram + init), time per iteration, final residual, peak memory; ours also at growing m.
* model cells: ``core/scenarios/stnmf.py`` cells (the default 7-subunit cell and cells
  drawn across subunit count, size, overlap, nonlinearity, noise and stimulus unit, from a
  seed not used to choose the settings) at 5,000-100,000 spikes; subunits matched
  (correlation >= 0.8) by ours at the "recovery" settings and by the reference at its
  defaults (given the ensemble in stimulus units of ±1, as it needs), same iterations
  (300);
  false subunits (localized modules matching no true subunit), time per cell.
* recovery: ``make_ste_sparse`` with m = 20,000 and 50,000 spikes; Hungarian matching of
  the modules to the 7 true subunits (correlation >= 0.8 / 0.9), diameters vs truth
  (4·sigma·pixel_size = 144 µm); reference at its defaults, ours at the same settings and
  with a sparsity scan selected without ground truth (``select_sparsity``).

Usage: ``python benchmarks/bench_stnmf.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine, print_table, save_rows, save_summary, summary_row  # noqa: E402

# Shared head of both worker scripts (each runs in its own interpreter/venv): peak memory,
# the localized modules and their diameters.
_WORKER_HEAD = r"""
import json, resource, sys, time, warnings
import numpy as np
def peak_mb():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def subunits(s):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loc = [int(i) for i in s.localized]
        try:
            diam = [float(d) for d in s.diameters]
        except ValueError:  # stnmf 1.1.0 fails on zero subunits
            diam = []
    return loc, diam
"""

REFERENCE_WORKER = (
    _WORKER_HEAD
    + r"""
import stnmf

ste = np.load(sys.argv[1]); num_iter = int(sys.argv[2]); sparsity = float(sys.argv[4])
t0 = time.perf_counter()
s = stnmf.STNMF(ste, r=20, sparsity=sparsity, factorize=False, pixel_size=float(sys.argv[5]))
t1 = time.perf_counter()
s.factorize(num_iter=num_iter, disp=False)
t2 = time.perf_counter()
np.save(sys.argv[3], np.asarray(s.modules))
loc, diam = subunits(s)
print(json.dumps({"setup_s": t1 - t0, "iter_s": (t2 - t1) / max(num_iter, 1), "res": float(s.res),
                  "localized": loc, "diameters": diam,
                  "peak_mb": peak_mb()}))
"""
)

OUR_WORKER = (
    _WORKER_HEAD
    + r"""
from napari_unmix.api.stnmf import STNMF, select_sparsity

ste = np.load(sys.argv[1]); num_iter = int(sys.argv[2]); sparsity = float(sys.argv[4])
mode = sys.argv[6]
t0 = time.perf_counter()
finish_s = 0.0
if mode == "scan":
    s, rows = select_sparsity(ste, r=20, num_iter=num_iter, pixel_size=float(sys.argv[5]))
    t1 = t2 = time.perf_counter()
elif mode == "recovery":
    from napari_unmix.api.stnmf import resolve_settings
    s = STNMF(ste, r=20, num_iter=num_iter, pixel_size=float(sys.argv[5]),
              **resolve_settings("recovery"))
    t1 = t2 = time.perf_counter()
else:
    s = STNMF(ste, r=20, sparsity=sparsity, factorize=False, pixel_size=float(sys.argv[5]))
    # setup: Gram matrix V Vᵀ and the nnsvdlrc init (done by the constructor)
    stamps = [time.perf_counter()]
    for _ in s.iter_factorize(num_iter):
        stamps.append(time.perf_counter())
    t2 = time.perf_counter()
    # per iteration: from the initial state (first yield) to the last iteration
    t1 = stamps[1]
    finish_s = t2 - stamps[-1]
    t2 = stamps[-1]
np.save(sys.argv[3], np.asarray(s.modules))
loc, diam = subunits(s)
print(json.dumps({"setup_s": t1 - t0, "iter_s": (t2 - t1) / max(num_iter, 1), "res": float(s.res),
                  "localized": loc, "diameters": diam, "sparsity": s.sparsity,
                  "total_s": t2 - t0 + finish_s, "finish_s": finish_s,
                  "peak_mb": peak_mb()}))
"""
)


def reference_python() -> str | None:
    py = os.environ.get("STNMF_PYTHON") or str(HERE.parent / ".venv-stnmf" / "bin" / "python")
    if not Path(py).exists():
        return None
    ok = subprocess.run([py, "-c", "import stnmf"], capture_output=True)
    return py if ok.returncode == 0 else None


ONE_THREAD = dict.fromkeys(("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"), "1")


def run_worker(
    python, code, ste_path, num_iter, out, *, sparsity=1.7, pixel=30.0, mode="fit", env_extra=None
):
    env = dict(os.environ, **(env_extra or {}))
    env["PYTHONPATH"] = str(HERE.parent / "src") + os.pathsep + env.get("PYTHONPATH", "")
    args = [python, "-c", code, str(ste_path), str(num_iter), str(out), str(sparsity)]
    proc = subprocess.run(args + [str(pixel), mode], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def match(modules: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlations of the Hungarian-matched (true subunit, module) pairs and module indices."""
    from napari_unmix.core.scenarios.stnmf import match_subunits

    return match_subunits(modules, truth, with_index=True)


def speed_rows(tmp, ref_py, quick):
    from napari_unmix.core.synthetic import make_ste

    num_iter = 10 if quick else 30
    cases = [(20, 20000), (40, 20000)]
    growth = [10000, 50000] if quick else [10000, 50000, 100000]
    rows = []
    for grid, m in cases + [(20, mm) for mm in growth]:
        ste, _ = make_ste(n_spikes=m, grid=grid)
        path = tmp / f"ste_{grid}_{m}.npy"
        np.save(path, ste)
        del ste
        ours = run_worker(sys.executable, OUR_WORKER, path, num_iter, tmp / "o.npy")
        is_growth = (grid, m) not in cases
        ref = ref1 = None
        if ref_py and not is_growth:
            ref = run_worker(ref_py, REFERENCE_WORKER, path, num_iter, tmp / "r.npy")
            ref1 = run_worker(
                ref_py, REFERENCE_WORKER, path, num_iter, tmp / "r.npy", env_extra=ONE_THREAD
            )
        row = {
            "benchmark": "stnmf speed",
            "case": f"{grid}x{grid}x{m}",
            "iters": num_iter,
            "ours ms/iter": f"{ours['iter_s'] * 1e3:.2f}",
            "ours setup s": f"{ours['setup_s']:.2f}",
            "ours finish s": f"{ours['finish_s']:.2f}",
            "ours peak MB": f"{ours['peak_mb']:.0f}",
        }
        if ref is not None and ref1 is not None:
            fast = min(ref["iter_s"], ref1["iter_s"])  # the reference at its better setting
            row.update(
                {
                    "ref ms/iter": f"{ref['iter_s'] * 1e3:.1f}",
                    "ref ms/iter 1 thread": f"{ref1['iter_s'] * 1e3:.1f}",
                    "ref setup s": f"{min(ref['setup_s'], ref1['setup_s']):.2f}",
                    "ref peak MB": f"{ref['peak_mb']:.0f}",
                    "speed-up/iter": f"{fast / ours['iter_s']:.1f}x",
                    "residual ours/ref": f"{ours['res'] / ref['res']:.5f}",
                }
            )
        elif not is_growth:
            row["ref ms/iter"] = "not available"
        rows.append(row)
        print(row, flush=True)
    return rows


def recovery_rows(tmp, ref_py, quick):
    from napari_unmix.core.synthetic import make_ste_sparse

    num_iter = 300 if quick else 1000
    rows = []
    for m in (20000, 50000):
        ste, truth = make_ste_sparse(n_spikes=m)
        path = tmp / f"sparse_{m}.npy"
        np.save(path, ste)
        runs = [("ours (same settings)", sys.executable, OUR_WORKER, "fit")]
        scan_iter = max(num_iter, 1000)  # iterations are cheap: same time budget, more of them
        runs.append((f"ours (sparsity scan, {scan_iter} it)", sys.executable, OUR_WORKER, "scan"))
        runs.append(("ours (recovery settings)", sys.executable, OUR_WORKER, "recovery"))
        if ref_py:
            runs.insert(0, ("stnmf reference", ref_py, REFERENCE_WORKER, "fit"))
        for label, py, code, mode in runs:
            out = tmp / "mod.npy"
            n_it = scan_iter if mode == "scan" else num_iter
            res = run_worker(py, code, path, n_it, out, mode=mode)
            if res is None:
                rows.append({"benchmark": "stnmf recovery", "case": f"m={m}", "method": label,
                             "matched>=0.8": "failed"})  # fmt: skip
                continue
            modules = np.load(out)
            corr, j = match(modules, truth["subunits"])
            loc = res["localized"]
            diam = [res["diameters"][loc.index(k)] for k in j[corr >= 0.8] if k in loc]
            total = res.get("total_s", res["setup_s"] + res["iter_s"] * n_it)
            rows.append(
                {
                    "benchmark": "stnmf recovery",
                    "case": f"20x20x{m}",
                    "method": label,
                    "iters": n_it,
                    "sparsity": res.get("sparsity", 1.7),
                    "matched>=0.8": f"{int((corr >= 0.8).sum())}/7",
                    "matched>=0.9": f"{int((corr >= 0.9).sum())}/7",
                    "localized": len(loc),
                    "diam µm (truth 144)": (
                        f"{np.median(diam):.0f} [{min(diam):.0f}-{max(diam):.0f}]" if diam else "-"
                    ),
                    "total s": f"{total:.1f}",
                }
            )
            print(rows[-1], flush=True)
        if not ref_py:
            rows.append({"benchmark": "stnmf recovery", "case": f"20x20x{m}",
                         "method": "stnmf reference", "matched>=0.8": "not available"})  # fmt: skip
    return rows


def model_cell_rows(tmp, ref_py, quick, save=None):
    from napari_unmix.core.scenarios.stnmf import ModelCell, draw_cells, make_cell, match_subunits

    num_iter = 300
    counts = (5000, 20000) if quick else (5000, 20000, 50000)
    cells = [("default 7-subunit cell", ModelCell())] + [
        (f"drawn cell {i}", c)
        for i, c in enumerate(draw_cells(3 if quick else 7, random_state=2026))
    ]
    # the reference takes minutes per cell at 50,000+ spikes: fewer cells there
    n_cells = {50000: 4}
    rows = []
    for m in counts:
        for k, (label, cell) in enumerate(cells[: n_cells.get(m, len(cells))]):
            ste, truth = make_cell(cell, n_spikes=m, random_state=1000 + k)
            path = tmp / "cell.npy"
            np.save(path, ste)
            np.save(tmp / "cell_unit.npy", ste / np.float32(cell.contrast))
            px = cell.pixel_size
            row = {"benchmark": "stnmf model cells", "case": f"{label} m={m}", "spikes": m,
                   "subunits": cell.n_subunits, "iters": num_iter}  # fmt: skip
            for side, py, code, src, mode in [
                ("ours", sys.executable, OUR_WORKER, path, "recovery"),
                ("ref", ref_py, REFERENCE_WORKER, tmp / "cell_unit.npy", "fit"),
            ]:
                if py is None:
                    row[f"{side} matched"] = "not available"
                    continue
                res = run_worker(py, code, src, num_iter, tmp / "mod.npy", pixel=px, mode=mode)
                if res is None:
                    row[f"{side} matched"] = "failed"
                    continue
                corr = match_subunits(np.load(tmp / "mod.npy"), truth["subunits"])
                found = _matched_modules(np.load(tmp / "mod.npy"), truth["subunits"])
                row[f"{side} matched"] = int((corr >= 0.8).sum())
                row[f"{side} false"] = len(set(res["localized"]) - found)
                row[f"{side} s/cell"] = round(
                    res.get("total_s", res["setup_s"] + res["iter_s"] * num_iter), 2
                )
            rows.append(row)
            print(row, flush=True)
            if save is not None:  # the table takes long: keep what is done
                save(rows)
    return rows


def _matched_modules(modules: np.ndarray, subunits: np.ndarray) -> set[int]:
    corr, j = match(modules, subunits)
    return {int(x) for x in j[corr >= 0.8]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations and sizes")
    parser.add_argument("--only", choices=["speed", "recovery", "cells"], help="one section")
    args = parser.parse_args()
    ref_py = reference_python()
    print(f"machine: {machine()}; reference python: {ref_py or 'not available'}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        out = "bench_stnmf" if args.only is None else f"bench_stnmf_{args.only}"
        done: list[dict] = []

        def save(section_rows):
            save_rows(out, done + section_rows)
            save_summary(out, _summary(done + section_rows))

        sections = {"speed": speed_rows, "recovery": recovery_rows}
        for name, fn in sections.items():
            if args.only in (None, name):
                done += fn(tmp, ref_py, args.quick)
                save([])
        if args.only in (None, "cells"):
            done += model_cell_rows(tmp, ref_py, args.quick, save=save)
    print_table(done)
    save([])
    return 0


def _summary(rows: list[dict]) -> list[dict]:
    """Headline rows: time per iteration and subunit recovery, ours vs the reference."""

    def num(v, scale=1.0):
        try:
            return float(v) * scale
        except (TypeError, ValueError):
            return v

    out = _cells_summary(rows)
    for r in rows:
        if r["benchmark"] == "stnmf speed" and "ref ms/iter" in r:
            ref = r["ref ms/iter"]
            if ref != "not available":
                ref = min(float(ref), float(r["ref ms/iter 1 thread"])) / 1e3
            out.append(
                summary_row(
                    "STNMF", "time per iteration", data=f"STE {r['case']}",
                    ours_s=num(r["ours ms/iter"], 1e-3), ours_peak_mb=num(r["ours peak MB"]),
                    ours_accuracy=f"residual ours/ref {r.get('residual ours/ref', '-')}",
                    reference="stnmf 1.1.0", reference_s=ref,
                    reference_peak_mb=num(r.get("ref peak MB")),
                )
            )  # fmt: skip
    recovery = [r for r in rows if r["benchmark"] == "stnmf recovery"]
    for case in dict.fromkeys(r["case"] for r in recovery):
        ours = next(
            (r for r in recovery if r["case"] == case and r["method"].startswith("ours (same")), {}
        )
        ref = next(
            (r for r in recovery if r["case"] == case and r["method"] == "stnmf reference"), {}
        )
        out.append(
            summary_row(
                "STNMF", f"subunit recovery, {ours.get('iters', '?')} it, same settings",
                data=f"sparse cell {case}", ours_s=num(ours.get("total s")),
                ours_accuracy=f"matched r>=0.8: {ours.get('matched>=0.8', '-')}",
                reference="stnmf 1.1.0",
                reference_s=num(ref.get("total s", ref.get("matched>=0.8", "not available"))),
                reference_accuracy=f"matched r>=0.8: {ref['matched>=0.8']}" if "total s" in ref else None,
            )
        )  # fmt: skip
    return out


def _cells_summary(rows: list[dict]) -> list[dict]:
    """Per spike count: subunits matched by ours and the reference over all model cells."""
    cells = [r for r in rows if r["benchmark"] == "stnmf model cells"]
    out = []
    for m in dict.fromkeys(r["spikes"] for r in cells):
        sel = [r for r in cells if r["spikes"] == m]
        truth = sum(r["subunits"] for r in sel)
        ours = sum(r["ours matched"] for r in sel if isinstance(r.get("ours matched"), int))
        ref_ok = all(isinstance(r.get("ref matched"), int) for r in sel)
        ref = sum(r["ref matched"] for r in sel) if ref_ok else None
        fewer = sum(r["ours matched"] < r["ref matched"] for r in sel) if ref_ok else None
        false = sum(r.get("ours false", 0) for r in sel)
        out.append(
            summary_row(
                "STNMF", f"model cells: subunits recovered (r>=0.8), {m} spikes",
                data=f"{len(sel)} model cells, {truth} subunits",
                ours_s=float(np.median([r["ours s/cell"] for r in sel])),
                ours_accuracy=f"{ours}/{truth} ({false} false)",
                reference="stnmf 1.1.0",
                reference_s=float(np.median([r["ref s/cell"] for r in sel])) if ref_ok else "not available",
                reference_accuracy=(
                    f"{ref}/{truth}; ours {ours / max(ref, 1):.1f}x, fewer on {fewer} cells"
                    if ref_ok else None
                ),
            )
        )  # fmt: skip
    return out


if __name__ == "__main__":
    raise SystemExit(main())
