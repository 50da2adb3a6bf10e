"""Bleed-through options are written once: the functions', the CLI's and the dock's
defaults are those of AlphaOptions / BleedthroughOptions."""

import pytest

from contracts import check_cli_defaults, check_function_defaults
from napari_unmix.api.bleedthrough import estimate_bleedthrough, unmix, unmix_array
from napari_unmix.core.bleedthrough import (
    ALPHA_METHODS,
    ALPHA_MODES,
    AlphaOptions,
    BleedthroughOptions,
    estimate_alpha,
)
from napari_unmix.core.validate import OptionError


def test_estimate_alpha_defaults():
    checked = check_function_defaults(AlphaOptions, estimate_alpha)
    assert set(checked) == {s.name for s in AlphaOptions.specs()}


@pytest.mark.parametrize("func", [unmix_array, estimate_bleedthrough, unmix])
def test_api_defaults(func):
    checked = check_function_defaults(BleedthroughOptions, func)
    expected = {s.name for s in BleedthroughOptions.specs()}
    if func is estimate_bleedthrough:  # (estimation only)
        expected -= {"clip_negative", "output_dtype"}
    assert set(checked) == expected


def test_cli_defaults():
    checked = check_cli_defaults(BleedthroughOptions, "unmix")
    assert set(checked) == {s.name for s in BleedthroughOptions.specs()}


def test_dock_defaults(make_napari_viewer):
    from napari_unmix.widgets._form import _parse
    from napari_unmix.widgets.bleedthrough import _FIELDS, BleedthroughWidget

    w = BleedthroughWidget(make_napari_viewer())
    for attr, name in _FIELDS.items():
        spec = BleedthroughOptions.spec(name)
        assert _parse(spec, getattr(w, attr).value) == spec.default, name
    method_choices = [c[1] if isinstance(c, tuple) else c for c in w.method.choices]
    assert method_choices == list(ALPHA_METHODS)


def test_registries_and_reverse_inheritance():
    assert list(ALPHA_METHODS) == ["manual", "mean_ratio", "linear_fit", "corr_min", "mi_min"]
    assert [ALPHA_MODES[m].function(3, 1) for m in ALPHA_MODES] == [[], [1], [0, 1, 2]]
    opts = BleedthroughOptions(method=" Corr_Min ", signal_percentile_reverse=90.0)
    fwd, rev = opts.direction(), opts.direction(reverse=True)
    assert fwd.method == rev.method == "corr_min"
    assert (fwd.signal_percentile, rev.signal_percentile) == (99.0, 90.0)
    with pytest.raises(OptionError, match="unknown method 'nope'"):
        AlphaOptions(method="nope")
    with pytest.raises(ValueError, match="between 0 and 100"):
        BleedthroughOptions(background_percentile_reverse=101)
