"""ROI suggester: one definition of every option (function and dock defaults; no CLI)."""

import pytest

from contracts import check_form_defaults, check_function_defaults
from napari_unmix.api.suggest import suggest_rois
from napari_unmix.core.registry import Registry
from napari_unmix.core.suggest import (
    GROUPINGS,
    PROJECTIONS,
    REPRESENTATIVES,
    SuggestOptions,
    find_suggestions,
)


@pytest.mark.parametrize("func", [suggest_rois, find_suggestions], ids=lambda f: f.__name__)
def test_function_defaults(func):
    assert len(check_function_defaults(SuggestOptions, func)) == len(SuggestOptions.specs())


def test_registries():
    for reg in (PROJECTIONS, GROUPINGS, REPRESENTATIVES):
        assert isinstance(reg, Registry)
    assert SuggestOptions.spec("projection").choices is PROJECTIONS


def test_dock_defaults(make_napari_viewer):
    from napari_unmix.widgets.suggest import SuggestWidget

    w = SuggestWidget(make_napari_viewer())
    checked = check_form_defaults(w.form, SuggestOptions)
    assert len(checked) == len(SuggestOptions.specs()) - 1  # all but frame (from the display)
