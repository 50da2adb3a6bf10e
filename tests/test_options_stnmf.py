"""STNMF options are written once: the functions', the CLI's and the dock's defaults are
those of :mod:`napari_unmix.core.stnmf.options`."""

from __future__ import annotations

import types

import pytest

from contracts import check_cli_defaults, check_form_defaults, check_function_defaults
from napari_unmix.api import stnmf as api
from napari_unmix.core import stnmf as core
from napari_unmix.core.stnmf import (
    SETTINGS,
    StnmfOptions,
    StnmfRecordingOptions,
    StnmfSettingsOptions,
)

#: the fields named settings give a value (None in the file-level functions: "from settings")
_SETTINGS_FIELDS = tuple(f.name for f in StnmfSettingsOptions.specs() if f.name != "settings")
_FILE_LEVEL = (api.stnmf_file, api.iter_stnmf_cells, api.stnmf_cells, api.stnmf_recording_file)


def _without(options, names):
    """``options`` without the fields ``names`` (for the contracts)."""
    specs = tuple(s for s in options.specs() if s.name not in names)
    return types.SimpleNamespace(__name__=options.__name__, specs=lambda: specs)


@pytest.mark.parametrize(
    "func",
    [api.STNMF, api.select_sparsity, core.sparse_seminmf, core.iter_sparse_seminmf,
     core.init_modules],
)  # fmt: skip
def test_factorisation_defaults(func):
    assert check_function_defaults(StnmfOptions, func, skip=("r",) if func in _R_FIRST else ())


_R_FIRST = (core.sparse_seminmf, core.iter_sparse_seminmf, core.init_modules)  # r positional


@pytest.mark.parametrize("func", _FILE_LEVEL)
def test_file_level_defaults(func):
    assert check_function_defaults(StnmfOptions, func, skip=_SETTINGS_FIELDS)
    assert check_function_defaults(StnmfSettingsOptions, func)
    assert check_function_defaults(StnmfRecordingOptions, func)


def test_ensemble_defaults():
    assert check_function_defaults(StnmfRecordingOptions, core.spike_triggered_ensemble)


def test_settings():
    assert StnmfSettingsOptions.settings in SETTINGS
    reference = core.settings_values("reference")
    assert reference == {k: StnmfOptions.defaults()[k] for k in reference}
    assert core.settings_values("recovery", sparsity=2.0)["sparsity"] == 2.0
    with pytest.raises(ValueError, match="settings must be one of"):
        core.settings_values("best")


def test_cli_defaults():
    assert check_cli_defaults(_without(StnmfOptions, _SETTINGS_FIELDS), "stnmf")
    assert check_cli_defaults(StnmfSettingsOptions, "stnmf")
    assert check_cli_defaults(StnmfRecordingOptions, "stnmf")


def test_dock_defaults(make_napari_viewer, qtbot):
    from napari_unmix.widgets.stnmf import STNMFWidget

    w = STNMFWidget(make_napari_viewer())
    qtbot.addWidget(w)
    shown = w.option_values()

    def form(options):
        names = {s.name for s in options.specs()} - set(_SETTINGS_FIELDS)
        return types.SimpleNamespace(values=lambda: {k: v for k, v in shown.items() if k in names})

    assert check_form_defaults(form(StnmfOptions), StnmfOptions)
    assert check_form_defaults(form(StnmfSettingsOptions), StnmfSettingsOptions)
    assert check_form_defaults(form(StnmfRecordingOptions), StnmfRecordingOptions)
    # sparsity and smoothing show the values of the default settings
    preset = SETTINGS[StnmfSettingsOptions.settings]
    assert (shown["sparsity"], shown["smoothing"]) == (preset["sparsity"], preset["smoothing"])
