"""CLI sub-commands of the hyperspectral / STNMF tools: nnls, nnmf, stnmf, maps.

In-process ``cli.main(argv)`` on small synthetic files; outputs checked against the
array-level API and the generators' ground truth.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.exceptions import ConvergenceWarning

from napari_unmix import cli
from napari_unmix.api.nmf import nnls_unmix, random_nnmf, seeded_nnmf
from napari_unmix.core.synthetic import make_bead_cube, make_ste_sparse, make_two_region_cube
from napari_unmix.io.omio_io import read_image, write_image
from napari_unmix.io.spectra import read_spectra_csv, write_spectra_csv


def _corr(a, b):
    return np.corrcoef(a.reshape(len(a), -1), b.reshape(len(b), -1))[: len(a), len(a) :]


def _last_err(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "".join(err)
    return err[-1]


@pytest.fixture(scope="module")
def beads(tmp_path_factory):
    d = tmp_path_factory.mktemp("beads")
    cube, truth = make_bead_cube(shape=(32, 32), n_channels=24)
    axis = truth["spectral_axis"]
    extra = {"spectral_axis": axis.tolist(), "spectral_units": "cm-1"}
    src = write_image(d / "beads.ome.tif", cube[None, None], extra=extra)
    lib = write_spectra_csv(d / "lib.csv", axis, truth["spectra"], truth["names"])
    return d, src, lib, cube, truth


def test_nnls_matches_api_and_truth(beads, capsys):
    d, src, lib, cube, truth = beads
    out = d / "nnls.ome.tif"
    assert cli.main(["nnls", str(src), str(out), str(lib)]) == 0
    err = capsys.readouterr().err
    assert "wrote" in err and "nnls_spectra.csv" in err
    W = read_image(out)[0][0, 0]
    np.testing.assert_allclose(W, nnls_unmix(cube, truth["spectra"]).W, atol=1e-5)
    assert np.diag(_corr(truth["abundances"], W)).min() > 0.95
    _, H, names = read_spectra_csv(d / "nnls_spectra.csv")
    np.testing.assert_allclose(H, truth["spectra"], rtol=1e-6)
    assert names == truth["names"]
    rep = json.loads(Path(str(out) + ".json").read_text())
    assert rep["tool"] == "nnls_unmix" and rep["input"]["spectra"] == str(lib)
    # never overwrites; --overwrite replaces
    assert cli.main(["nnls", str(src), str(out), str(lib), "--quiet"]) == 1
    assert "exists" in _last_err(capsys)
    assert cli.main(["nnls", str(src), str(out), str(lib), "--quiet", "--overwrite"]) == 0


def test_nnls_bad_inputs_one_line(beads, tmp_path, capsys):
    _, src, lib, cube, _ = beads
    out = str(tmp_path / "o.ome.tif")
    assert cli.main(["nnls", str(src), out, str(tmp_path / "none.csv")]) == 1
    assert _last_err(capsys).startswith("napari-unmix nnls: error: no such spectra file")
    assert cli.main(["nnls", str(src), out]) == 2  # spectra_path missing: usage error
    assert "required" in _last_err(capsys)
    # a plain file without a spectral axis: the CSV must have one row per channel
    plain = write_image(tmp_path / "plain.ome.tif", cube[None, None, :20])
    assert cli.main(["nnls", str(plain), out, str(lib), "--quiet"]) == 1
    line = _last_err(capsys)
    assert "spectra file has 24 rows but the cube has 20 channels" in line
    assert not Path(out).exists()
    tz = write_image(tmp_path / "tz.ome.tif", np.ones((2, 2, 24, 4, 4), np.float32))
    assert cli.main(["nnls", str(tz), out, str(lib), "--quiet"]) == 1
    assert "got T=2 and Z=2" in _last_err(capsys)


def test_nnmf_seeded_with_lock_and_random(beads, capsys):
    d, src, lib, cube, truth = beads
    out = d / "seeded.ome.tif"
    argv = ["nnmf", str(src), str(out), "--seeds", str(lib), "--lock", "lipid", "1"]
    assert cli.main([*argv, "--max-iter", "200"]) == 0  # converges well before 200
    err = capsys.readouterr().err  # progress on stderr: the true count, not a made-up 200/200
    assert "200/200 (100%)" not in err
    W = read_image(out)[0][0, 0]
    _, H, _ = read_spectra_csv(d / "seeded_spectra.csv")
    np.testing.assert_allclose(H[:2], truth["spectra"][:2], rtol=1e-6)  # locked rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = seeded_nnmf(cube, truth["spectra"], lock_H=[True, True, False, False], max_iter=200)
    assert ref.converged and f"nnmf: stopped at {ref.n_iter} of at most 200" in err
    np.testing.assert_allclose(W, ref.W, rtol=1e-4, atol=1e-5)
    assert np.diag(_corr(truth["abundances"], W)).min() > 0.9
    params = json.loads(Path(str(out) + ".json").read_text())["parameters"]
    assert params["max_iter"] == 200 and params["lock_H"] == [True, True, False, False]

    out = d / "random.ome.tif"
    argv = ["nnmf", str(src), str(out), "--k", "4", "--max-iter", "60", "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert cli.main(argv) == 0
        ref = random_nnmf(cube, 4, max_iter=60)
    W = read_image(out)[0][0, 0]
    np.testing.assert_allclose(W, ref.W, rtol=1e-4, atol=1e-5)
    c = _corr(truth["abundances"], W)
    i, j = linear_sum_assignment(-c)
    assert np.sort(c[i, j])[-3:].min() > 0.9  # the three distinct components are found


def test_nnmf_needs_seeds_or_k(beads, tmp_path, capsys):
    _, src, lib, _, _ = beads
    out = str(tmp_path / "o.ome.tif")
    assert cli.main(["nnmf", str(src), out, "--quiet"]) == 1
    assert "give either seeds" in _last_err(capsys)
    assert cli.main(["nnmf", str(src), out, "--seeds", str(lib), "--k", "3", "--quiet"]) == 1
    assert "not both" in _last_err(capsys)
    assert cli.main(["nnmf", str(src), out, "--k", "3", "--lock", "a", "--quiet"]) == 1
    assert "lock applies to seeded NNMF only" in _last_err(capsys)
    argv = ["nnmf", str(src), out, "--seeds", str(lib), "--lock", "nope", "--quiet"]
    assert cli.main(argv) == 1
    assert "cannot lock 'nope'" in _last_err(capsys)
    assert cli.main(["nnmf", str(src), out, "--k", "99", "--quiet"]) == 1
    assert "k must be between 1 and the number of channels (24)" in _last_err(capsys)
    assert cli.main(["nnmf", str(src), out, "--k", "3", "--solver", "xx"]) == 2
    assert not Path(out).exists()


def test_stnmf_recovers_subunits(tmp_path, capsys):
    ste, truth = make_ste_sparse(n_spikes=12000, grid=12, random_state=1)
    np.save(tmp_path / "ste.npy", ste)
    out = tmp_path / "cell.ome.tif"
    argv = ["stnmf", str(tmp_path / "ste.npy"), str(out), "--r", "10", "--num-iter", "100"]
    assert cli.main([*argv, "--pixel-size", "30"]) == 0
    err = capsys.readouterr().err
    assert "100/100 (100%)" in err and "cell.png" in err
    for name in ("cell.csv", "cell.png", "cell.ome.tif.json"):
        assert (tmp_path / name).exists()
    modules = read_image(out)[0][0, 0]
    rep = json.loads((tmp_path / "cell.ome.tif.json").read_text())
    loc = rep["localized"]
    assert modules.shape == (10, 12, 12) and len(loc) >= 5
    c = _corr(truth["subunits"], modules[loc])
    i, j = linear_sum_assignment(-c)
    assert (c[i, j] >= 0.7).sum() >= 5
    assert np.median(np.asarray(rep["diameters"])) == pytest.approx(truth["diameters"][0], rel=0.3)
    assert rep["parameters"]["r"] == 10 and rep["input"]["ste"].endswith("ste.npy")
    table = (tmp_path / "cell.csv").read_text().splitlines()
    assert table[0].startswith("module,morans_i,subunit,polarity,diameter_um") and len(table) == 11
    # every output is checked before the work: an existing figure stops the run
    assert cli.main([*argv, "--quiet"]) == 1
    assert "exists" in _last_err(capsys)


def test_stnmf_bad_inputs(tmp_path, capsys):
    np.save(tmp_path / "flat.npy", np.zeros((4, 4)))
    out = str(tmp_path / "o.ome.tif")
    assert cli.main(["stnmf", str(tmp_path / "flat.npy"), out, "--quiet"]) == 1
    assert "expected a 3-D ensemble (x, y, m)" in _last_err(capsys)
    (tmp_path / "x.txt").write_text("1")
    assert cli.main(["stnmf", str(tmp_path / "x.txt"), out, "--quiet"]) == 1
    assert "cannot read '.txt'" in _last_err(capsys)
    ste, _ = make_ste_sparse(n_spikes=50, grid=6)
    np.save(tmp_path / "few.npy", ste)
    assert cli.main(["stnmf", str(tmp_path / "few.npy"), out, "--r", "1", "--quiet"]) == 1
    assert "need 2 <= r" in _last_err(capsys)


@pytest.fixture(scope="module")
def two_region(tmp_path_factory):
    d = tmp_path_factory.mktemp("maps")
    cube, truth = make_two_region_cube(shape=(16, 16), n_channels=80)
    return d, cube, truth


MAP_OPTS = ["--target", "1655", "--numerator", "1655", "--denominator", "1742"]


def test_maps_from_ome_tiff(two_region, capsys):
    d, cube, truth = two_region
    extra = {"spectral_axis": truth["spectral_axis"].tolist(), "spectral_units": "cm-1"}
    src = write_image(d / "cube.ome.tif", cube[None, None], extra=extra)
    out = d / "maps.ome.tif"
    argv = ["maps", str(src), str(out), *MAP_OPTS, "--n-clusters", "2", "--window", "10"]
    assert cli.main(argv) == 0
    assert "report.md" in capsys.readouterr().err
    maps = read_image(out)[0][0, 0]
    labels = maps[2].astype(int)
    # the two halves are the two clusters (labels up to a permutation)
    assert len(np.unique(labels[:, :8])) == len(np.unique(labels[:, 8:])) == 1
    assert labels[0, 0] != labels[0, -1]
    ratio = maps[1]
    assert (np.abs(ratio[:, 8:] - 1) < 0.3).all() and (np.abs(ratio[:, :8]) > 2).all()
    rep = json.loads(Path(str(out) + ".json").read_text())
    assert rep["metrics"]["silhouette"] > 0.6 and rep["parameters"]["n_clusters"] == 2
    folder = d / "maps_report"
    assert {p.name for p in folder.iterdir()} >= {"report.md", "metrics.json", "ratio_map.png"}
    assert cli.main([*argv, "--quiet"]) == 1
    assert "exists" in _last_err(capsys)


def test_maps_from_pixel_spectra_csv(two_region, capsys):
    d, cube, truth = two_region
    rows = cube.reshape(cube.shape[0], -1).T
    header = ",".join(f"{v:.6g}" for v in truth["spectral_axis"])
    body = "\n".join(",".join(f"{v:.6g}" for v in r) for r in rows)
    csv = d / "rows.csv"
    csv.write_text(header + "\n" + body + "\n")
    out = d / "rows_maps.ome.tif"
    argv = ["maps", str(csv), str(out), *MAP_OPTS, "--n-clusters", "2", "--window", "10"]
    assert cli.main([*argv, "--quiet"]) == 1
    assert "has no image_shape; pass image_shape" in _last_err(capsys)
    assert cli.main([*argv, "--image-shape", "16", "16", "--no-report", "--quiet"]) == 0
    labels = read_image(out)[0][0, 0, 2].astype(int)
    assert labels[0, 0] != labels[0, -1] and len(np.unique(labels[:, :8])) == 1
    assert not (d / "rows_maps_report").exists()
    assert cli.main(["maps", str(csv), str(d / "x.ome.tif"), *MAP_OPTS]) == 2  # no --n-clusters
    assert "--n-clusters" in _last_err(capsys)
    tz = write_image(d / "tz.ome.tif", np.ones((1, 3, 20, 4, 4), np.float32))
    argv = ["maps", str(tz), str(d / "y.ome.tif"), *MAP_OPTS, "--n-clusters", "2", "--quiet"]
    assert cli.main(argv) == 1
    assert "expected one hyperspectral cube (T = Z = 1" in _last_err(capsys)


def test_warnings_are_one_line_on_stderr(beads, tmp_path, capsys):
    _, src, _, _, _ = beads
    argv = ["nnmf", str(src), str(tmp_path / "w.ome.tif"), "--k", "3", "--max-iter", "2"]
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # as on a terminal (pytest makes warnings errors)
        assert cli.main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    hits = [line for line in err if "warning:" in line]
    assert hits == ["napari-unmix nnmf: warning: NNMF stopped at max_iter=2 before converging "
                    "(tol=1e-06); raise max_iter or tol"]  # fmt: skip
    assert err.count("napari-unmix nnmf: 2/2 (100%)") == 1


def test_nnmf_anchor_flag_and_file_functions_reach_the_fit(beads, capsys):
    from napari_unmix.api.nmf import nnmf_file, seeded_nnmf_file

    d, src, _, cube, truth = beads
    seeds = truth["spectra"] + 0.05  # impure seeds: the anchor changes where the fit ends
    lib2 = write_spectra_csv(d / "impure.csv", truth["spectral_axis"], seeds, truth["names"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = {a: seeded_nnmf(cube, seeds, anchor=a, max_iter=300) for a in (0.0, 2.0)}
    assert not np.allclose(ref[0.0].H, ref[2.0].H, rtol=1e-3)  # the option matters here
    for a in (0.0, 2.0):
        outs = {
            "cli": d / f"cli_{a}.ome.tif", "nnmf_file": d / f"nf_{a}.ome.tif",
            "seeded_nnmf_file": d / f"sf_{a}.ome.tif",
        }  # fmt: skip
        argv = ["nnmf", str(src), str(outs["cli"]), "--seeds", str(lib2), "--anchor", str(a)]
        assert cli.main([*argv, "--max-iter", "300", "--quiet"]) == 0
        nnmf_file(src, outs["nnmf_file"], seeds=lib2, anchor=a, max_iter=300)
        seeded_nnmf_file(src, outs["seeded_nnmf_file"], lib2, anchor=a, max_iter=300)
        for how, out in outs.items():
            W = read_image(out)[0][0, 0]
            np.testing.assert_allclose(W, ref[a].W, rtol=1e-4, atol=1e-5, err_msg=how)
            params = json.loads(Path(str(out) + ".json").read_text())["parameters"]
            assert params["anchor"] == a, how
    # unseeded NNMF has no seeds to anchor to: refused like the other seeded-only options
    out = str(d / "refused.ome.tif")
    assert cli.main(["nnmf", str(src), out, "--k", "3", "--anchor", "1", "--quiet"]) == 1
    assert "anchor applies to seeded NNMF only" in _last_err(capsys)
    assert cli.main(["nnmf", str(src), out, "--seeds", str(lib2), "--anchor", "-1"]) != 0
    assert not Path(out).exists()
