"""A small options class and registry for testing the shared shapes."""

from __future__ import annotations

from dataclasses import dataclass

from napari_unmix.core.options import Options, option
from napari_unmix.core.registry import Method, Registry

KINDS = Registry(
    "kind", [Method("a", len, "Kind A", "first"), Method("b", abs, "Kind B", "second")]
)


@dataclass(frozen=True)
class DemoOptions(Options):
    k: int = option(3, label="Components", doc="number of components", bounds=(1, 50))
    tol: float = option(1e-4, label="Tolerance", doc="precision", bounds=(0, None))
    kind: str = option("a", label="Kind", doc="which kind", choices=KINDS)
    names: tuple[str, ...] | None = option(None, label="Names", doc="labels", advanced=True)
    fast: bool = option(False, label="Fast", doc="be quick", advanced=True)
