"""JSON sidecars: the provenance report written next to every output file.

The sidecar of ``out.ome.tif`` is ``out.ome.tif.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core.report import to_jsonable

__all__ = ["read_sidecar", "sidecar_path", "write_json", "write_sidecar"]


def sidecar_path(output_path: str | os.PathLike) -> Path:
    """Path of the JSON sidecar that belongs to ``output_path``.

    Examples
    --------
    >>> sidecar_path("results/cells_unmixed.ome.tif").name
    'cells_unmixed.ome.tif.json'
    """
    path = Path(output_path)
    return path.with_name(path.name + ".json")


def write_json(path: str | os.PathLike, obj: Any, *, overwrite: bool = False) -> Path:
    """Write ``obj`` as indented JSON, atomically (temporary name, then rename).

    The file gets the user's normal permissions (like an image; not private 0600).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_json(pathlib.Path(tempfile.mkdtemp()) / "r.json", {"a": 1})
    >>> p.read_text().strip().splitlines()[1]
    '  "a": 1'
    """
    from .safety import atomic_output, plan_outputs

    path = plan_outputs([path], overwrite=overwrite)[0]
    text = json.dumps(to_jsonable(obj), indent=2)
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def write_sidecar(
    output_path: str | os.PathLike, report: dict[str, Any], *, overwrite: bool = False
) -> Path:
    """Write ``report`` as the JSON sidecar of ``output_path`` and return its path."""
    return write_json(sidecar_path(output_path), report, overwrite=overwrite)


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """Read a sidecar, given either the output file or the ``.json`` itself."""
    from .safety import check_input

    path = Path(path)
    if path.suffix.lower() != ".json":
        path = sidecar_path(path)
    if not path.exists():
        raise FileNotFoundError(f"no report found at {str(path)!r}")
    path = check_input(path, what="report")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path.name!r} is not valid JSON ({err})") from err
