"""Dock settings that persist between sessions: one small JSON file per tool.

The files live in the user's configuration folder (``platformdirs``), or in
``$NAPARI_UNMIX_SETTINGS_DIR`` when set (the tests point it at a temporary folder). A file
that cannot be read is ignored (the dock starts from the defaults); values are checked by
the tool's options class when they are used, so a stale file never breaks a dock.

Examples
--------
>>> import os, tempfile
>>> os.environ["NAPARI_UNMIX_SETTINGS_DIR"] = tempfile.mkdtemp()
>>> save_settings("demo", {"k": 4})
>>> load_settings("demo")
{'k': 4}
>>> clear_settings("demo"); load_settings("demo")
{}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["clear_settings", "load_settings", "save_settings", "settings_path"]


def settings_path(tool: str) -> Path:
    """Where the settings of ``tool`` are kept."""
    root = os.environ.get("NAPARI_UNMIX_SETTINGS_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_config_dir("napari-unmix", appauthor=False)
    return Path(root) / f"{tool}.json"


def load_settings(tool: str) -> dict[str, Any]:
    """The saved values of ``tool`` (empty when none or unreadable)."""
    try:
        data = json.loads(settings_path(tool).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def save_settings(tool: str, values: dict[str, Any]) -> None:
    """Keep ``values`` (JSON-able option values) for the next session; errors are ignored."""
    path = settings_path(tool)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps({k: _plain(v) for k, v in values.items()}, indent=1))
        tmp.replace(path)
    except (OSError, TypeError, ValueError):
        return


def clear_settings(tool: str) -> None:
    """Forget the saved values of ``tool``."""
    try:
        settings_path(tool).unlink()
    except OSError:
        return
