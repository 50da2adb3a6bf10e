"""PICASSO's options are written once: the functions, the ``picasso`` command and the dock
read their defaults from :class:`PicassoOptions` / :class:`PicassoApplyOptions`."""

from types import SimpleNamespace

import numpy as np
import pytest

from contracts import check_cli_defaults, check_form_defaults, check_function_defaults
from napari_unmix.api.picasso import unmix_picasso, unmix_picasso_array
from napari_unmix.core.picasso import (
    IMPLEMENTATIONS,
    RECOMMENDED_IMPLEMENTATION,
    PicassoApplyOptions,
    PicassoOptions,
    apply_picasso,
    apply_unmixing,
    estimate_picasso,
)
from napari_unmix.core.validate import OptionError

FUNCTIONS = (estimate_picasso, unmix_picasso_array, unmix_picasso)


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_function_defaults_are_the_options(func):
    checked = check_function_defaults(PicassoOptions, func)
    # every estimation option is a keyword of every entry point (none hidden in **kwargs)
    missing = {"preprocess_alpha_inputs"} if func is estimate_picasso else set()
    assert set(checked) | missing == set(PicassoOptions.defaults())


@pytest.mark.parametrize("func", (*FUNCTIONS[1:], apply_picasso, apply_unmixing))
def test_apply_defaults_are_the_options(func):
    assert set(check_function_defaults(PicassoApplyOptions, func)) == {
        "clip_negative",
        "output_dtype",
    }


def test_cli_defaults_are_the_options():
    checked = check_cli_defaults(PicassoOptions, "picasso")
    assert "max_iter" in checked and "implementation" in checked
    assert check_cli_defaults(PicassoApplyOptions, "picasso") == ["clip_negative", "output_dtype"]


def test_cli_keeps_the_old_flag_names():
    from napari_unmix.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(
        ["picasso", "in.tif", "out.tif", "--no-noise-aware", "--no-clip-negative",
         "--no-preprocess-alpha-inputs", "--channels", "0", "2", "--implementation",
         "source_sink_n", "--pixel-bin-size", "4", "--alpha-mode", "per_t"]
    )  # fmt: skip
    assert args.noise_aware is False and args.clip_negative is False
    assert args.preprocess_alpha_inputs is False and args.channels == [0, 2]
    assert args.pixel_bin_size == 4 and args.alpha_mode == "per_t"
    with pytest.raises(SystemExit):
        parser.parse_args(["picasso", "in.tif", "--implementation", "nope"])


def test_dock_defaults_are_the_options(make_napari_viewer):
    from napari_unmix.widgets.picasso import PicassoWidget

    widget = PicassoWidget(make_napari_viewer())
    values = widget.form.values()
    # the dock preselects the recommended implementation, everything else is the default
    assert values.pop("implementation") == RECOMMENDED_IMPLEMENTATION
    checked = check_form_defaults(SimpleNamespace(values=lambda: values), PicassoOptions)
    assert {"alpha_max", "max_iter", "pixel_bin_size", "tolerance"} <= set(checked)
    combo = widget.form.field("implementation").native
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == [m.label for m in IMPLEMENTATIONS.values()]


def test_registry_and_strict_checks():
    assert list(IMPLEMENTATIONS) == ["matlab_3c", "matlab_n", "source_sink_n"]
    assert IMPLEMENTATIONS["matlab_3c"].function.n_channels == 3
    with pytest.raises(OptionError, match=r"implementation='nope' is not one of"):
        PicassoOptions(implementation="nope")
    with pytest.raises(OptionError, match=r"qn must be an integer in \[2, 10000\].*\(float\)"):
        PicassoOptions(qn=100.0)
    with pytest.raises(OptionError, match="alpha_max must be > 0"):
        PicassoOptions(alpha_max=0.0)
    with pytest.raises(OptionError, match=r"background_percentile must be in \[0, 100\)"):
        PicassoOptions(background_percentile=100.0)
    with pytest.raises(OptionError, match="unknown option 'max_iters'; did you mean 'max_iter'"):
        PicassoOptions.from_kwargs({"max_iters": 3})
    assert PicassoOptions(channels=[2, 0]).channels == (2, 0)


def test_report_records_the_options():
    from napari_unmix.core.synthetic import make_picasso_mix

    data, _ = make_picasso_mix(n_channels=3, shape=(32, 32))
    _, rep = unmix_picasso_array(data, implementation="source_sink_n", max_iter=3)
    params = rep["parameters"]
    expected = {**PicassoOptions.defaults(), **PicassoApplyOptions.defaults()}
    expected |= {"implementation": "source_sink_n", "max_iter": 3}
    assert {k: params[k] for k in expected} == expected
    assert params["axes"] is None and params["detail"] is False


def test_to_result_layers_and_tables():
    from napari_unmix.api.picasso import iter_unmix_picasso_array
    from napari_unmix.core.progress import run
    from napari_unmix.core.synthetic import make_picasso_mix

    data, _ = make_picasso_mix(n_channels=4, shape=(32, 32))
    done = run(iter_unmix_picasso_array(data, {"channels": [0, 1, 3], "max_iter": 3,
                                               "implementation": "source_sink_n"}))  # fmt: skip
    res = done.to_result("mix")
    assert [ly.role for ly in res.layers] == ["unmixed", "unmixed", "passed", "unmixed"]
    assert len({ly.colormap for ly in res.layers}) == 4
    assert res.layers[0].data.shape == (1, 1, 32, 32) and res.layers[0].axes == "TZYX"
    np.testing.assert_array_equal(res.tables["unmixing"], done.result.matrix)
    assert res.report is done.report
    stacked = done.to_result(names=["all"], stacked=True)
    assert [ly.name for ly in stacked.layers] == ["all"] and stacked.layers[0].axes == "TZCYX"
