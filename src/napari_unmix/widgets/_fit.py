"""Let a dock's content shrink to the dock's width (no sideways scrolling).

Qt sizes a combo box to its longest item, a label to its text and a button row to its
texts, so one long layer name made a dock wider than napari's dock area. :func:`fit_width`
lets them shrink (combo boxes elide, labels wrap) and turns the scroll area's sideways
scroll bar off, so the content follows the dock's width.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QLabel, QScrollArea, QSizePolicy, QWidget

__all__ = ["fit_width", "shrinkable"]


def fit_width(root: QWidget, *, min_chars: int = 10) -> None:
    """Let every combo box, label and plot canvas under ``root`` shrink to the dock's width."""
    for box in root.findChildren(QComboBox):
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(min_chars)
    for label in root.findChildren(QLabel):
        label.setWordWrap(True)
    for scroll in root.findChildren(QScrollArea):
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)


def shrinkable(widget: QWidget) -> QWidget:
    """``widget`` (e.g. a plot canvas) without a minimum width of its own."""
    policy = widget.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    widget.setSizePolicy(policy)
    return widget
