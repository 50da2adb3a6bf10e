"""Dock forms generated from options show the defaults and return typed values."""

from __future__ import annotations

from contracts import check_form_defaults
from contracts.demo import DemoOptions
from napari_unmix.widgets._form import OptionsForm


def test_form_shows_defaults_and_parses(qtbot):
    form = OptionsForm(DemoOptions)
    assert check_form_defaults(form, DemoOptions) == ["k", "tol", "kind", "names", "fast"]
    assert form.advanced and all(w.native.isHidden() for w in form.advanced)
    form.advanced_toggle.value = True
    assert form.advanced_shown and not any(w.native.isHidden() for w in form.advanced)
    form.set_values({"k": 5, "names": ("x", "y"), "kind": "b"})
    values = form.values()
    assert values["k"] == 5 and values["names"] == ("x", "y") and values["kind"] == "b"
    DemoOptions(**values)  # valid
    form.reset()
    assert form.values() == DemoOptions.defaults()


def test_small_float_defaults_are_typed_not_rounded(qtbot):
    from dataclasses import dataclass

    from napari_unmix.core.options import Options, option

    @dataclass(frozen=True)
    class TolOptions(Options):
        tol: float = option(1e-6, label="tolerance", doc="precision", bounds=(0, None))

    form = OptionsForm(TolOptions)
    assert form.values() == {"tol": 1e-6}
    form.set_values({"tol": 1e-8})
    assert form.values() == {"tol": 1e-8}


def test_optional_bool_is_auto_on_off(qtbot):
    """``bool | None`` (e.g. PICASSO's noise_aware): auto (None) / on / off, not a check box
    that turns None into False."""
    from dataclasses import dataclass

    from magicgui import widgets as mw

    from napari_unmix.core.options import Options, option

    @dataclass(frozen=True)
    class TriOptions(Options):
        aware: bool | None = option(None, label="aware", doc="None: the tool decides")
        fast: bool = option(False, label="fast", doc="a plain switch")

    form = OptionsForm(TriOptions)
    assert isinstance(form.field("aware"), mw.ComboBox)
    assert isinstance(form.field("fast"), mw.CheckBox)
    assert form.field("aware").native.currentText() == "auto"
    assert form.values() == {"aware": None, "fast": False}
    for value in (True, False, None):
        form.set_values({"aware": value})
        assert form.values()["aware"] is value
    assert OptionsForm(TriOptions, values={"aware": False}).values()["aware"] is False
