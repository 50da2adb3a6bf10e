"""Bleed-through: values the user gives are used, or refused with a reason (API and CLI)."""

import json

import numpy as np
import pytest

from napari_unmix.api.bleedthrough import report_path_from_output_path, unmix_array
from napari_unmix.core.bleedthrough import estimate_alpha
from napari_unmix.core.synthetic import make_bleedthrough_stack


@pytest.fixture(scope="module")
def stack():
    return make_bleedthrough_stack(n_t=2, n_z=2, shape=(48, 48))[0]


def test_per_t_alphas_are_honoured(stack):
    out, rep = unmix_array(stack, alpha=[0.1, 0.2], alpha_mode="per_t")
    assert rep["alpha_by_t"] == [0.1, 0.2] and rep["forward"]["alpha_source"] == "user_provided"
    for t, a in enumerate((0.1, 0.2)):
        expected = np.clip(stack[t, :, 1] - np.float32(a) * stack[t, :, 0], 0, None)
        np.testing.assert_allclose(out[t, :, 1], expected, rtol=1e-6)
    _, fixed = unmix_array(stack, alpha=np.array([0.3, 0.4]))  # fixed takes T values too
    assert fixed["alpha_by_t"] == [0.3, 0.4] and fixed["alpha_mode"] == "fixed"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0.1, "alpha_mode": "per_t"}, r"sequence of 2 values.*alpha_mode='fixed'"),
        ({"alpha": [0.1, 0.2, 0.3], "alpha_mode": "per_t"}, "3 value"),
        ({"alpha": [0.1, 0.2, 0.3]}, "one value or one per time point"),
        ({"alpha": 0.1, "alpha_mode": "reference_t"}, "would be ignored"),
        ({"alpha": [0.1, np.nan], "alpha_mode": "per_t"}, ">= 0"),
        ({"alpha": "a lot"}, "must be numbers"),
        ({"source_channel": 0.5}, "source_channel must be an integer, got source_channel=0.5"),
        ({"target_channel": True}, "target_channel must be an integer, got target_channel=True"),
        (
            {"alpha_reference_t": 1.5},
            "alpha_reference_t must be an integer, got alpha_reference_t=1.5",
        ),
        ({"mi_bins": 16.5}, "mi_bins must be an integer, got mi_bins=16.5"),
        (
            {"max_alpha_voxels": 0},
            "max_alpha_voxels must be an integer >= 1, got max_alpha_voxels=0",
        ),
        ({"random_state": "x"}, "random_state must be None, an integer >= 0 or a numpy"),
        ({"random_state": -1}, "random_state must be"),
        ({"n_bootstrap": -1}, "n_bootstrap must be an integer >= 0, got n_bootstrap=-1"),
        (
            {"alpha": 0.2, "n_bootstrap": -5},
            "n_bootstrap must be an integer >= 0, got n_bootstrap=-5",
        ),  # checked in fixed too
        ({"min_mask_voxels": 0}, "min_mask_voxels must be an integer >= 1, got min_mask_voxels=0"),
    ],
)
def test_bad_values_are_refused_with_a_reason(stack, kwargs, match):
    with pytest.raises(ValueError, match=match):
        unmix_array(stack, **kwargs)


def test_estimate_alpha_input_checks(stack):
    with pytest.raises(TypeError, match="source must be an array"):
        estimate_alpha(1.0, 2.0)
    with pytest.raises(TypeError, match="target must hold real numbers, got dtype <U1"):
        estimate_alpha(np.array(["a", "b"]), np.array(["c", "d"]))
    with pytest.raises(ValueError, match="one shape"):
        estimate_alpha(stack[0, :, 0], stack[0, 0, 1])
    src, tgt = stack[0, :, 0], stack[0, :, 1]
    with pytest.raises(ValueError, match="alpha_max must be a finite number > 0"):
        estimate_alpha(src, tgt, alpha_max=np.inf)
    a = estimate_alpha(src, tgt, random_state=np.random.default_rng(3), n_bootstrap=5)
    b = estimate_alpha(src, tgt, random_state=np.random.default_rng(3), n_bootstrap=5)
    assert a.ci == b.ci and a.details["random_state"] == "generator"
    c = estimate_alpha(src.tolist(), tgt.tolist(), n_bootstrap=0)  # nested lists: arrays
    assert c.alpha == estimate_alpha(src, tgt, n_bootstrap=0).alpha


def test_min_denominator_below_zero_is_refused():
    from napari_unmix.core.hsmap import band_ratio

    cube = np.ones((3, 4, 4))
    with pytest.raises(ValueError, match="min_denominator must be >= 0"):
        band_ratio(cube, np.array([1.0, 2.0, 3.0]), 1.0, 3.0, window=0, min_denominator=-1)


def test_cli_uses_or_refuses_given_alphas(tmp_path, capsys, stack):
    from napari_unmix.cli import main
    from napari_unmix.io.omio_io import write_image

    src = write_image(tmp_path / "in.ome.tif", stack)
    args = ["unmix", str(src), str(tmp_path / "a.ome.tif"), "--alpha", "0.1"]
    assert main([*args, "--alpha-mode", "per_t"]) == 1
    err = capsys.readouterr().err
    assert "alpha_mode='per_t' needs a sequence, one per time point" in err
    assert "reading" not in err  # refused before the input is read
    assert not (tmp_path / "a.ome.tif").exists()
    out = tmp_path / "b.ome.tif"
    argv = ["unmix", str(src), str(out), "--alpha", "0.1", "0.2", "--alpha-mode", "per_t"]
    assert main([*argv, "--quiet"]) == 0
    rep = json.loads(report_path_from_output_path(out).read_text())
    assert rep["alpha_by_t"] == [0.1, 0.2] and rep["alpha_mode"] == "per_t"
    assert main(["unmix", str(src), str(tmp_path / "c.ome.tif"), "--source-channel", "x"]) == 2
