"""Checks every tool's options must pass: the function's, the CLI's and the dock's defaults
are the options class's (one definition, read everywhere)."""

from __future__ import annotations

import inspect
from typing import Any


def check_function_defaults(options: Any, func: Any, *, skip: tuple[str, ...] = ()) -> list[str]:
    """Every option that ``func`` takes as a keyword has the options class's default;
    returns the names checked (at least one)."""
    params = inspect.signature(func).parameters
    checked = []
    for spec in options.specs():
        p = params.get(spec.name)
        if p is None or spec.name in skip:
            continue
        assert p.default == spec.default, (
            f"{func.__qualname__}({spec.name}={p.default!r}) but "
            f"{options.__name__}.{spec.name} = {spec.default!r}"
        )
        checked.append(spec.name)
    assert checked, f"{func.__qualname__} takes none of {options.__name__}'s options"
    return checked


def check_cli_defaults(options: Any, command: str) -> list[str]:
    """The command's flags for the options' fields say the options' default in their help
    and leave the value unset when not given (so the function's default applies)."""
    from napari_unmix.cli import REGISTRY

    cmd = REGISTRY[command]
    specs = {s.name: s for s in options.specs()}
    checked = []
    for o in cmd.options:
        spec = specs.get(o.dest)
        if spec is None:
            continue
        assert "default" not in o.kwargs, f"{o.flag} sets its own default"
        assert f"default {spec.default!r}" in o.help.replace("%%", "%") or spec.default is None, (
            f"{command} {o.flag}: help {o.help!r} does not state default {spec.default!r}"
        )
        checked.append(spec.name)
    assert checked, f"`{command}` has no flag from {options.__name__}"
    return checked


def check_form_defaults(form: Any, options: Any) -> list[str]:
    """An :class:`~napari_unmix.widgets._form.OptionsForm` shows the options' defaults."""
    values = form.values()
    defaults = options.defaults()
    for name, value in values.items():
        assert value == defaults[name], f"dock shows {name}={value!r}, default {defaults[name]!r}"
    assert values, "the form shows no option"
    return list(values)
