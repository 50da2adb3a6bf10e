"""JSON sidecars: the provenance report written next to every output file.

The sidecar of ``out.ome.tif`` is ``out.ome.tif.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
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

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_json(pathlib.Path(tempfile.mkdtemp()) / "r.json", {"a": 1})
    >>> p.read_text().strip().splitlines()[1]
    '  "a": 1'
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} exists; choose another name or pass overwrite=True")
    text = json.dumps(to_jsonable(obj), indent=2)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_sidecar(
    output_path: str | os.PathLike, report: dict[str, Any], *, overwrite: bool = False
) -> Path:
    """Write ``report`` as the JSON sidecar of ``output_path`` and return its path."""
    return write_json(sidecar_path(output_path), report, overwrite=overwrite)


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """Read a sidecar, given either the output file or the ``.json`` itself."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        path = sidecar_path(path)
    if not path.exists():
        raise FileNotFoundError(f"no report found at {str(path)!r}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name!r} is not valid JSON ({err})") from err
