"""The shared shapes: options, progress, registry, result, and the form built from options."""

from __future__ import annotations

import pytest

from contracts.demo import KINDS, DemoOptions
from napari_unmix.cli import options_from
from napari_unmix.core.progress import Progress, run
from napari_unmix.core.registry import Method, Registry
from napari_unmix.core.validate import OptionError


def test_defaults_are_class_attributes():
    assert DemoOptions.k == 3 and DemoOptions().as_dict() == DemoOptions.defaults()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"k": 2.5}, "k must be an integer"),
        ({"k": 0}, "k must be an integer in 1..50"),
        ({"k": True}, "k must be an integer"),
        ({"tol": float("nan")}, "tol must be a number"),
        ({"kind": "c"}, "kind must be one of ['a', 'b']"),
        ({"fast": 1}, "fast must be True or False"),
        ({"names": (1,)}, "names must be a string"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(changes, words):
    with pytest.raises(OptionError) as err:
        DemoOptions(**changes)
    assert words in str(err.value)


def test_values_are_normalised():
    o = DemoOptions(k=4.0, tol=1, names=["x", "y"])
    assert (o.k, o.tol, o.names) == (4, 1.0, ("x", "y"))
    assert isinstance(o.k, int) and isinstance(o.tol, float)


def test_unknown_keyword_gets_a_suggestion():
    with pytest.raises(OptionError, match="did you mean 'tol'"):
        DemoOptions.from_kwargs({"tool": 1})


def test_cli_flags_follow_the_fields():
    flags = {o.dest: o for o in options_from(DemoOptions)}
    assert flags["k"].kwargs["type"] is int and "default 3" in flags["k"].help
    assert flags["kind"].kwargs["choices"] == ["a", "b"]
    assert flags["names"].kwargs["nargs"] == "+"
    assert flags["fast"].flag == "--fast"


def test_progress_run_passes_events_and_returns():
    def work():
        yield Progress(1, 2, "half")
        yield Progress(2, 2, "all")
        return 42

    events = []
    assert run(work(), events.append) == 42
    assert [e.fraction for e in events] == [0.5, 1.0] and str(events[0]) == "1/2 half"
    assert Progress(3).fraction is None


def test_registry_resolves_and_refuses():
    assert KINDS.resolve("b").function(-2) == 2
    assert KINDS.labels() == {"Kind A": "a", "Kind B": "b"}
    with pytest.raises(OptionError, match="unknown kind 'z'"):
        KINDS.resolve("z")
    with pytest.raises(ValueError, match="twice"):
        Registry("kind", [Method("a", len, "", ""), Method("a", len, "", "")])


def test_takes_options_generates_the_keywords():
    import inspect

    from napari_unmix.core.options import takes_options

    @takes_options(DemoOptions)
    def fit(x, /, *, weight=1.0, options):
        return x * weight, options

    sig = inspect.signature(fit)
    assert list(sig.parameters) == ["x", "weight", "k", "tol", "kind", "names", "fast", "options"]
    assert sig.parameters["k"].default == DemoOptions.k
    assert fit(2)[1] == DemoOptions()
    assert fit(2, weight=3.0, k=5)[0] == 6.0 and fit(2, k=5)[1].k == 5
    assert fit(2, options=DemoOptions(k=7), tol=1.0)[1] == DemoOptions(k=7, tol=1.0)
    with pytest.raises(OptionError, match="k must be an integer"):
        fit(2, k=0.5)
    with pytest.raises(OptionError, match="did you mean 'kind'"):
        fit(2, kinds="a")
    with pytest.raises(OptionError, match="options must be a DemoOptions"):
        fit(2, options={"k": 1})
