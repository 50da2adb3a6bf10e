"""Shared test configuration: hypothesis profile for slow 2-core machines, small fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _cap_address_space(gib: float) -> None:
    """A runaway allocation fails its test with MemoryError instead of the machine killing
    the whole run (CI was once killed by a dock that built a 20000 x 20000 widget grid).
    Only the soft limit is lowered, so subprocesses may set their own."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = int(gib * 2**30)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


_cap_address_space(float(os.environ.get("NAPARI_UNMIX_TEST_MEMORY_GIB", "16")))


@pytest.fixture(autouse=True)
def _dock_settings_dir(tmp_path_factory, monkeypatch):
    """Docks save their settings into a fresh folder per test, never the user's."""
    monkeypatch.setenv("NAPARI_UNMIX_SETTINGS_DIR", str(tmp_path_factory.mktemp("settings")))


@pytest.fixture
def bleed_stack():
    """Small noise-free two-channel stack with alpha = 0.35."""
    from napari_unmix.core.synthetic import make_bleedthrough_stack

    return make_bleedthrough_stack(n_t=2, n_z=2, shape=(64, 64), noise_sigma=0.0)
