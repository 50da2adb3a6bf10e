"""Re-applying a saved report: alpha, a PICASSO matrix and H spectra on new files."""

import json

import numpy as np
import pytest

from napari_unmix import cli
from napari_unmix.api.bleedthrough import unmix
from napari_unmix.api.picasso import unmix_picasso
from napari_unmix.api.reapply import reapply, reapply_plan
from napari_unmix.core.synthetic import make_bleedthrough_stack, make_picasso_mix
from napari_unmix.io.omio_io import read_image, write_image


def _report(path):
    return json.loads((path.parent / (path.name + ".json")).read_text())


def test_bleedthrough_alpha_from_report_equals_alpha_by_hand(tmp_path, capsys):
    data, _truth = make_bleedthrough_stack()
    first = write_image(tmp_path / "first.ome.tif", data)
    unmix(first, tmp_path / "first_u.ome.tif", verbose=False, bidirectional=True)
    rep = _report(tmp_path / "first_u.ome.tif")
    alpha, alpha_rev = rep["alpha"], rep["alpha_reverse"]
    new = tmp_path / "new"
    new.mkdir()
    rng = np.random.default_rng(3)
    for i in range(2):  # other files: other noise, one time point
        noisy = data[:1] * rng.uniform(0.8, 1.2) + rng.random(data[:1].shape).astype(np.float32)
        write_image(new / f"n{i}.ome.tif", noisy.astype(np.float32))
    summary = reapply(tmp_path / "first_u.ome.tif.json", new, output_dir=tmp_path / "out")
    assert summary.ok and summary.counts()["done"] == 2
    for i in range(2):
        by_hand = tmp_path / f"hand{i}.ome.tif"
        unmix(new / f"n{i}.ome.tif", by_hand, alpha=alpha, alpha_reverse=alpha_rev,
              bidirectional=True, verbose=False)  # fmt: skip
        got, _ = read_image(tmp_path / "out" / f"n{i}_unmix.ome.tif")
        np.testing.assert_array_equal(got, read_image(by_hand)[0])
        r = _report(tmp_path / "out" / f"n{i}_unmix.ome.tif")
        assert r["forward"]["alpha_source"] == "user_provided" and r["alpha"] == alpha
    # the command line does the same with --from-report
    argv = ["unmix", str(new), "--output-dir", str(tmp_path / "cli")]
    assert cli.main([*argv, "--from-report", str(tmp_path / "first_u.ome.tif.json")]) == 0
    got, _ = read_image(tmp_path / "cli" / "n1_unmix.ome.tif")
    np.testing.assert_array_equal(got, read_image(tmp_path / "hand1.ome.tif")[0])
    capsys.readouterr()


def test_picasso_matrix_from_report_equals_matrix_by_hand(tmp_path):
    data, _truth = make_picasso_mix(shape=(64, 64))
    first = write_image(tmp_path / "first.ome.tif", data)
    kw = {"implementation": "source_sink_n", "verbose": False, "pixel_bin_size": 4}
    unmix_picasso(first, tmp_path / "first_p.ome.tif", **kw)
    first_result = _report(tmp_path / "first_p.ome.tif")["result"]
    matrix, background = first_result["unmixing_matrix_by_t"][0], first_result["background_by_t"][0]
    assert not np.allclose(matrix, np.eye(3))  # something was estimated
    other, _ = make_picasso_mix(shape=(64, 64), random_state=7)
    src = write_image(tmp_path / "other.ome.tif", other)
    summary = reapply(tmp_path / "first_p.ome.tif", [src], output_dir=tmp_path / "out")
    assert summary.ok
    hand = tmp_path / "hand.ome.tif"
    unmix_picasso(
        src, hand, alpha_mode="fixed", unmixing_matrix=matrix, fixed_background=background, **kw
    )
    got, _ = read_image(tmp_path / "out" / "other_picasso.ome.tif")
    np.testing.assert_array_equal(got, read_image(hand)[0])
    # and it is not a fresh estimate on the new file
    fresh = tmp_path / "fresh.ome.tif"
    unmix_picasso(src, fresh, **kw)
    assert not np.array_equal(got, read_image(fresh)[0])


def test_nnmf_spectra_reapplied_by_nnls(tmp_path):
    from napari_unmix.api.nmf import nnls_unmix_file, nnmf_file
    from napari_unmix.core.synthetic import make_bead_cube

    cube, truth = make_bead_cube(shape=(20, 20), n_channels=16)
    extra = {"spectral_axis": truth["spectral_axis"].tolist(), "spectral_units": "cm-1"}
    first = write_image(tmp_path / "first.ome.tif", cube[None, None], extra=extra)
    nnmf_file(first, tmp_path / "fit.ome.tif", k=3, max_iter=50)
    plan = reapply_plan(tmp_path / "fit.ome.tif.json")
    assert plan.target.endswith("nnls_unmix_file")
    other, _ = make_bead_cube(shape=(20, 20), n_channels=16, random_state=5)
    src = write_image(tmp_path / "other.ome.tif", other[None, None], extra=extra)
    assert reapply(tmp_path / "fit.ome.tif.json", src, output_dir=tmp_path / "out").ok
    nnls_unmix_file(src, tmp_path / "hand.ome.tif", tmp_path / "fit_spectra.csv")
    got = read_image(tmp_path / "out" / "other_nnls.ome.tif")[0]
    np.testing.assert_array_equal(got, read_image(tmp_path / "hand.ome.tif")[0])


def test_reports_that_cannot_be_reapplied(tmp_path):
    with pytest.raises(ValueError, match="cannot re-apply a 'stnmf' report"):
        reapply_plan({"tool": "stnmf", "parameters": {}})
    with pytest.raises(ValueError, match="no alpha"):
        reapply_plan({"tool": "bleedthrough", "parameters": {}})
    p = tmp_path / "x.json"
    p.write_text("{}")
    with pytest.raises(ValueError, match="not a napari-unmix report"):
        reapply_plan(p)


def test_picasso_report_reapplied_to_its_own_file_gives_the_same_output(tmp_path):
    """The original run subtracted a background before its matrix: re-applying the
    report's matrix subtracts the same background (#18)."""
    data, _truth = make_picasso_mix(shape=(64, 64))
    data = data + np.float32(40.0)  # an offset the estimate removes as background
    first = write_image(tmp_path / "first.ome.tif", data)
    kw = {"implementation": "source_sink_n", "verbose": False, "pixel_bin_size": 4}
    unmix_picasso(first, tmp_path / "first_p.ome.tif", **kw)
    rep = _report(tmp_path / "first_p.ome.tif")
    assert max(rep["result"]["background_by_t"][0]) > 30
    plan = reapply_plan(tmp_path / "first_p.ome.tif")
    assert plan.keywords["fixed_background"] == rep["result"]["background_by_t"][0]
    assert reapply(tmp_path / "first_p.ome.tif", [first], output_dir=tmp_path / "out").ok
    got = read_image(tmp_path / "out" / "first_picasso.ome.tif")[0]
    np.testing.assert_array_equal(got, read_image(tmp_path / "first_p.ome.tif")[0])


def test_fixed_background_needs_a_matrix_and_the_channel_count():
    from napari_unmix.api.picasso import unmix_picasso_array

    data, _truth = make_picasso_mix(shape=(32, 32))
    with pytest.raises(ValueError, match="give the matrix too"):
        unmix_picasso_array(data, fixed_background=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="3 finite offsets"):
        unmix_picasso_array(data, unmixing_matrix=np.eye(3), fixed_background=[1.0, 2.0])
    out, _rep = unmix_picasso_array(
        data, unmixing_matrix=np.eye(3), fixed_background=[1.0, 2.0, 3.0], clip_negative=False
    )
    np.testing.assert_allclose(out[0, 0, 2], data[0, 0, 2] - 3.0, rtol=1e-6)


def test_matlab_report_reapplied_to_its_own_file_is_its_linear_map(tmp_path):
    """A MATLAB-scheme run replays its loop; re-applied, its report is the same linear map
    (background, normalisation and output scale included), without the loop's clipping."""
    data, _truth = make_picasso_mix(shape=(64, 64))
    first = write_image(tmp_path / "first.ome.tif", data + np.float32(40.0))
    kw = {"implementation": "matlab_3c", "verbose": False, "pixel_bin_size": 4}
    unmix_picasso(first, tmp_path / "first_p.ome.tif", **kw)
    assert reapply(tmp_path / "first_p.ome.tif", [first], output_dir=tmp_path / "out").ok
    got = read_image(tmp_path / "out" / "first_picasso.ome.tif")[0]
    want = read_image(tmp_path / "first_p.ome.tif")[0]
    assert np.median(np.abs(got - want)) < 1e-5 * np.abs(want).max()
    assert np.abs(got - want).max() < 0.01 * np.abs(want).max()  # (0.5 %: the clipping)
