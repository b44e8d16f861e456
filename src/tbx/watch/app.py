"""The live terminal dashboard of ``tbx watch`` (textual + textual-plotext; ``tbx[watch]``);
what it shows is computed by :mod:`tbx.watch.snapshot` (numbers) and :mod:`tbx.watch.screen`
(pages, colours, status lines).

Screen, top to bottom: two status lines (logdir, runs, tags, last change; the page of tags
shown and the view options), a grid of braille line charts (one per tag of the current page,
runs in the web viewer's colours, a legend line above each), a table (run, tag, step, latest,
min, max, a sparkline; every series of the page's tag group), the key help. In a terminal too
low for charts (under 16 lines) the table alone is shown, its sparklines standing in for the
charts. The grid grows with the window (a column of charts per 60 columns, a row per 10 lines).

Live: a background thread calls :meth:`~tbx.reader.provider.LogdirProvider.refresh` every
``interval`` seconds (the web viewer's default: 1 s), the reader's one incremental path; the
screen is redrawn only when it reported changes or the run list changed (vanished runs leave,
new runs join). ``tbx watch`` gives it a watching provider (``watch=True``, as ``tbx serve``),
so an idle dashboard's refresh lists and reads nothing.

Keys: ``n``/``p`` next/previous page of tags (pages follow the tag groups, the part of a tag
before its first ``/``); ``z`` zoom to the last 10^k steps (each press divides by 10, then back
to all); ``l`` log/linear y; ``s`` next smoothing weight; ``r``/``t`` edit the run/tag filter
(a case-insensitive regular expression, as in the web viewer; Enter applies, Escape cancels);
``q`` quit. ``NO_COLOR`` set: no colours (textual's monochrome filter), runs told apart by
their line's marker instead.
"""

from __future__ import annotations

import math
import threading
import time

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import DataTable, Footer, Input, Static
from textual_plotext import PlotextPlot

from tbx.watch import screen as V
from tbx.watch.snapshot import (
    chart_points,
    compile_filter,
    fmt_value,
    scalar_pairs,
    series_stats,
    sparkline,
)

__all__ = ["WatchApp"]

COLUMNS = ("run", "tag", "step", "latest", "min", "max", "trend")


class ChartCell(Vertical):
    """One chart: a legend line (the tag, then each run in its colour or marker) above a
    plotext plot (the legend drawn by plotext itself would hide data)."""

    def __init__(self):
        super().__init__()
        self.legend = Static(classes="legend")
        self.plot = PlotextPlot()

    def compose(self) -> ComposeResult:
        yield self.legend
        yield self.plot


class WatchApp(App):
    """``tbx watch`` over a provider.

    Args:
        provider: a :class:`~tbx.reader.provider.LogdirProvider` (refreshed here).
        interval: seconds between refreshes (> 0).
        run_filter, tag_filter: initial filters (case-insensitive regular expressions).
        smoothing: initial smoothing weight in ``[0, 1)``.

    Raises:
        ValueError: a bad filter, ``interval`` <= 0 or ``smoothing`` outside ``[0, 1)``.
    """

    TITLE = "tbx watch"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    Screen { layout: vertical; }
    .status { height: 1; width: 100%; text-wrap: nowrap; text-overflow: ellipsis; }
    #charts { height: 1fr; grid-gutter: 0 1; }
    #charts.hidden, #filter.hidden { display: none; }
    #table { height: 1fr; }
    ChartCell { height: 1fr; min-height: 8; }
    ChartCell > .legend { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ChartCell > PlotextPlot { height: 1fr; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("n", "page(1)", "next"),
        Binding("p", "page(-1)", "prev"),
        Binding("z", "zoom", "zoom"),
        Binding("l", "toggle_log", "log y"),
        Binding("s", "smoothing", "smooth"),
        Binding("r", "edit_filter('run')", "runs"),
        Binding("t", "edit_filter('tag')", "tags"),
        Binding("escape", "cancel_filter", "cancel", show=False),
    ]

    def __init__(self, provider, *, interval: float = 1.0, run_filter: str | None = None,
                 tag_filter: str | None = None, smoothing: float = 0.6):
        super().__init__()
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}")
        self.provider = provider
        self.interval = float(interval)
        self.filters = {"run": run_filter or "", "tag": tag_filter or ""}
        self._re = {k: compile_filter(v, f"{k} filter") for k, v in self.filters.items()}
        self.smoothing = float(smoothing)
        self.zoom: int | None = None  # last N steps, None = all
        self.log_y = False
        self.page = 0
        self.pages: list[tuple[str, list[str]]] = []
        self.runs: list[str] = []
        self.pairs: list[tuple[str, str]] = []
        self.editing: str | None = None
        self.loaded = False
        self.last_change: float | None = None
        self.error: str | None = None
        self._stats: dict = {}
        self._smoothing_ready = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="head", classes="status")
        yield Static(id="view", classes="status")
        yield Grid(id="charts")
        yield DataTable(id="table", cursor_type="row", show_cursor=False)
        yield Input(id="filter", classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self._layout()
        self._show_status()
        self._thread = threading.Thread(target=self._refresh_loop, name="tbx-watch-refresh",
                                        daemon=True)
        self._thread.start()
        threading.Thread(target=self._warm_up, name="tbx-watch-imports", daemon=True).start()

    def _warm_up(self) -> None:
        """Import scipy (the smoothing; one to several seconds) off the UI thread: until it is
        there, charts are drawn unsmoothed (the status line says so), then redrawn."""
        try:
            import scipy.signal  # noqa: F401
        except ImportError:
            pass
        self._smoothing_ready = True
        try:
            self.call_from_thread(self._draw)
        except RuntimeError:  # the app has stopped
            pass

    def on_unmount(self) -> None:
        self._stop.set()

    def on_resize(self) -> None:
        if self._layout():
            self._rebuild()

    def _per_page(self) -> tuple[int, int]:
        return V.grid_size(self.size.width, self.size.height)

    def _layout(self) -> bool:
        """Fit the chart grid to the window; True when the number of charts changed."""
        cols, rows = self._per_page()
        grid = self.query_one("#charts", Grid)
        grid.set_class(cols == 0, "hidden")
        plots = list(grid.query(ChartCell))
        want = cols * rows
        if cols:
            grid.styles.grid_size_columns = cols
            grid.styles.grid_size_rows = rows
            grid.styles.height = f"{60 if rows == 1 else 65}%"
        if len(plots) == want:
            return False
        for p in plots[want:]:
            p.remove()
        if want > len(plots):
            grid.mount_all([ChartCell() for _ in range(want - len(plots))])
        return True

    # live data ---------------------------------------------------------------------------
    def _refresh_loop(self) -> None:
        while not self._stop.is_set():
            try:
                changes, err = self.provider.refresh(), None
            except Exception as exc:  # keep showing what was read; say so
                changes, err = None, f"{type(exc).__name__}: {exc}"
            try:
                self.call_from_thread(self._apply, changes, err)
            except RuntimeError:  # the app has stopped
                return
            self._stop.wait(self.interval)

    def _apply(self, changes, err: str | None) -> None:
        self.error = err
        runs = self.provider.runs()
        if changes or not self.loaded or runs != self.runs:
            self.loaded = True
            self.last_change = time.time()
            self._rebuild()
        elif err:
            self._show_status()

    def _stat(self, run: str, tag: str):
        s = self.provider.scalars(run, tag)
        key = (len(s), s.value.__array_interface__["data"][0])
        hit = self._stats.get((run, tag))
        if hit is None or hit[0] != key:
            hit = (key, series_stats(run, tag, s))
            self._stats[(run, tag)] = hit
        return hit[1]

    # drawing -----------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.runs = self.provider.runs()
        self.pairs = [(r, t) for r, t in scalar_pairs(self.provider, self._re["run"],
                                                       self._re["tag"])
                      if not t.startswith("_hparams_/")]
        tags = list(dict.fromkeys(t for _, t in self.pairs))
        cols, rows = self._per_page()
        self.pages = V.paginate(tags, cols * rows)
        live = set(self.pairs)
        self._stats = {k: v for k, v in self._stats.items() if k in live}
        self.page = min(self.page, max(len(self.pages) - 1, 0))
        self._draw()

    def _draw(self) -> None:
        group, shown = self.pages[self.page] if self.pages else ("", [])
        by_tag: dict[str, list[str]] = {}
        for r, t in self.pairs:
            by_tag.setdefault(t, []).append(r)
        cells = list(self.query_one("#charts", Grid).query(ChartCell))
        for i, cell in enumerate(cells):
            self._draw_chart(cell, shown[i] if i < len(shown) else None,
                             by_tag.get(shown[i], []) if i < len(shown) else [])
        spark_w = max(8, min(40, self.size.width - 72))
        rows = []
        for t in [t for g, ts in self.pages if g == group for t in ts]:  # the whole group
            for r in by_tag.get(t, []):
                try:
                    st = self._stat(r, t)
                    pts = chart_points(self.provider.scalars(r, t), width=spark_w,
                                       last_steps=self.zoom)[1]
                except KeyError:  # vanished between listing and reading
                    continue
                rows.append((self._swatch(r) + Text(r), Text(t),
                             "-" if st.step is None else str(st.step), fmt_value(st.value),
                             fmt_value(st.min), fmt_value(st.max), sparkline(pts, spark_w)))
        table = self.query_one("#table", DataTable)
        table.clear(columns=True)  # explicit widths: textual's auto width lagged behind rows
        for i, name in enumerate(COLUMNS):
            table.add_column(name, width=max([len(name)] + [len(str(row[i])) for row in rows]))
        table.add_rows(rows)
        self._show_status()

    def _swatch(self, run: str) -> Text:
        if self.no_color:
            return Text(f"{V.marker_char(V.run_marker(self.runs, run))} ")
        return Text("■ ", style=V.run_color(self.runs, run))

    def _draw_chart(self, cell: ChartCell, tag: str | None, runs: list[str]) -> None:
        plot = cell.plot
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        legend = Text(tag or "", style="bold")
        for r in runs if tag is not None else []:
            legend += Text("  ") + self._swatch(r) + Text(r)
        cell.legend.update(legend)
        if tag is None:
            plot.refresh()
            return
        width = max(10, plot.size.width - 12) * 2  # braille: 2 dots a column
        lo, hi = math.inf, -math.inf
        for r in runs:
            try:
                x, y = chart_points(self.provider.scalars(r, tag), width=width,
                                    smoothing=self.smoothing if self._smoothing_ready else 0.0,
                                    last_steps=self.zoom,
                                    log_y=self.log_y)
            except KeyError:
                continue
            if not len(x):
                continue
            lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
            if self.no_color:
                plt.plot(x.tolist(), y.tolist(), marker=V.run_marker(self.runs, r))
            else:
                plt.plot(x.tolist(), y.tolist(), marker="braille",
                         color=V.rgb(V.run_color(self.runs, r)))
        if self.log_y:
            plt.yscale("log")
        elif lo <= hi and hi - lo <= 1e-9 * max(abs(hi), 1.0):  # flat: no axis of rounding noise
            pad = max(abs(hi), 1.0) * 0.1
            plt.ylim(lo - pad, hi + pad)
        plot.refresh()

    def _show_status(self) -> None:
        n_tags = len({t for _, t in self.pairs})
        head = V.head_line(self.provider.logdir, len(self.runs), n_tags, self.last_change,
                           self.error)
        view = V.view_line(self.pages, self.page, smoothing=self.smoothing,
                           smoothing_ready=self._smoothing_ready, zoom=self.zoom,
                           log_y=self.log_y, filters=self.filters)
        self.query_one("#head", Static).update(Text(head))
        self.query_one("#view", Static).update(Text(view))

    # keys --------------------------------------------------------------------------------
    def action_page(self, delta: int) -> None:
        if self.pages:
            self.page = (self.page + delta) % len(self.pages)
            self._draw()

    def action_zoom(self) -> None:
        span = 0
        shown = set(self.pages[self.page][1]) if self.pages else set()
        for r, t in self.pairs:
            if t not in shown:
                continue
            try:
                st = self._stat(r, t)
            except KeyError:  # vanished since the last rebuild
                continue
            if st.count:
                span = max(span, st.step - st.first_step)
        self.zoom = V.next_zoom(self.zoom, span)
        self._draw()

    def action_toggle_log(self) -> None:
        self.log_y = not self.log_y
        self._draw()

    def action_smoothing(self) -> None:
        self.smoothing = V.next_smoothing(self.smoothing)
        self._draw()

    def action_edit_filter(self, which: str) -> None:
        box = self.query_one("#filter", Input)
        self.editing = which
        box.placeholder = f"{which} filter: regular expression (Enter applies, Esc cancels)"
        box.value = self.filters[which]
        box.remove_class("hidden")
        self.call_after_refresh(box.focus)  # focusable once displayed

    def action_cancel_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("hidden")
        self.editing = None
        self.set_focus(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        which = self.editing
        if which is None:
            return
        try:
            self._re[which] = compile_filter(event.value, f"{which} filter")
        except ValueError as exc:
            self.error = str(exc)
            self._show_status()
            return
        self.error = None
        self.filters[which] = event.value
        self.action_cancel_filter()
        self.page = 0
        self._rebuild()
