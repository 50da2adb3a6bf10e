"""The layer adapter: every input form a dock accepts, and its error messages."""

import dask.array as da
import numpy as np
import pytest
from napari.layers import Image

from napari_unmix.widgets._layers import layer_axes, layer_cube, layers_to_tzcyx

RNG = np.random.default_rng(0)


def _layer(shape, name="img", axes=None, *, lazy=False, **kw):
    data = RNG.random(shape).astype(np.float32)
    return Image(da.from_array(data) if lazy else data, name=name,
                 metadata={} if axes is None else {"axes": axes}, **kw)  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "axes", "min_channels", "expected"),
    [
        ((16, 16), None, 1, (1, 1, 1, 16, 16)),  # YX: one channel
        ((5, 16, 16), None, 1, (1, 5, 1, 16, 16)),  # ZYX by default for a one-channel tool
        ((3, 16, 16), None, 2, (1, 1, 3, 16, 16)),  # CYX by default for a multi-channel tool
        ((4, 3, 16, 16), None, 2, (1, 4, 3, 16, 16)),  # ZCYX
        ((2, 4, 3, 16, 16), None, 1, (2, 4, 3, 16, 16)),  # TZCYX
        ((3, 5, 16, 16), "CZYX", 2, (1, 5, 3, 16, 16)),  # named axes win
        ((2, 16, 16), "TYX", 1, (2, 1, 1, 16, 16)),
        ((2, 1, 3, 16, 16), "TZCYX", 2, (2, 1, 3, 16, 16)),
    ],
)
@pytest.mark.parametrize("lazy", [False, True])
def test_one_layer(shape, axes, min_channels, expected, lazy):
    layer = _layer(shape, axes=axes, lazy=lazy)
    stack = layers_to_tzcyx([layer], min_channels=min_channels)
    assert stack.data.shape == expected
    assert isinstance(stack.data, da.Array) == lazy
    restored = stack.restore(stack.data)
    assert len(restored) == 1 and restored[0].shape == layer.data.shape
    np.testing.assert_array_equal(np.asarray(restored[0]), np.asarray(layer.data))
    if stack.multichannel:
        assert stack.names == tuple(f"img C{c}" for c in range(expected[2]))
        one = stack.channel(stack.data, 1)
        assert one.ndim == layer.data.ndim - 1


@pytest.mark.parametrize(
    ("shape", "axes", "expected"),
    [
        ((16, 16), None, (1, 1, 2, 16, 16)),
        ((5, 16, 16), None, (1, 5, 2, 16, 16)),
        ((2, 5, 16, 16), None, (2, 5, 2, 16, 16)),
        ((2, 16, 16), "TYX", (2, 1, 2, 16, 16)),
        ((1, 1, 16, 16), "TZYX", (1, 1, 2, 16, 16)),  # the reader's channel layers
    ],
)
def test_one_layer_per_channel(shape, axes, expected):
    layers = [_layer(shape, "a", axes), _layer(shape, "b", axes, lazy=True)]
    stack = layers_to_tzcyx(layers, min_channels=2)
    assert stack.data.shape == expected and isinstance(stack.data, da.Array)
    assert stack.names == ("a", "b") and not stack.multichannel
    assert stack.channel_layer(1) is layers[1]
    for layer, back in zip(layers, stack.restore(stack.data), strict=True):
        np.testing.assert_array_equal(np.asarray(back), np.asarray(layer.data))
    numpy_only = layers_to_tzcyx([layers[0], _layer(shape, "c", axes)])
    assert isinstance(numpy_only.data, np.ndarray)


@pytest.mark.parametrize(
    ("layers", "min_channels", "message"),
    [
        ([], 1, "select at least one image layer"),
        ([_layer((1, 16, 16))], 2, "has only one channel"),
        ([_layer((1, 1, 16, 16), axes="TZYX")], 2, "has only one channel"),
        ([_layer((16, 16, 3), rgb=True)], 1, "RGB"),
        ([_layer((2, 2, 2, 2, 8, 8))], 2, "cannot interpret a 6-D image"),
        ([_layer((8, 8), "a"), _layer((9, 8), "b")], 1, "differ in shape"),
        ([_layer((2, 8, 8), "a"), _layer((8, 8), "b")], 1, "differ in shape"),
        ([_layer((2, 8, 8), "a", "CYX"), _layer((2, 8, 8), "b")], 1, "holds 2 channels"),
        ([_layer((2, 2, 2, 2, 8, 8), "a"), _layer((8, 8), "b")], 1, "expected YX, ZYX, TZYX"),
    ],
)
def test_errors(layers, min_channels, message):
    with pytest.raises(ValueError, match=message):
        layers_to_tzcyx(layers, min_channels=min_channels)


def test_bad_axes_metadata_falls_back_to_the_default():
    assert layer_axes(_layer((3, 8, 8), axes="QYX"), channels=True) == "CYX"
    assert layer_axes(_layer((3, 8, 8), axes="CYX"), channels=False) == "CYX"
    assert layer_axes(_layer((3, 8, 8), axes="YX")) == "ZYX"  # wrong length


def test_layer_cube(make_napari_viewer):
    viewer = make_napari_viewer()
    cube = viewer.add_image(RNG.random((6, 8, 9)), name="cube")
    np.testing.assert_array_equal(layer_cube(cube, viewer), cube.data)
    stack = viewer.add_image(RNG.random((3, 6, 8, 9)), name="slices")
    viewer.dims.set_current_step(0, 2)
    np.testing.assert_array_equal(layer_cube(stack, viewer), stack.data[2])
    np.testing.assert_allclose(
        layer_cube(stack, viewer, all_slices=True), stack.data.mean(axis=0), rtol=1e-6
    )
    # a channel axis named elsewhere, with Z and T in front
    named = viewer.add_image(RNG.random((6, 2, 3, 8, 9)), name="named", metadata={"axes": "CTZYX"})
    viewer.dims.set_current_step(1, 1)
    viewer.dims.set_current_step(2, 2)
    np.testing.assert_array_equal(layer_cube(named, viewer), named.data[:, 1, 2])
    plane = viewer.add_image(RNG.random((8, 9)), name="plane")
    with pytest.raises(ValueError, match="2-D image"):
        layer_cube(plane, viewer)
    five = viewer.add_image(RNG.random((2, 2, 3, 8, 9)), name="five")
    with pytest.raises(ValueError, match="has 5 axes"):
        layer_cube(five, viewer)
