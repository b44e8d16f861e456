"""The viewer's plugin API (public): what a dashboard is, and what its data routes receive.

A dashboard, built in or installed, is one :class:`Plugin` object: its name, the
SummaryMetadata ``plugin_name`` values it reads, its tab, how it lists its tags, its data routes
(mounted under ``/api/plugins/<name>/<route>``) and its front-end ES module. A route handler is a
plain function ``handler(ctx: PluginContext, req: PluginRequest)`` run in a worker thread; it
returns a JSON-able object (NaN/inf become ``null``), a :meth:`PluginRequest.binary` response, or
any starlette ``Response``. It reports bad input by raising :class:`PluginError`.

Built-in plugins live in ``tbx.viewer.plugins.<name>`` (one registration line each in
``tbx/viewer/plugins/__init__.py``); others are found through the ``tbx.plugins`` entry-point
group, whose objects are :class:`Plugin` instances. See ``docs/plugins.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tbx.viewer.views import echo_value, float_range_words, int_range_words

__all__ = ["Plugin", "PluginContext", "PluginRequest", "PluginError", "Handler", "RESERVED",
           "tensor_points_route"]

#: Route names the host serves itself for every plugin: ``tags`` (its tag listing),
#: ``module/<file>`` (files beside its ES module) and ``static/<file>`` (its ``static_dir``).
RESERVED = frozenset({"tags", "module", "static"})
_NAME = re.compile(r"[a-z0-9_]+\Z")
_ROUTE = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\Z")


class PluginError(Exception):
    """Raised by a route handler for bad input: answered as ``{"error": message}`` with
    ``status`` (default 400; 404 for an unknown run or tag, 422 for data it cannot show)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = str(message)
        self.status = int(status)


Handler = Callable[["PluginContext", "PluginRequest"], Any]


@dataclass(frozen=True)
class Plugin:
    """One dashboard of the viewer.

    Attributes:
        name: URL-safe id, ``[a-z0-9_]+``; its routes are ``/api/plugins/<name>/<route>`` and
            its tab is ``#<name>``.
        title: the tab's title, e.g. ``"Confusion matrix"``.
        plugin_names: the SummaryMetadata ``plugin_data.plugin_name`` values whose tags it
            shows (``("histograms",)``); may be empty for a plugin that lists tags itself.
        order: tab position, lower first (built-ins use 10..90; default 100).
        routes: ``route -> handler``; a route is ``[A-Za-z0-9_.-]+`` segments (not ``.`` or
            ``..``) joined by ``/``, not starting with ``tags``, ``module`` or ``static`` (the
            host serves those).
        module: path of the front-end ES module (a ``.js`` file whose default export is
            ``render(root, api)``); files in its folder with web extensions (``.js``, ``.mjs``,
            ``.css``, ``.json``, ``.wasm``, ``.svg``, ``.png``) are served beside it, so it may
            import its siblings. ``None``: no tab.
        static_dir: optional folder served as ``/api/plugins/<name>/static/<file>``.
        list_tags: ``list_tags(ctx) -> {run: {tag: info dict}}`` (info as ``/api/tags``).
            Default: every tag whose plugin is in ``plugin_names``.
        is_active: ``is_active(ctx) -> bool``: whether the tab has data (an inactive tab is
            shown greyed). Default: :attr:`list_tags` returns any tag.

    Raises:
        ValueError: a bad ``name``, ``title``, route name or ``order``.
        TypeError: a handler or callback that is not callable, a ``plugin_names`` that is a
            plain string.
    """

    name: str
    title: str
    plugin_names: tuple[str, ...] = ()
    order: int = 100
    routes: Mapping[str, Handler] = field(default_factory=dict)
    module: str | Path | None = None
    static_dir: str | Path | None = None
    list_tags: Callable[[PluginContext], dict] | None = None
    is_active: Callable[[PluginContext], bool] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"Plugin name must match [a-z0-9_]+, got {self.name!r}")
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError(f"Plugin {self.name!r}: title must be a non-empty string")
        if isinstance(self.plugin_names, str):
            raise TypeError(f"Plugin {self.name!r}: plugin_names must be a tuple of str, got "
                            f"the string {self.plugin_names!r} (write ({self.plugin_names!r},))")
        object.__setattr__(self, "plugin_names", tuple(str(p) for p in self.plugin_names))
        if isinstance(self.order, bool) or not isinstance(self.order, int):
            raise ValueError(f"Plugin {self.name!r}: order must be an int, got {self.order!r}")
        routes = dict(self.routes)
        for route, fn in routes.items():
            if (not isinstance(route, str) or not _ROUTE.match(route)
                    or any(set(seg) == {"."} for seg in route.split("/"))):
                raise ValueError(f"Plugin {self.name!r}: bad route name {route!r} "
                                 "(segments of [A-Za-z0-9_.-] joined by '/')")
            if route.split("/")[0] in RESERVED:
                raise ValueError(f"Plugin {self.name!r}: route {route!r} is reserved "
                                 f"({', '.join(sorted(RESERVED))})")
            if not callable(fn):
                raise TypeError(f"Plugin {self.name!r}: handler of route {route!r} "
                                "is not callable")
        object.__setattr__(self, "routes", MappingProxyType(routes))
        for attr in ("list_tags", "is_active"):
            fn = getattr(self, attr)
            if fn is not None and not callable(fn):
                raise TypeError(f"Plugin {self.name!r}: {attr} must be callable or None")
        if self.module is not None:
            object.__setattr__(self, "module", Path(self.module))
        if self.static_dir is not None:
            object.__setattr__(self, "static_dir", Path(self.static_dir))


class PluginContext:
    """What a handler may use besides its request: the provider and per-plugin state.

    Attributes:
        provider: the :class:`tbx.reader.provider.LogdirProvider` (``runs()``,
            ``series(run)``, ``tags(run, plugin)``, ``scalars()``, ``tensors()``, ``blobs()``,
            ``metadata()`` (pass ``plugin=``), ``problems()``, ``logdir``).
        plugin: this :class:`Plugin`.
        cache: a dict private to this plugin, emptied when a run or series disappears, or a
            series is purged or read again (key entries by :meth:`version` to keep them
            fresh).
        runinfo: shared by every plugin: each run's hyperparameters and the last/min/max of
            its scalar series, cached (:class:`tbx.viewer.runinfo.RunInfo`).
    """

    def __init__(self, plugin: Plugin, hub):
        self.plugin = plugin
        self._hub = hub
        self.provider = hub.provider
        self.cache: dict = {}
        self.runinfo = getattr(hub, "runinfo", None)
        if self.runinfo is None:  # a context over a bare provider (tbx report)
            from tbx.viewer.runinfo import RunInfo

            self.runinfo = RunInfo(hub.provider, changes=lambda: getattr(hub, "version", 0))

    def version(self, run: str | None = None, tag: str | None = None,
                plugin: str | None = None) -> int:
        """A counter that grows with every refresh that changed anything (no arguments), with
        every change of any series of a tag (``run`` and ``tag``), or of one series (``run``,
        ``tag`` and ``plugin``): a cache key."""
        if run is None:
            return self._hub.version
        return self._hub.series_version(run, tag, plugin)

    def run_dir(self, run: str) -> str:
        """The folder of ``run`` (a known run name): a local path, or an fsspec URL when the
        logdir is one. Files beside the event files (e.g. ``projector_config.pbtxt``) are read
        from here.

        Raises:
            PluginError: (404) unknown run.
        """
        if run not in self.provider.runs():
            raise PluginError(f"unknown run {run!r}", 404)
        root = str(self.provider.logdir).rstrip("/")
        return root if run == "." else f"{root}/{run}"

    def tags(self, plugin_names=None) -> dict[str, dict[str, Any]]:
        """``{run: {tag: TagInfo}}`` of the series whose plugin is in ``plugin_names``
        (default: this plugin's); runs without such series are left out. A tag that holds
        series of several plugins (``weights`` as scalars, histograms and images) is listed by
        each of their dashboards, with that series' TagInfo (the first one of the names given,
        when it holds several of them)."""
        names = set(self.plugin.plugin_names if plugin_names is None else plugin_names)
        out = {}
        for run in self.provider.runs():
            try:
                found = self.runinfo.series(run)  # cached until the logdir changes
            except KeyError:  # vanished between the two calls
                continue
            got: dict[str, Any] = {}
            for tag, plugin, info in found:
                if plugin in names and tag not in got:
                    got[tag] = info
            if got:
                out[run] = got
        return out


def tag_info_json(info) -> dict:
    """A :class:`~tbx.reader.provider.TagInfo` as the JSON of ``/api/tags``."""
    return {"plugin": info.plugin_name, "class": info.data_class, "count": info.count,
            "first_step": info.first_step, "last_step": info.last_step,
            "first_wall_time": info.first_wall_time, "last_wall_time": info.last_wall_time}


#: The values a boolean query parameter accepts (compared in lower case).
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}


class PluginRequest:
    """One request to a plugin route: checked access to its query parameters.

    Every method raises :class:`PluginError` (400, or 404 for an unknown run or tag) with a
    message naming the parameter.

    Attributes:
        path: the route (``"points"``).
        request: the starlette ``Request`` (headers, raw query).
    """

    def __init__(self, request, route: str, ctx: PluginContext):
        self.request = request
        self.path = route
        self._ctx = ctx

    @property
    def params(self):
        """The query parameters (a starlette ``QueryParams``: ``get``, ``getlist``)."""
        return self.request.query_params

    def one(self, name: str, required: bool = True) -> str | None:
        """The single value of query parameter ``name``; ``None`` when absent and not
        ``required``. Errors: absent and required, or given more than once."""
        vals = self.request.query_params.getlist(name)
        if not vals:
            if required:
                raise PluginError(f"missing query parameter {name!r}")
            return None
        if len(vals) > 1:
            raise PluginError(f"query parameter {name!r} given {len(vals)} times, expected once")
        return vals[0]

    def int(self, name: str, default: int | None, lo: int, hi: int) -> int | None:
        """Integer parameter in ``[lo, hi]``; ``default`` when absent or empty. The error says
        what is accepted as people say it ("index must be a non-negative integer", "width
        must be an integer from 0 to 20000"): bounds from 2^31 - 1 up are no practical limit
        and are named only when passed, as powers of two."""
        v = self.one(name, required=False)
        if v is None or v == "":
            return default
        try:
            x = int(v)
        except ValueError:
            raise PluginError(f"{name} must be an integer, got {echo_value(v)}") from None
        if hi < lo:
            raise PluginError(f"{name} {echo_value(v)} cannot be used: there is no {name} to "
                              f"choose from")
        if not lo <= x <= hi:
            raise PluginError(f"{name} must be {int_range_words(lo, hi, x)}, got {echo_value(v)}")
        return x

    def float(self, name: str, default: float | None, lo: float = -math.inf,
              hi: float = math.inf, hi_open: bool = False) -> float | None:
        """Finite float parameter in ``[lo, hi]`` (``[lo, hi)`` with ``hi_open``); ``default``
        when absent or empty. The error says what is accepted ("xmin must be a finite
        number", "smoothing must be a number from 0 to 1 (1 excluded)")."""
        v = self.one(name, required=False)
        if v is None or v == "":
            return default
        try:
            x = float(v)
        except ValueError:
            raise PluginError(f"{name} must be a number, got {echo_value(v)}") from None
        if not math.isfinite(x) or x < lo or (x >= hi if hi_open else x > hi):
            raise PluginError(f"{name} must be {float_range_words(lo, hi, hi_open)}, got "
                              f"{echo_value(v)}")
        return x

    def bool(self, name: str, default: bool = False) -> bool:
        """Boolean parameter: ``1``/``true`` or ``0``/``false`` (any case); ``default`` when
        absent or empty. Error: any other value ("regex must be 0, 1, true or false")."""
        v = self.one(name, required=False)
        if v is None or v == "":
            return default
        b = BOOLEANS.get(v.lower())
        if b is None:
            raise PluginError(f"{name} must be 0, 1, true or false, got {echo_value(v)}")
        return b

    def choice(self, name: str, default: str, choices) -> str:
        """String parameter among ``choices``; ``default`` when absent."""
        v = self.one(name, required=False)
        if v is None or v == "":
            return default
        if v not in choices:
            raise PluginError(f"{name} must be one of {', '.join(choices)}; got {v!r}")
        return v

    def selection(self, max_named: int = 10_000):
        """The runs this request is about, from ``runset=<id>`` (a set posted to
        ``/api/runsets``: how the page asks), ``run_re=<regex>`` or repeated ``run=<name>``:
        a :class:`tbx.viewer.selection.Selection` (``runs`` known now, ``pinned``, ``by``).

        Errors: 400 without a selector, with two kinds, a bad regex, more than ``max_named``
        ``run``; 404 for an unknown ``run`` or run set id."""
        from tbx.viewer.selection import SelectionError, resolve

        try:
            return resolve(self.params, self._ctx.provider, self._ctx._hub.runsets,
                           max_named=max_named)
        except SelectionError as exc:
            raise PluginError(exc.message, exc.status) from None

    def run(self, name: str = "run") -> str:
        """The ``run`` parameter, a known run (else 404)."""
        run = self.one(name)
        if run not in self._ctx.provider.runs():
            raise PluginError(f"unknown run {run!r}", 404)
        return run

    def tag(self, run: str, plugin_names=None, name: str = "tag"):
        """The ``tag`` parameter, a tag of ``run`` holding a series whose plugin is in
        ``plugin_names`` (default: this plugin's; ``()`` accepts any). Returns ``(tag,
        TagInfo)`` of that series (the first one when several match); read it with
        ``plugin=info.plugin_name``.

        Errors: 404 for a tag ``run`` does not have, 400 for a tag holding only other plugins'
        series."""
        tag = self.one(name)
        names = self._ctx.plugin.plugin_names if plugin_names is None else tuple(plugin_names)
        try:
            found = [(p, i) for t, p, i in self._ctx.provider.series(run) if t == tag]
        except KeyError:
            found = []
        if not found:
            raise PluginError(f"unknown tag {tag!r} in run {run!r}", 404)
        for plugin, info in found:
            if not names or plugin in names:
                return tag, info
        have = " and ".join(repr(p) for p, _ in found)
        raise PluginError(f"tag {tag!r} of run {run!r} is plugin {have}, "
                          f"not {' or '.join(map(repr, names))}")

    @staticmethod
    def binary(data: bytes, media_type: str | None = None, *, cache_seconds: int = 0):
        """A response of raw bytes (``media_type`` default: sniffed from magic bytes, else
        ``application/octet-stream``), sandboxed by its own CSP so it can never run script."""
        from starlette.responses import Response

        from tbx.viewer.views import sniff_media_type

        data = bytes(data)
        cache = f"private, max-age={cache_seconds}" if cache_seconds > 0 else "no-store"
        return Response(data, media_type=media_type or sniff_media_type(data), headers={
            "Cache-Control": cache,
            "Content-Security-Policy": "default-src 'none'; sandbox",
        })


def tensor_points_route(points_fn, doc: str) -> Handler:
    """A ``points?run&tag&samples`` route over a tensor series (histograms, distributions,
    PR curves): ``samples`` (1..10000, default 100) steps chosen by ``points_fn(series,
    samples) -> list``; answers ``{"run", "tag", "total", "points"}``.

    Errors: 400 when the tag holds scalar or blob data; 422 when ``points_fn`` raises
    ``ValueError`` (data it cannot show); 404 for an unknown run or tag."""

    def points(ctx, req):
        run = req.run()
        tag, info = req.tag(run)
        samples = req.int("samples", 100, 1, 10000)
        if info.data_class != "tensor":
            raise PluginError(
                f"tag {tag!r} of run {run!r} holds {info.data_class} data, not tensor")
        s = ctx.provider.tensors(run, tag, plugin=info.plugin_name)
        try:
            pts = points_fn(s, samples)
        except ValueError as e:
            raise PluginError(f"cannot show {run!r}/{tag!r}: {e}", 422) from None
        return {"run": run, "tag": tag, "total": len(s), "points": pts}

    points.__doc__ = doc
    return points
