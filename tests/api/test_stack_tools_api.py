"""Stack tools API: reports, files with sidecars, and the T -> C conversion."""

import json

import numpy as np
import pytest

from napari_unmix.api.stack_tools import (
    apply_stack_tool,
    apply_stack_tool_file,
    convert_time_encoded_stack_to_channel_stack,
)
from napari_unmix.io.omio_io import read_image, write_image


def test_array_report_has_parameters_shifts_and_input():
    stack = np.zeros((2, 1, 2, 32, 32), np.float32)
    stack[:, :, :, 10:20, 12:22] = 1.0
    stack[1] = np.roll(stack[1], (2, -1), axis=(-2, -1))
    out, rep = apply_stack_tool("register", stack, registration_channel=1)
    assert out.shape == stack.shape
    assert rep["tool"] == "stack_tools.register"
    assert rep["parameters"]["registration_channel"] == 1
    assert rep["inputs"]["stack"]["shape"] == [2, 1, 2, 32, 32]
    np.testing.assert_allclose(rep["results"]["shifts_yx"][1], [-2, 1], atol=0.1)
    assert rep["results"]["output"]["dtype"] == "float32"
    json.dumps(rep)  # JSON-ready
    with pytest.raises(ValueError, match="unknown stack tool 'blur'"):
        apply_stack_tool("blur", stack)


def test_file_level_keeps_metadata_and_writes_sidecar(tmp_path):
    data = np.random.default_rng(0).integers(0, 1000, (2, 3, 2, 16, 16)).astype(np.uint16)
    src = write_image(
        tmp_path / "in.ome.tif",
        data,
        physical_size=(2.0, 0.3, 0.3),
        time_increment=5.0,
        channel_names=["GFP", "RFP"],
    )
    calls = []
    out = apply_stack_tool_file(
        "filter",
        src,
        tmp_path / "f.ome.tif",
        filters=["median"],
        median_size=3,
        progress=calls.append,
    )
    back, meta = read_image(out)
    from scipy import ndimage as ndi

    np.testing.assert_array_equal(
        back[1, 2, 0], ndi.median_filter(data[1, 2, 0].astype(np.float32), 3)
    )
    assert meta["physical_size"] == pytest.approx((2.0, 0.3, 0.3))
    assert meta["channel_names"] == ["GFP", "RFP"]
    assert (calls[-1].done, calls[-1].total) == (4, 4)
    rep = json.loads((tmp_path / "f.ome.tif.json").read_text())
    assert rep["parameters"]["filters"] == ["median"]
    assert rep["inputs"]["input_path"].endswith("in.ome.tif")
    with pytest.raises(FileExistsError, match="exists"):
        apply_stack_tool_file("max-z", src, out)
    with pytest.raises(ValueError, match="is the input file"):
        apply_stack_tool_file("max-z", src, src, overwrite=True)
    mip = apply_stack_tool_file("max-z", src, out, overwrite=True)
    assert read_image(mip)[0].shape == (2, 1, 2, 16, 16)


def test_convert_time_encoded_stack(tmp_path):
    data = np.random.default_rng(1).integers(0, 100, (3, 2, 1, 8, 8)).astype(np.uint16)
    src = write_image(tmp_path / "t.ome.tif", data, physical_size=(1.5, 0.2, 0.2))
    out = convert_time_encoded_stack_to_channel_stack(src, tmp_path / "c.ome.tif")
    back, meta = read_image(out)
    assert back.shape == (1, 2, 3, 8, 8)
    for t in range(3):  # time point t became channel t, z order kept
        np.testing.assert_array_equal(back[0, :, t], data[t, :, 0])
    assert meta["physical_size"] == pytest.approx((1.5, 0.2, 0.2))
    assert (tmp_path / "c.ome.tif.json").exists()
    two = write_image(tmp_path / "two.ome.tif", np.zeros((2, 1, 2, 8, 8), np.uint16))
    with pytest.raises(ValueError, match=r"got 2 channels \(shape \(2, 1, 2, 8, 8\)"):
        convert_time_encoded_stack_to_channel_stack(two, tmp_path / "x.ome.tif")
    one = write_image(tmp_path / "one.ome.tif", np.zeros((1, 1, 1, 8, 8), np.uint16))
    with pytest.raises(ValueError, match="single time point"):
        convert_time_encoded_stack_to_channel_stack(one, tmp_path / "y.ome.tif")


def test_convert_time_to_channels_keeps_a_nan_pixel_where_it_is(tmp_path):
    data = np.random.default_rng(2).random((3, 2, 1, 8, 8)).astype(np.float32)
    data[1, 0, 0, 3, 5] = np.nan
    src = write_image(tmp_path / "t.ome.tif", data)
    back, _ = read_image(convert_time_encoded_stack_to_channel_stack(src, tmp_path / "c.ome.tif"))
    assert np.isnan(back[0, 0, 1, 3, 5]) and np.isnan(back).sum() == 1
    np.testing.assert_array_equal(
        np.nan_to_num(back[0].swapaxes(0, 1)), np.nan_to_num(data[:, :, 0])
    )


def test_register_report_and_nan_pixel():
    from napari_unmix.core.scenarios.registration import make_registration_stack

    stack, truth = make_registration_stack("nonfinite", shape=(48, 48), n_t=3, n_c=2)
    out, rep = apply_stack_tool("register", stack, registration_channel=0, max_shift=12)
    np.testing.assert_allclose(rep["results"]["shifts_yx"], truth["shifts"], atol=0.1)
    assert rep["parameters"]["max_shift"] == 12
    # bad pixels move with their frame (some leave it), they never spread
    np.testing.assert_array_equal(np.isfinite(out[0]), np.isfinite(stack[0]))
    assert (~np.isfinite(out)).sum() <= (~np.isfinite(stack)).sum()
    json.dumps(rep)


def test_register_report_lists_the_frames_left_unmoved():
    rng = np.random.default_rng(0)
    stack = rng.poisson(5.0, (2, 1, 1, 32, 32)).astype(np.float32)  # unrelated noise
    with pytest.warns(RuntimeWarning, match="no clear translation"):
        _, rep = apply_stack_tool("register", stack, registration_channel=0)
    assert rep["results"]["shifts_yx"][1] == [0.0, 0.0]
    assert any(w.startswith("time point 1 against 0") for w in rep["results"]["warnings"])
