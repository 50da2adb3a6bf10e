"""Dock forms generated from a tool's options class (:mod:`napari_unmix.core.options`).

One widget per field: a spin box with the field's bounds for numbers, a dropdown of the
registry's labels for choices, a check box for booleans (a dropdown auto / on / off for
``bool | None``), a line edit otherwise; the label,
the tooltip (doc and default) and the initial value all come from the field. Advanced
fields follow an "Advanced options" check box that shows them (same label column).

Examples
--------
>>> from dataclasses import dataclass
>>> from napari_unmix.core.options import Options, option
>>> @dataclass(frozen=True)
... class O(Options):
...     k: int = option(3, label="Components", doc="number of components", bounds=(1, 20))
>>> form = OptionsForm(O)  # doctest: +SKIP
>>> form.values()  # doctest: +SKIP
{'k': 3}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from magicgui import widgets as mw

from ..core.options import Options, OptionSpec

__all__ = ["OptionsForm", "widget_for"]

_BIG = 1e9
#: the choices of a ``bool | None`` option (None: the tool decides, e.g. by implementation)
TRI_STATE = (("auto", None), ("on", True), ("off", False))


def widget_for(spec: OptionSpec, value: Any = None) -> mw.Widget:
    """The magicgui widget of one option, showing ``value`` (default: the field's default)."""
    value = spec.default if value is None else value
    common = {"name": spec.name, "label": spec.label, "tooltip": spec.help()}
    lo, hi = spec.bounds if spec.bounds is not None else (None, None)
    if spec.choices is not None and not spec.multiple:
        labels = getattr(spec.choices, "labels", None)
        choices = list(labels().items()) if labels else [(name, name) for name in spec.choice_names]
        if spec.optional:
            choices = [("(none)", None), *choices]
        return mw.ComboBox(value=value, choices=choices, **common)
    if spec.base is bool and not spec.multiple:
        if spec.optional:  # bool | None: None lets the tool decide
            return mw.ComboBox(value=value, choices=list(TRI_STATE), **common)
        return mw.CheckBox(value=bool(value), **common)
    if spec.base is int and not spec.multiple and not spec.optional:
        return mw.SpinBox(
            value=value,
            min=int(lo) if lo is not None else -int(_BIG),
            max=int(hi) if hi is not None else int(_BIG),
            **common,
        )
    tiny = spec.base is float and value is not None and 0 < abs(float(spec.default or 0)) < 1e-2
    if spec.base is float and not spec.multiple and not spec.optional and not tiny:
        return mw.FloatSpinBox(
            value=value,
            min=float(lo) if lo is not None else -_BIG,
            max=float(hi) if hi is not None else _BIG,
            step=_step(value),
            **common,
        )
    # precisions such as tol=1e-6 are typed (a spin box would round them to its decimals)
    text = "" if value is None else (" ".join(map(str, value)) if spec.multiple else str(value))
    return mw.LineEdit(value=text, **common)


def _step(value: Any) -> float:
    v = abs(float(value or 0.0))
    return 10 ** (int(f"{v:e}".split("e")[1]) - 1) if v else 0.1


def _parse(spec: OptionSpec, raw: Any) -> Any:
    """A line edit's text as the field's type (empty -> None for optional fields)."""
    if not isinstance(raw, str) or (spec.base is str and not spec.multiple):
        return raw
    text = raw.strip()
    if not text:
        return None if spec.optional or spec.default is None else spec.default
    conv = spec.base if spec.base in (int, float) else str
    if spec.multiple:
        return tuple(conv(v) for v in text.replace(",", " ").split())
    return conv(text)


class OptionsForm(mw.Container):
    """A form of some fields of an options class; :meth:`values` returns ``{name: value}``.

    ``only`` picks and orders fields; ``exclude`` drops some; ``values`` overrides the
    initial values (e.g. persisted settings).
    """

    def __init__(
        self,
        options: type[Options],
        *,
        only: tuple[str, ...] | None = None,
        exclude: tuple[str, ...] = (),
        values: Mapping[str, Any] | None = None,
    ) -> None:
        specs = {s.name: s for s in options.specs()}
        names = list(only) if only is not None else [n for n in specs if n not in exclude]
        self.options_class = options
        self.specs = {n: specs[n] for n in names}
        given = dict(values or {})
        basic = [widget_for(specs[n], given.get(n)) for n in names if not specs[n].advanced]
        adv = [widget_for(specs[n], given.get(n)) for n in names if specs[n].advanced]
        self.advanced_toggle = mw.CheckBox(value=False, text="Advanced options", name="_advanced")
        #: the advanced fields' widgets: rows of this form (labels aligned with the common
        #: ones), hidden until "Advanced options" is ticked
        self.advanced: tuple[mw.Widget, ...] = tuple(adv)
        widgets: list[mw.Widget] = list(basic)
        if adv:
            widgets += [self.advanced_toggle, *adv]
        super().__init__(widgets=widgets, labels=True)
        self._toggle(False)
        self.advanced_toggle.changed.connect(self._toggle)

    @property
    def advanced_shown(self) -> bool:
        """Whether the advanced fields are shown."""
        return bool(self.advanced_toggle.value)

    def _toggle(self, shown: bool) -> None:
        for widget in self.advanced:
            widget.visible = bool(shown)

    def field(self, name: str) -> mw.Widget:
        """The widget of one field."""
        for w in self:
            if w.name == name:
                return w
        raise KeyError(name)

    def values(self) -> dict[str, Any]:
        """``{name: value}`` of every field, parsed to the field's type."""
        return {n: _parse(s, self.field(n).value) for n, s in self.specs.items()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show these values (unknown names are ignored)."""
        for name, value in values.items():
            if name in self.specs:
                w = self.field(name)
                spec = self.specs[name]
                if isinstance(w, mw.LineEdit):
                    value = (
                        ""
                        if value is None
                        else (" ".join(map(str, value)) if spec.multiple else str(value))
                    )
                w.value = value

    def reset(self) -> None:
        """Back to every field's default."""
        self.set_values({n: s.default for n, s in self.specs.items()})
