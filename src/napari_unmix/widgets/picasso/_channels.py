"""The PICASSO dock's inputs: the channel layers to unmix and the source → sink grid.

:class:`ChannelList` ticks the channel layers of one image by itself: the newest run of
consecutive image layers of equal shape and the same origin (file, sample), e.g. the three
``mixed C0..C2`` layers of the PICASSO sample, or one multi-channel layer. Until the user
ticks a box it keeps following the newest image as layers come and go; after that it keeps
the user's choice. Layers it cannot use (RGB, labels, this dock's own results) are not
listed, and nothing pops up for them.

:class:`SourceSinkGrid` holds the relations ``source_sink_n`` estimates (row bleeds into
column), with "all", "none" and channel roles (sinks, neutral) as shortcuts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.picasso import build_source_sink_matrix
from .._layer_policy import TAG
from .._layers import layer_axes

__all__ = ["ChannelList", "SourceSinkGrid", "split_names"]

_SEPARATORS = " _-.·:"
#: more channels than this get no source → sink grid (n² boxes); sinks / neutral still apply
MAX_GRID_CHANNELS = 16


def split_names(names: Sequence[str]) -> tuple[str, list[str]]:
    """The common image name and the channel names of channel layers.

    Examples
    --------
    >>> split_names(["mixed C0", "mixed C1"])
    ('mixed', ['C0', 'C1'])
    >>> split_names(["cells.tif [GFAP]", "cells.tif [DRAQ5]"])
    ('cells.tif', ['GFAP', 'DRAQ5'])
    >>> split_names(["GFAP", "DRAQ5"])
    ('', ['GFAP', 'DRAQ5'])
    """
    names = list(names)
    prefix = ""
    if len(names) > 1:
        for chars in zip(*names, strict=False):
            if len(set(chars)) > 1:
                break
            prefix += chars[0]
    cut = max((prefix.rfind(s) for s in _SEPARATORS), default=-1)
    head = prefix[: cut + 1] if cut >= 0 else ""
    rest = [n[len(head) :].strip(_SEPARATORS + "[]") for n in names]
    if not head.strip(_SEPARATORS) or not all(rest) or len(set(rest)) < len(rest):
        return "", names
    return head.strip(_SEPARATORS), rest


def _usable(layer: Any, tool: str) -> bool:
    """An image layer the dock can list (not RGB, not one of the dock's own layers)."""
    from napari.layers import Image

    if not isinstance(layer, Image) or layer.rgb:
        return False
    tag = layer.metadata.get(TAG) if isinstance(layer.metadata, dict) else None
    return not (isinstance(tag, dict) and tag.get("tool") == tool)


def _origin(layer: Any) -> tuple:
    """Layers of one image agree in shape and origin (file path or sample)."""
    meta = layer.metadata if isinstance(layer.metadata, dict) else {}
    path = getattr(getattr(layer, "source", None), "path", None)
    return (tuple(layer.data.shape), meta.get("source_path") or path or meta.get("sample"))


def _multichannel(layer: Any) -> bool:
    try:
        return "C" in layer_axes(layer)
    except ValueError:
        return False


def newest_image(layers: Sequence[Any]) -> list[Any]:
    """The channel layers of the newest image among ``layers`` (see the module docstring)."""
    runs: list[list[Any]] = []
    for layer in layers:
        if runs and _origin(runs[-1][-1]) == _origin(layer):
            runs[-1].append(layer)
        else:
            runs.append([layer])
    for run in reversed(runs):
        if len(run) >= 2:
            return run
        if _multichannel(run[0]):
            return run
    return runs[-1][-1:] if runs else []


class ChannelList(QWidget):
    """Checkable list of the viewer's image layers; :meth:`selected` in layer order."""

    #: emitted when the ticked layers change
    changed = Signal()

    def __init__(self, viewer: Any, tool: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer, self.tool = viewer, tool
        self.auto = True  # follow the newest image until the user ticks a box
        self._layers: list[Any] = []
        self.list = QListWidget()
        self.list.setToolTip(
            "the channels to unmix: one layer per channel (equal shapes), or one "
            "multi-channel layer; the channels of the newest image are ticked for you"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Channels to unmix"))
        layout.addWidget(self.list)
        self.list.itemChanged.connect(self._user_ticked)
        events = viewer.layers.events
        for ev in (events.inserted, events.removed, events.reordered):
            ev.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        """Re-read the layers; keep the user's ticks, else tick the newest image."""
        ticked = [ly for ly in self.selected() if ly in self.viewer.layers]
        self._layers = [ly for ly in self.viewer.layers if _usable(ly, self.tool)]
        if self.auto or not ticked:
            self.auto = True
            ticked = newest_image(self._layers)
        self.list.blockSignals(True)
        self.list.clear()
        for layer in self._layers:
            item = QListWidgetItem(layer.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = any(layer is t for t in ticked)
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        rows = min(max(self.list.count(), 2), 6)
        self.list.setFixedHeight(rows * max(self.list.sizeHintForRow(0), 16) + 6)
        self.changed.emit()

    def _user_ticked(self, _item: Any) -> None:
        self.auto = False
        self.changed.emit()

    def selected(self) -> list[Any]:
        """The ticked layers, in layer-list order."""
        return [
            layer
            for i, layer in enumerate(self._layers)
            if i < self.list.count() and self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def select(self, layers: Sequence[Any]) -> None:
        """Tick exactly ``layers`` (as the user would)."""
        self.list.blockSignals(True)
        for i, layer in enumerate(self._layers):
            on = any(layer is ly for ly in layers)
            state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
            self.list.item(i).setCheckState(state)
        self.list.blockSignals(False)
        self._user_ticked(None)


class SourceSinkGrid(QWidget):
    """The source (row) → sink (column) relations ``source_sink_n`` estimates."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checks: dict[tuple[int, int], QCheckBox] = {}
        self.toggle = QCheckBox("Choose which channel bleeds into which")
        self.toggle.setToolTip(
            "unticked: every channel may bleed into every other (the blind default); tick "
            "to untick relations you know are impossible (row channel → column channel)"
        )
        self.box = QWidget()
        self.box.setVisible(False)
        self.toggle.toggled.connect(self.box.setVisible)
        self.names: list[str] = []
        self.grid = QGridLayout()
        self.all_button = QPushButton("All → all")
        self.none_button = QPushButton("None")
        self.sinks_edit = QLineEdit()
        self.sinks_edit.setPlaceholderText("sinks, e.g. 2")
        self.sinks_edit.setToolTip("channels that only receive (numbers of the grid)")
        self.neutral_edit = QLineEdit()
        self.neutral_edit.setPlaceholderText("neutral, e.g. 3")
        self.neutral_edit.setToolTip("channels left out (numbers of the grid)")
        self.roles_button = QPushButton("Apply roles")
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        row1.addWidget(self.all_button)
        row1.addWidget(self.none_button)
        for w in (self.sinks_edit, self.neutral_edit, self.roles_button):
            row2.addWidget(w)
        inner = QVBoxLayout(self.box)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(QLabel("row channel → column channel"))
        inner.addLayout(self.grid)
        inner.addLayout(row1)
        inner.addLayout(row2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.box)
        self.all_button.clicked.connect(lambda: self.set_all(True))
        self.none_button.clicked.connect(lambda: self.set_all(False))

    def set_names(self, names: Sequence[str]) -> None:
        """One row and column per channel, every relation ticked (kept if unchanged)."""
        if list(names) == self.names:
            return
        self.names = list(names)
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        self.checks = {}
        if len(self.names) > MAX_GRID_CHANNELS:
            self.grid.addWidget(
                QLabel(
                    f"{len(self.names)} channels: too many for a grid "
                    f"(at most {MAX_GRID_CHANNELS}); every channel may bleed into every other"
                ),
                0,
                0,
            )
            return
        for k, name in enumerate(self.names):
            self.grid.addWidget(QLabel(f"{k}"), 0, k + 1)
            self.grid.addWidget(QLabel(f"{k}: {name}"), k + 1, 0)
            for j in range(len(self.names)):
                box = QCheckBox()
                box.setChecked(k != j)
                box.setEnabled(k != j)
                box.setToolTip(f"estimate how much {name} bleeds into {self.names[j]}")
                self.grid.addWidget(box, k + 1, j + 1)
                if k != j:
                    self.checks[(k, j)] = box

    def set_all(self, on: bool) -> None:
        for box in self.checks.values():
            box.setChecked(on)

    def apply_roles(self) -> None:
        """Tick the grid from the sink / neutral channel numbers (``ValueError`` if bad)."""
        try:
            sinks = [int(v) for v in self.sinks_edit.text().replace(",", " ").split()]
            neutral = [int(v) for v in self.neutral_edit.text().replace(",", " ").split()]
            m = build_source_sink_matrix(
                len(self.names), sink_channels=sinks or None, neutral_channels=neutral
            )
        except ValueError as err:
            raise ValueError(
                f"roles: {err} (give channel numbers of the grid, e.g. '0 2')"
            ) from None
        for (i, j), box in self.checks.items():
            box.setChecked(bool(m[i, j] == -1))

    def matrix(self) -> np.ndarray:
        """The relations as a source-sink matrix (1 on the diagonal, -1 where ticked; every
        relation when the channels are too many for a grid)."""
        n = len(self.names)
        if n > MAX_GRID_CHANNELS:
            return 2 * np.eye(n, dtype=int) - 1
        m = np.eye(n, dtype=int)
        for (i, j), box in self.checks.items():
            if box.isChecked():
                m[i, j] = -1
        return m

    def relations(self) -> list[tuple[int, int]]:
        """The ticked ``(source, sink)`` pairs (every pair without a grid)."""
        if len(self.names) > MAX_GRID_CHANNELS:
            return [
                (i, j) for i in range(len(self.names)) for j in range(len(self.names)) if i != j
            ]
        return [key for key, box in self.checks.items() if box.isChecked()]
