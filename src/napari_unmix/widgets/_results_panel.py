"""One results panel per dock, reused on every run, with a short run history.

Each run puts one content widget (a table, a plot, a summary) into the panel; a dropdown
switches back to the last few runs. The panel never opens a new dock.
"""

from __future__ import annotations

from qtpy.QtWidgets import QComboBox, QLabel, QStackedWidget, QVBoxLayout, QWidget

from ._fit import fit_width

__all__ = ["ResultsPanel"]


class ResultsPanel(QWidget):
    """A history dropdown over a stack of per-run content widgets (at most ``keep`` runs)."""

    def __init__(self, parent: QWidget | None = None, *, keep: int = 5) -> None:
        super().__init__(parent)
        self.keep = keep
        self.history = QComboBox()
        self.history.setToolTip("earlier runs of this dock (the newest first)")
        self.stack = QStackedWidget()
        self.empty = QLabel("No results yet: choose the inputs and press Run.")
        self.empty.setWordWrap(True)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.history)
        layout.addWidget(self.stack)
        self.history.setVisible(False)
        self.history.currentIndexChanged.connect(self._show)

    def add_run(self, label: str, content: QWidget) -> None:
        """Show ``content`` as the newest run; drop the oldest beyond ``keep``."""
        fit_width(content)  # follows the dock's width, never widens it
        self.stack.insertWidget(1, content)
        self.history.blockSignals(True)
        self.history.insertItem(0, label)
        while self.history.count() > self.keep:
            self.history.removeItem(self.history.count() - 1)
            old = self.stack.widget(self.stack.count() - 1)
            self.stack.removeWidget(old)
            old.deleteLater()
        self.history.setCurrentIndex(0)
        self.history.blockSignals(False)
        self.history.setVisible(True)
        self.stack.setCurrentWidget(content)

    def _show(self, index: int) -> None:
        if index >= 0:
            self.stack.setCurrentIndex(index + 1)

    @property
    def current(self) -> QWidget | None:
        """The content widget shown (None before the first run)."""
        w = self.stack.currentWidget()
        return None if w is self.empty else w

    def runs(self) -> list[str]:
        """Labels of the kept runs, the newest first."""
        return [self.history.itemText(i) for i in range(self.history.count())]
