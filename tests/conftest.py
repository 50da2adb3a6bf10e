"""Shared test configuration: hypothesis profile for slow 2-core machines, small fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def bleed_stack():
    """Small noise-free two-channel stack with alpha = 0.35."""
    from napari_unmix.core.synthetic import make_bleedthrough_stack

    return make_bleedthrough_stack(n_t=2, n_z=2, shape=(64, 64), noise_sigma=0.0)
