"""The Plots pane: accuracy per variant with error bars, and accuracy across prompt versions over time.

The history plot gives each template version ("zero_shot v2") its own colour and legend entry (below the
plot, never over its points). It compares arms on their common items only (core/reports/history.py) and
says how many in its title; an incomplete run (cancelled, or with unanswered items) is a hollow marker
whose tooltip says why. The plots are made when the pane's tab is first chosen (or they are read):
pyqtgraph takes ~0.4 s to import, and the pane starts as a hidden tab, so the window opens without it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from workbench.core.reports.charts import PALETTE
from workbench.core.reports.history import HistoryPoint, prompt_history
from workbench.core.reports.run_list import ReadRuns
from workbench.ui.session import AppSession

if TYPE_CHECKING:
    import pyqtgraph

HISTORY_TITLE = "Accuracy across prompt versions, run by run"


@cache
def _pyqtgraph() -> Any:
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True, background="w", foreground="#333333")
    return pg


def _numpy() -> Any:
    import numpy

    return numpy


def _plot(title: str) -> pyqtgraph.PlotWidget:
    pg = _pyqtgraph()
    widget = pg.PlotWidget(title=title)
    widget.setYRange(0, 108, padding=0)
    widget.setLabel("left", "execution accuracy", units="%")
    widget.showGrid(y=True, alpha=0.3)
    widget.setMouseEnabled(x=False, y=False)
    widget.setMenuEnabled(False)
    return widget


class PlotsPane(QWidget):
    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.bars: list[tuple[str, float, float, float]] = []  # what the variant plot shows: name, value, lo, hi
        self._history: list[HistoryPoint] | None = None  # None: to be read (when shown or asked for)
        self.read_runs: ReadRuns = {}  # finished runs' figures, read once
        self._plots: tuple[Any, Any, QLabel] | None = None  # variants plot, history plot, history note
        session.results_changed.connect(self.refresh_variants)
        session.run_state_changed.connect(lambda _: self.refresh_history())
        session.dataset_changed.connect(self.refresh_history)
        self.refresh_variants()
        self.refresh_history()

    @property
    def history(self) -> list[HistoryPoint]:
        """The history plot's points, read from the store when first asked for since the runs changed."""
        if self._history is None:
            session = self.session
            self._history = (
                prompt_history(
                    session.store, session.dataset, session.split, self.read_runs, {session.split: len(session.items)}
                )
                if session.dataset is not None
                else []
            )
        return self._history

    @property
    def variants_plot(self) -> pyqtgraph.PlotWidget:
        return self._built()[0]

    @property
    def history_plot(self) -> pyqtgraph.PlotWidget:
        return self._built()[1]

    @property
    def history_note(self) -> QLabel:
        return self._built()[2]

    def visibility_changed(self, visible: bool) -> None:
        """Its dock's ``visibilityChanged``: true when its tab is chosen (a hidden tab is "visible" to Qt)."""
        if visible:
            self._built()

    def _built(self) -> tuple[Any, Any, QLabel]:
        if self._plots is not None:
            return self._plots
        pg = _pyqtgraph()
        variants_plot = _plot("Accuracy per variant (95% CI)")
        history_plot = _plot(HISTORY_TITLE)
        legend = pg.LegendItem(colCount=2)  # in the plot's layout, below the axis: it covers no point
        history_plot.plotItem.layout.addItem(legend, 4, 1)
        history_plot.plotItem.legend = legend
        history_note = QLabel()
        history_note.setWordWrap(True)
        history_note.setStyleSheet("color: #555555")
        history_box = QWidget()
        history_layout = QVBoxLayout(history_box)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addWidget(history_plot, 1)
        history_layout.addWidget(history_note)
        splitter = QSplitter()
        splitter.addWidget(variants_plot)
        splitter.addWidget(history_box)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._plots = (variants_plot, history_plot, history_note)
        self._draw_variants()
        self._draw_history()
        return self._plots

    def refresh_variants(self) -> None:
        summaries = [s for s in self.session.results.summaries() if s.completed]
        bars = [(s.variant, *(100 * v for v in (s.execution_accuracy, *s.interval))) for s in summaries]
        if bars == self.bars:
            return
        self.bars = bars
        if self._plots is not None:  # else drawn when the plots are made
            self._draw_variants()

    def _draw_variants(self) -> None:
        bars = self.bars
        plot = self.variants_plot
        plot.clear()
        if not bars:
            return
        pg, np = _pyqtgraph(), _numpy()
        x = np.arange(len(bars), dtype=float)
        values = np.array([b[1] for b in bars])
        brushes = [pg.mkBrush(PALETTE[k % len(PALETTE)]) for k in range(len(bars))]
        plot.addItem(pg.BarGraphItem(x=x, height=values, width=0.6, brushes=brushes))
        low = values - np.array([b[2] for b in bars])
        high = np.array([b[3] for b in bars]) - values
        plot.addItem(pg.ErrorBarItem(x=x, y=values, top=high, bottom=low, beam=0.2, pen=pg.mkPen("#222222")))
        for k, (_, value, _, top) in enumerate(bars):
            label = pg.TextItem(f"{value:.1f}", anchor=(0.5, 1.0), color="#222222")
            label.setPos(k, min(100.0, top + 1))
            plot.addItem(label)
        plot.getAxis("bottom").setTicks([[(k, b[0]) for k, b in enumerate(bars)]])
        plot.setXRange(-0.6, len(bars) - 0.4, padding=0)

    def refresh_history(self) -> None:
        session = self.session
        if session.dataset is None or session.state in ("starting", "running", "paused"):
            return  # redrawn when the run ends
        self._history = None  # read again when drawn or asked for: a hidden tab reads nothing (every verdict
        if self._plots is not None:  # of every run on the split, 300,000 for a 100k-item run of 3 variants)
            self._draw_history()

    def _draw_history(self) -> None:
        plot = self.history_plot
        plot.clear()
        if plot.plotItem.legend is not None:
            plot.plotItem.legend.clear()
        if not self.history:
            plot.setTitle(HISTORY_TITLE)
            self.history_note.setText("No runs on this split yet.")
            return
        pg, np = _pyqtgraph(), _numpy()
        common = self.history[0].n_common
        plot.setTitle(f"Accuracy across versions, on {common} common items")
        runs = list(dict.fromkeys(p.run_name for p in self.history))
        series: dict[str, list[HistoryPoint]] = {}
        for point in self.history:
            series.setdefault(point.version_name, []).append(point)
        for k, (version, points) in enumerate(series.items()):
            colour = PALETTE[k % len(PALETTE)]
            x = np.array([runs.index(p.run_name) for p in points], dtype=float)
            y = np.array([100 * p.accuracy for p in points])
            plot.addItem(pg.ErrorBarItem(x=x, y=y, top=100 * np.array([p.high for p in points]) - y,
                                         bottom=y - 100 * np.array([p.low for p in points]), beam=0.15,
                                         pen=pg.mkPen(colour)))  # fmt: skip
            named = False
            for complete in (True, False):
                chosen = [(xi, yi, p) for xi, yi, p in zip(x, y, points, strict=True) if p.complete == complete]
                if not chosen:
                    continue
                plot.addItem(pg.ScatterPlotItem(
                    x=[c[0] for c in chosen], y=[c[1] for c in chosen], data=[_tip(c[2]) for c in chosen],
                    symbol="o", size=9, pen=pg.mkPen(colour, width=2),
                    brush=pg.mkBrush(colour) if complete else pg.mkBrush(255, 255, 255, 0),
                    hoverable=True, tip=lambda x, y, data: data, name=None if named else version,
                ))  # fmt: skip
                named = True
        plot.getAxis("bottom").setTicks([[(k, f"#{k + 1}") for k in range(len(runs))]])
        plot.setXRange(-0.5, len(runs) - 0.5, padding=0)
        latest = self.history[-1]
        incomplete = list(dict.fromkeys(p.run_name for p in self.history if not p.complete))
        self.history_note.setText(
            f"{len(self.history)} points from {len(runs)} runs, each on the {common} items every complete run scored "
            f"(x: runs in order; colour: template version). Latest: {latest.label}, "
            f"{100 * latest.accuracy:.1f}% of {latest.n}."
            + (f" Hollow: incomplete ({', '.join(incomplete)}), on the common items it answered." if incomplete else "")
        )


def _tip(point: HistoryPoint) -> str:
    text = f"{point.label}\n{100 * point.accuracy:.1f}% of {point.n} common items"
    return text + (f"\nincomplete: {point.incomplete_reason}" if not point.complete else "")
