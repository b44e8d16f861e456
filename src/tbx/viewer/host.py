"""The plugin host: finds plugins (built-ins, then the ``tbx.plugins`` entry points), lists them
at ``/api/plugins`` and answers ``/api/plugins/<name>/<route>``.

Isolation: a plugin that fails to import or to build is listed with its ``error`` (its tab shows
it) and its routes answer 503; an exception in one of its handlers answers a JSON 500 naming the
plugin, logged with its traceback once per (plugin, route, exception type). Nothing a plugin does
stops the server or another plugin.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from tbx.viewer.guard import JSONResponse
from tbx.viewer.plugin import Plugin, PluginContext, PluginError, PluginRequest, tag_info_json

__all__ = ["Loaded", "discover", "load_builtins", "load_entry_points", "PluginHost",
           "ENTRY_POINT_GROUP"]

log = logging.getLogger("tbx.viewer")

ENTRY_POINT_GROUP = "tbx.plugins"
#: Files served from a plugin module's folder (never its Python).
WEB_SUFFIXES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
                ".json": "application/json", ".wasm": "application/wasm",
                ".svg": "image/svg+xml", ".png": "image/png", ".map": "application/json"}


@dataclass
class Loaded:
    """One plugin as found: the object, or why there is none.

    Attributes:
        name: the plugin's name (for a failed entry point: the entry point's name).
        plugin: the :class:`Plugin`, ``None`` when loading failed.
        error: ``None``, or what went wrong (``"ImportError: No module named 'foo'"``).
        source: ``"builtin"`` or ``"<distribution> <version>"`` (entry points).
    """

    name: str
    plugin: Plugin | None
    error: str | None
    source: str


def _err(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _as_plugin(obj, where: str) -> Plugin:
    if not isinstance(obj, Plugin) and callable(obj):
        obj = obj()
    if not isinstance(obj, Plugin):
        raise TypeError(f"{where} is a {type(obj).__name__}, not a tbx.viewer.plugin.Plugin")
    return obj


def load_builtins() -> list[Loaded]:
    """The built-in plugins of :data:`tbx.viewer.plugins.BUILTIN`, each imported on its own."""
    from tbx.viewer.plugins import BUILTIN

    out = []
    for name in BUILTIN:
        mod = f"tbx.viewer.plugins.{name}"
        try:
            out.append(Loaded(name, _as_plugin(importlib.import_module(mod).PLUGIN, mod), None,
                              "builtin"))
        except Exception as e:
            log.error("built-in plugin %s failed to load", name, exc_info=e)
            out.append(Loaded(name, None, _err(e), "builtin"))
    return out


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[Loaded]:
    """The plugins of the entry-point group ``group`` (``[project.entry-points."tbx.plugins"]``
    in a package's pyproject; the object is a :class:`Plugin` or a function returning one)."""
    from importlib.metadata import entry_points

    out = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        source = f"{dist.name} {dist.version}" if dist is not None else ep.value
        try:
            plugin = _as_plugin(ep.load(), f"entry point {ep.name} = {ep.value}")
            out.append(Loaded(plugin.name, plugin, None, source))
        except Exception as e:
            log.error("plugin entry point %s = %s failed to load", ep.name, ep.value, exc_info=e)
            out.append(Loaded(ep.name, None, _err(e), source))
    return out


def discover(plugins=None) -> list[Loaded]:
    """Every plugin, unique by name (the first one found wins; a later one with the same name
    is dropped with a warning).

    Args:
        plugins: ``None`` for the built-ins then the entry points; else a list of
            :class:`Plugin` objects and/or :class:`Loaded` entries to use instead.
    """
    if plugins is None:
        found = [*load_builtins(), *load_entry_points()]
    else:
        found = [p if isinstance(p, Loaded) else Loaded(_as_plugin(p, repr(p)).name, p, None,
                                                         "given") for p in plugins]
    out: dict[str, Loaded] = {}
    for item in found:
        if item.name in out:
            log.warning("plugin %r from %s ignored: %s already has that name", item.name,
                        item.source, out[item.name].source)
            continue
        out[item.name] = item
    return list(out.values())


class PluginHost:
    """Serves the plugins found by :func:`discover` over one hub."""

    def __init__(self, hub, loaded: list[Loaded]):
        self.hub = hub
        self.entries = {e.name: e for e in loaded}
        self.contexts = {e.name: PluginContext(e.plugin, hub)
                         for e in loaded if e.plugin is not None}
        self._logged: set = set()
        self._lock = threading.Lock()
        hub.on_drop(self._clear_caches)

    def _clear_caches(self) -> None:
        for ctx in self.contexts.values():
            ctx.cache.clear()

    def _log_once(self, key, msg, *args, exc=None) -> None:
        with self._lock:
            first = key not in self._logged
            self._logged.add(key)
        if first:
            log.error(msg, *args, exc_info=exc)
        else:
            log.debug(msg, *args)

    # listing -------------------------------------------------------------------------------
    def tags(self, name: str) -> dict:
        """``{run: {tag: info}}`` of one plugin (its ``list_tags`` or the default)."""
        ctx = self.contexts[name]
        p = ctx.plugin
        raw = p.list_tags(ctx) if p.list_tags is not None else ctx.tags()
        return {run: {tag: (i if isinstance(i, dict) else tag_info_json(i))
                      for tag, i in tags.items()}
                for run, tags in raw.items()}

    def _present(self) -> set[str]:
        """Plugin names of every series of every run (one pass, shared by the default
        ``is_active`` of all plugins)."""
        p = self.hub.provider
        out: set[str] = set()
        for run in p.runs():
            try:
                out.update(plugin for _, plugin, _ in self.hub.runinfo.series(run))
            except KeyError:  # vanished meanwhile
                continue
        return out

    def listing(self) -> list[dict]:
        """``/api/plugins``: every plugin, sorted by ``order`` then name."""
        out = []
        present = None
        for name, e in self.entries.items():
            p = e.plugin
            d = {"name": name, "title": p.title if p else name, "order": p.order if p else 1000,
                 "plugin_names": list(p.plugin_names) if p else [], "source": e.source,
                 "module_url": None, "error": e.error, "active": False}
            if p is not None:
                if p.module is not None:
                    d["module_url"] = f"/api/plugins/{name}/module/{p.module.name}"
                try:
                    if p.is_active is not None:
                        d["active"] = bool(p.is_active(self.contexts[name]))
                    elif p.list_tags is not None:
                        d["active"] = bool(self.tags(name))
                    else:
                        present = self._present() if present is None else present
                        d["active"] = not present.isdisjoint(p.plugin_names)
                except Exception as exc:
                    self._log_once((name, "is_active", type(exc)), "plugin %r: listing its "
                                   "tags failed", name, exc=exc)
                    d["error"] = f"plugin {name!r} failed to list its tags: {_err(exc)}"
            out.append(d)
        out.sort(key=lambda d: (d["order"], d["name"]))
        return out

    # routes ----------------------------------------------------------------------------------
    async def list_endpoint(self, request: Request):
        return JSONResponse(await run_in_threadpool(self.listing),
                            headers={"Cache-Control": "no-store"})

    async def endpoint(self, request: Request):
        name = request.path_params["name"]
        route = request.path_params["route"]
        e = self.entries.get(name)
        if e is None:
            return JSONResponse({"error": f"unknown plugin {name!r}"}, status_code=404)
        if e.plugin is None:
            return JSONResponse({"error": f"plugin {name!r} failed to load: {e.error}"},
                                status_code=503)
        p = e.plugin
        ctx = self.contexts[name]
        try:
            if route == "tags":
                return JSONResponse({"runs": await run_in_threadpool(self.tags, name)},
                                    headers={"Cache-Control": "no-store"})
            head, _, rest = route.partition("/")
            if head == "module" and p.module is not None:
                return _file(p.module.parent, rest, web_only=True)
            if head == "static" and p.static_dir is not None:
                return _file(p.static_dir, rest, web_only=False)
            fn = p.routes.get(route)
            if fn is None:
                return JSONResponse({"error": f"plugin {name!r} has no route {route!r}"},
                                    status_code=404)
            req = PluginRequest(request, route, ctx)
            if inspect.iscoroutinefunction(fn):
                result = await fn(ctx, req)
            else:
                result = await run_in_threadpool(fn, ctx, req)
        except PluginError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        except HTTPException as exc:
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        except KeyError as exc:  # a run or tag vanished between the lookup and the read
            return JSONResponse({"error": f"not found: {exc}"}, status_code=404)
        except Exception as exc:
            self._log_once((name, route, type(exc)), "plugin %r failed on route %r", name,
                           route, exc=exc)
            return JSONResponse({"error": f"plugin {name!r} failed on route {route!r}: "
                                          f"{_err(exc)} (see the server's log)"},
                                status_code=500)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, headers={"Cache-Control": "no-store"})


def _file(folder: Path, rel: str, web_only: bool) -> Response:
    """A file below ``folder`` (resolved, never outside it); 404 otherwise."""
    if not rel or "\x00" in rel:  # a NUL byte makes os.stat raise ValueError, not OSError
        raise PluginError(f"no file {rel!r}", 404)
    root = Path(folder).resolve()
    path = (root / rel).resolve()
    suffix = path.suffix.lower()
    if (not path.is_relative_to(root) or not path.is_file()
            or (web_only and suffix not in WEB_SUFFIXES)):
        raise PluginError(f"no file {rel!r}", 404)
    media = WEB_SUFFIXES.get(suffix) or mimetypes.guess_type(path.name)[0]
    return FileResponse(path, media_type=media or "application/octet-stream",
                        headers={"Cache-Control": "no-cache"})
