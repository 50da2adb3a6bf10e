"""Stack tools: one definition of each tool's options, read by the functions, the CLI and
the dock (tests/contracts)."""

from __future__ import annotations

import pytest

from contracts import check_cli_defaults, check_form_defaults, check_function_defaults
from napari_unmix.api import stack_tools as api
from napari_unmix.core import stack_tools as st
from napari_unmix.core.options import Options

# options class -> (array-level functions, CLI command, dock panel)
CASES = {
    st.FilterOptions: ((st.apply_filters,), "filter"),
    st.HistogramOptions: ((st.match_histograms_across_time,), "match-histograms"),
    st.MaxZOptions: ((st.max_z_project,), "max-z"),
    st.ZDriftOptions: ((st.correct_intra_stack_z_drift, st.estimate_z_drift), "z-drift"),
    st.RegisterOptions: ((st.register_stack, st.estimate_time_shifts), "register"),
}
GENERIC = (api.apply_stack_tool, api.apply_stack_tool_file)


@pytest.mark.parametrize("options", list(CASES), ids=lambda o: o.__name__)
def test_functions_take_the_options_defaults(options):
    functions, _ = CASES[options]
    for func in functions:
        # register_stack / estimate_time_shifts keep the reference's required channel
        check_function_defaults(options, func, skip=("registration_channel",))
    for func in GENERIC:
        check_function_defaults(options, func)


@pytest.mark.parametrize("options", list(CASES), ids=lambda o: o.__name__)
def test_cli_flags_from_the_options(options):
    check_cli_defaults(options, CASES[options][1])


def test_registry_names_the_options_of_every_tool():
    for options, (_, tool) in CASES.items():
        assert st.STACK_TOOLS[tool].options is options and issubclass(options, Options)
    assert {tool for _, tool in CASES.values()} == set(st.STACK_TOOLS)


def test_old_flag_names_still_work():
    from napari_unmix.cli import REGISTRY

    flags = {o.flag for o in REGISTRY["filter"].options}
    assert {"--filters", "--median-size", "--gaussian-sigma", "--3d"} <= flags
    assert {"--filters-channel2", "--median-size-channel2", "--gaussian-sigma-channel2"} <= flags
    flags = {o.flag for o in REGISTRY["register"].options}
    assert {"--registration-channel", "--method", "--zrange", "--reference-t"} <= flags
    zrange = next(o for o in REGISTRY["register"].options if o.flag == "--zrange")
    assert zrange.kwargs["nargs"] == 2
    assert REGISTRY["z-drift"].options[1].kwargs["choices"] == list(st.REGISTRATION_METHODS)


def test_options_validate():
    with pytest.raises(ValueError, match="unknown method"):
        st.RegisterOptions(method="sift")
    with pytest.raises(ValueError, match="odd and >= 3"):
        st.ZDriftOptions(neighbor_window_size=4)
    assert st.FilterOptions(filters="Median ").filters == ("median",)
    assert st.FilterOptions(median_size=[3, 5]).median_size == (3, 5)
    with pytest.raises(TypeError, match="takes no option"):
        api.apply_stack_tool("max-z", [[[[[0.0]]]]], reference_t=3)


def test_dock_forms_show_the_defaults(make_napari_viewer):
    from napari_unmix.widgets.stack_tools import StackToolsWidget

    widget = StackToolsWidget(make_napari_viewer())
    for options, (_, tool) in CASES.items():
        check_form_defaults(widget.panels[tool], options)
    widget.chooser.value = "filter"
    assert widget.current_options().filters == st.FilterOptions.filters


def test_generic_functions_take_every_option_of_every_tool():
    import inspect

    names = {s.name for tool in st.STACK_TOOLS.values() for s in tool.options.specs()}
    for func in GENERIC:
        assert names <= set(inspect.signature(func).parameters), func.__name__
