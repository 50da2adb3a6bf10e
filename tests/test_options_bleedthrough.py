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
    """Every form field starts at its option's default, except the dock's own method."""
    from napari_unmix.widgets.bleedthrough import BleedthroughWidget

    w = BleedthroughWidget(make_napari_viewer())
    values = w.form.values()
    assert set(values) == {s.name for s in BleedthroughOptions.specs()}
    for name, value in values.items():
        expected = w.dock_defaults.get(name, BleedthroughOptions.spec(name).default)
        assert value == expected, name
    assert values["method"] == "mi_min" != BleedthroughOptions.method
    method_choices = [c[1] if isinstance(c, tuple) else c for c in w.form.field("method").choices]
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
