"""Hyperspectral maps: one definition of every option (function, CLI and dock defaults)."""

from types import SimpleNamespace

import pytest

from contracts import check_cli_defaults, check_form_defaults, check_function_defaults
from napari_unmix.api import hsmap as api
from napari_unmix.core import hsmap as core
from napari_unmix.core.hsmap import CLEANUPS, CLUSTER_METHODS, ClusterOptions, MapOptions
from napari_unmix.core.options import Options
from napari_unmix.core.preprocess import BASELINES, NORMALISATIONS, Preprocessing
from napari_unmix.core.registry import Registry
from napari_unmix.core.validate import OptionError

CLUSTER_FUNCTIONS = (
    api.cluster_map,
    api.iter_cluster_map,
    api.write_map_report,
    api.map_report_file,
    core.iter_cluster_map,
    core.iter_cluster_map_chunked,
    core.cluster_pixels,
    core.choose_k,
)
MAP_FUNCTIONS = (
    api.intensity_map,
    api.ratio_map,
    api.write_map_report,
    api.map_report_file,
    core.band_intensity,
    core.band_ratio,
)


@pytest.mark.parametrize("func", CLUSTER_FUNCTIONS, ids=lambda f: f.__qualname__)
def test_cluster_function_defaults(func):
    check_function_defaults(ClusterOptions, func)


@pytest.mark.parametrize("func", MAP_FUNCTIONS, ids=lambda f: f.__qualname__)
def test_map_function_defaults(func):
    check_function_defaults(MapOptions, func)


@pytest.mark.parametrize("options", [MapOptions, ClusterOptions])
def test_cli_defaults(options):
    check_cli_defaults(options, "maps")


def test_registries_and_method_options():
    for reg in (CLUSTER_METHODS, CLEANUPS, BASELINES, NORMALISATIONS):
        assert isinstance(reg, Registry)
    for reg in (CLUSTER_METHODS, CLEANUPS, BASELINES):
        assert all(issubclass(m.options, Options) for m in reg.values())
    assert ClusterOptions(method="ward", max_samples=300).method_options().max_samples == 300
    assert ClusterOptions(method="kmeans").method_options().n_init == 1
    with pytest.raises(OptionError, match="method 'kmeans': unknown option 'connectivity'"):
        ClusterOptions(method="kmeans", connectivity="grid").method_options()
    with pytest.raises(OptionError, match="unknown option 'sise'"):
        core.cluster_pixels(
            _cube(), n_clusters=2, cleanup="majority",
            cleanup_options={"sise": 3},
        )  # fmt: skip
    with pytest.raises(OptionError, match="baseline 'poly': unknown option 'lam'"):
        Preprocessing(baseline="poly", baseline_params=(("lam", 1.0),))


def _cube():
    from napari_unmix.core.synthetic import make_two_region_cube

    return make_two_region_cube(shape=(8, 8))[0]


def test_dock_defaults(make_napari_viewer):
    from napari_unmix.widgets.hsmap import HyperspectralMapsWidget

    w = HyperspectralMapsWidget(make_napari_viewer())
    pre = {k: v for k, v in w.pre_form.values().items() if k in Preprocessing.defaults()}
    forms = {
        MapOptions: w.map_form.values(),
        ClusterOptions: w.form.values(),
        Preprocessing: pre,
    }
    for options, values in forms.items():
        check_form_defaults(SimpleNamespace(values=lambda v=values: v), options)
