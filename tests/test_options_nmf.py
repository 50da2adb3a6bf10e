"""One definition per option of the NNMF tools: the API functions', the CLI's and the dock's
defaults are the options classes' (tests/contracts)."""

from __future__ import annotations

import pytest

from contracts import check_cli_defaults, check_form_defaults, check_function_defaults
from napari_unmix.api import nmf as api
from napari_unmix.core.nmf import (
    INITS,
    SOLVERS,
    NmfOptions,
    RandomNmfOptions,
    SeededNmfOptions,
    fit_nmf,
    iter_nmf,
)
from napari_unmix.core.seeds import W_MODES, SeedOptions, prepare_seeds

#: nnmf_file takes the seeded-only options as None = "not given" (refused with k)
_NNMF_FILE_UNSET = ("slice_mode", "reference_slice", "max_pixels", "anchor")


@pytest.mark.parametrize(
    ("options", "func", "skip"),
    [
        (NmfOptions, fit_nmf, ()),
        (NmfOptions, iter_nmf, ()),
        (SeededNmfOptions, api.seeded_nnmf, ()),
        (SeededNmfOptions, api.iter_seeded_nnmf, ()),
        (SeededNmfOptions, api.seeded_nnmf_file, ()),
        (SeededNmfOptions, api.nnmf_file, _NNMF_FILE_UNSET),
        (RandomNmfOptions, api.random_nnmf, ()),
        (RandomNmfOptions, api.iter_random_nnmf, ()),
        (RandomNmfOptions, api.random_nnmf_file, ()),
        (SeedOptions, prepare_seeds, ()),
        (SeedOptions, api.seeded_nnls, ()),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_function_defaults(options, func, skip):
    check_function_defaults(options, func, skip=skip)


@pytest.mark.parametrize("options", [NmfOptions, SeededNmfOptions, RandomNmfOptions])
def test_cli_defaults(options):
    check_cli_defaults(options, "nnmf")


def test_registries_are_the_choices():
    assert SeededNmfOptions.spec("solver").choices is SOLVERS
    assert RandomNmfOptions.spec("init").choices is INITS
    assert SeedOptions.spec("w_mode").choices is W_MODES
    assert list(api.METHODS) == ["seeded_nnmf", "nnls", "random_nnmf", "pca"]


def test_validation_messages_kept():
    with pytest.raises(ValueError, match="unknown solver 'x'"):
        NmfOptions(solver="x")
    with pytest.raises(ValueError, match="max_iter >= 1"):
        NmfOptions(max_iter=0)
    with pytest.raises(ValueError, match="max_iter must be an integer, got max_iter=2.5"):
        NmfOptions(max_iter=2.5)
    with pytest.raises(ValueError, match="unknown option 'w_mod'"):
        SeedOptions.coerce({"w_mod": "nnls"})


def test_dock_defaults(qtbot):
    from types import SimpleNamespace

    from napari_unmix.widgets._form import OptionsForm
    from napari_unmix.widgets.nnmf import NNMFWidget

    dock = NNMFWidget(SimpleNamespace(), manager=SimpleNamespace(model=None))
    qtbot.addWidget(dock)
    shown = dock.settings()
    for options in (SeededNmfOptions, SeedOptions):
        names = tuple(s.name for s in options.specs() if s.name in shown and s.name != "max_pixels")
        assert names
        check_form_defaults(OptionsForm(options, only=names), options)
        for name in names:
            assert shown[name] == getattr(options, name), name
    assert shown["max_pixels"] == 0  # the dock's "all pixels" (None in the API)
