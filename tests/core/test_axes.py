import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from napari_unmix.core.axes import CANONICAL, from_tzcyx, to_tzcyx, validate_axes, validate_tzcyx


@given(
    perm=st.permutations(list(CANONICAL)),
    keep=st.lists(st.booleans(), min_size=3, max_size=3),
    sizes=st.lists(st.integers(1, 4), min_size=5, max_size=5),
)
def test_to_tzcyx_places_every_axis(perm, keep, sizes):
    # choose a subset of T, Z, C (Y and X always kept) in a random order
    kept = [a for a in perm if a in "YX" or keep["TZC".index(a)]]
    axes = "".join(kept)
    size = dict(zip(CANONICAL, sizes, strict=True))
    shape = tuple(size[a] + 1 for a in axes)  # distinct-ish sizes
    data = np.arange(np.prod(shape)).reshape(shape)
    out = to_tzcyx(data, axes)
    assert out.ndim == 5
    for a in CANONICAL:
        expected = size[a] + 1 if a in axes else 1
        assert out.shape[CANONICAL.index(a)] == expected
    # the round trip restores the input exactly
    np.testing.assert_array_equal(from_tzcyx(out, axes), data)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((5, 6), (1, 1, 1, 5, 6)), ((2, 5, 6), (1, 1, 2, 5, 6)), ((3, 2, 5, 6), (1, 3, 2, 5, 6))],
)
def test_default_rules(shape, expected):
    assert to_tzcyx(np.zeros(shape)).shape == expected


def test_to_tzcyx_is_a_view_and_works_on_dask():
    da = pytest.importorskip("dask.array")
    x = np.zeros((2, 5, 6))
    v = to_tzcyx(x)
    assert np.shares_memory(v, x)
    d = to_tzcyx(da.zeros((3, 2, 5, 6), chunks=(1, 2, 5, 6)), "TCYX")
    assert d.shape == (3, 1, 2, 5, 6)


@pytest.mark.parametrize(
    ("axes", "ndim", "message"),
    [
        ("ZQYX", 4, "unknown axis"),
        ("ZZYX", 4, "repeated"),
        ("ZCY", 3, "must contain 'Y' and 'X'"),
        ("CYX", 4, "names 3 axes but the array has 4"),
    ],
)
def test_bad_axes_messages(axes, ndim, message):
    with pytest.raises(ValueError, match=message):
        validate_axes(axes, ndim)


def test_bad_inputs():
    with pytest.raises(ValueError, match="6-D"):
        to_tzcyx(np.zeros((1,) * 6))
    with pytest.raises(ValueError, match="empty"):
        to_tzcyx(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="1-D"):
        to_tzcyx(np.zeros(4))
    with pytest.raises(ValueError, match="at least 2"):
        validate_tzcyx(np.zeros((1, 1, 1, 4, 4)), min_channels=2)
    with pytest.raises(ValueError, match="cannot drop axis 'T'"):
        from_tzcyx(np.zeros((2, 1, 1, 4, 4)), "YX")
