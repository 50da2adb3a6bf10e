"""The noise-aware MATLAB loop refuses the options only the published loop reads."""

from __future__ import annotations

import numpy as np
import pytest

import napari_unmix
from napari_unmix.core.picasso import PicassoOptions, estimate_picasso
from napari_unmix.core.picasso.options import PUBLISHED_LOOP_ONLY
from napari_unmix.core.synthetic import make_picasso_mix

CHANGED = {"qn": 50, "negativity_threshold": 10.0, "clip_every_n_iterations": 2}


@pytest.fixture(scope="module")
def data():
    return make_picasso_mix(n_channels=3, shape=(64, 64), random_state=1)[0]


def test_every_published_loop_option_has_a_changed_value():
    assert set(CHANGED) == set(PUBLISHED_LOOP_ONLY)
    defaults = PicassoOptions.defaults()
    assert all(CHANGED[k] != defaults[k] for k in CHANGED)


@pytest.mark.parametrize("name", sorted(CHANGED))
@pytest.mark.parametrize("aware", [None, True])
@pytest.mark.parametrize("impl", ["matlab_3c", "matlab_n"])
def test_noise_aware_loop_refuses_a_changed_value(data, name, aware, impl):
    kw = {name: CHANGED[name], "implementation": impl, "max_iter": 2}
    if aware is not None:
        kw["noise_aware"] = aware
    with pytest.raises(ValueError, match=rf"{name}=.*noise_aware=False") as err:
        estimate_picasso(data, **kw)
    assert ("noise_aware=True" in str(err.value)) == bool(aware)


def test_the_refusal_reaches_the_api(data):
    with pytest.raises(ValueError, match="qn=50: only the published MATLAB loop"):
        napari_unmix.unmix_picasso_array(data, implementation="matlab_n", qn=50, max_iter=2)


@pytest.mark.parametrize(
    "kw",
    [
        {"implementation": "matlab_n", "noise_aware": False, **CHANGED},  # the published loop
        {"implementation": "matlab_3c", "reference_compatible": True, **CHANGED},
        # the defaults typed in, and a block size (the dock fills it for every implementation)
        {"implementation": "matlab_n", "pixel_bin_size": 4}
        | {k: PicassoOptions.defaults()[k] for k in PUBLISHED_LOOP_ONLY},
        {"implementation": "source_sink_n", **CHANGED},  # not the MATLAB scheme
    ],
)
def test_published_loop_values_are_accepted_where_they_do_no_harm(data, kw):
    res = estimate_picasso(data, **{**kw, "max_iter": 2})
    assert np.all(np.isfinite(res.matrix))


def test_the_published_loop_uses_them(data):
    # the values are not only accepted with noise_aware=False: they change its result
    # (pixel blocks: sums of 4x4 pixels are never negative, so the negativity rule is idle)
    kw = {"implementation": "matlab_n", "noise_aware": False, "max_iter": 5, "pixel_bin_size": 1}
    plain = estimate_picasso(data, **kw)
    for name, value in CHANGED.items():
        other = estimate_picasso(data, **kw, **{name: value})
        assert not np.array_equal(other.matrix, plain.matrix), name


@pytest.mark.parametrize("compatible", [False, True])
@pytest.mark.parametrize("aware", [None, True, False])
@pytest.mark.parametrize("impl", ["matlab_3c", "matlab_n"])
def test_runs_published_loop_is_the_refusal_rule(data, impl, aware, compatible):
    """The rule the dock greys fields with is the one the run applies: a changed qn
    runs exactly when runs_published_loop says so (or the pair is refused anyway)."""
    from napari_unmix.core.picasso import runs_published_loop

    kw = {"implementation": impl, "noise_aware": aware, "reference_compatible": compatible}
    published = runs_published_loop(PicassoOptions(**kw))
    assert published == (compatible or aware is False)
    if compatible and aware:
        return  # refused whatever qn is (its own message)
    try:
        estimate_picasso(data, qn=50, max_iter=2, **kw)
        ran = True
    except ValueError as err:
        assert "qn=50" in str(err)
        ran = False
    assert ran == published
