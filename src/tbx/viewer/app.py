"""The viewer's ASGI app (starlette): the page, the core JSON routes, live push, and the plugin
host that serves every dashboard.

Routes (``GET``; every error is a JSON ``{"error": message}`` with a 4xx/5xx status, never a
traceback):

=====================================  ===========================================================
``/``                                  the page (503 with a message when the front end is not
                                       built)
``/static/...``                        the page's files (bundled JS/CSS)
``/api/runs``                          ``{"runs": [name], "loaded": bool, "corruptions": int,
                                       "logdir": str, "problems": [{"path", "reason"}]}``:
                                       names as the provider gives them (bytes that are not
                                       UTF-8 escaped as ``\\xNN``); problems: paths skipped
                                       because they cannot be read
``/api/tags``                          ``{"runs": {run: {tag: {"plugin", "class", "count",
                                       "first_step", "last_step", "first_wall_time",
                                       "last_wall_time"}}}}``: each tag's first series;
                                       ``?plugin=``: the tags holding a series of that plugin
``/api/events``                        server-sent events: ``scalars``, ``changed``, ``tags``
                                       (:meth:`tbx.viewer.hub.Hub.messages`); ``reload`` for a
                                       client that fell behind (:class:`~tbx.viewer.hub.Subscriber`)
``POST /api/runsets``                  body ``{"runs": [name], "pinned": [name]}`` (JSON) ->
                                       ``{"id", "runs": count}``: a selection that data routes
                                       take as ``runset=<id>`` (:mod:`tbx.viewer.selection`)
``/api/hparams``                       ``{"hparams": [name], "runs": count}``: the names of the
                                       runs' hyperparameters (grouping choices)
``/api/plugins``                       ``[{"name", "title", "order", "plugin_names",
                                       "module_url", "error", "active", "source"}]``
``/api/plugins/<name>/tags``           ``{"runs": {run: {tag: info}}}`` of that plugin
``/api/plugins/<name>/module/<file>``  its front-end module and the web files beside it
``/api/plugins/<name>/static/<file>``  its ``static_dir``
``/api/plugins/<name>/<route>``        its data routes: see each plugin's ``http_api.md`` in
                                       ``tbx/viewer/plugins/<name>/``
=====================================  ===========================================================

Security: run and tag names are looked up in the provider's lists, never joined to paths; the
only files served are the package's static folder and plugins' own folders (resolved, never
outside them). With ``token`` set, every request needs ``?token=`` (then kept in an HttpOnly
cookie) or the cookie. With ``allowed_hosts`` set, other ``Host`` headers get 403 (DNS
rebinding).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tbx.viewer.guard import Guard, JSONResponse, bad, http_error, server_error
from tbx.viewer.host import PluginHost, discover
from tbx.viewer.hub import Hub
from tbx.viewer.plugin import tag_info_json
from tbx.viewer.selection import SelectionError

__all__ = ["create_app", "Hub", "STATIC_DIR", "DIST_DIR"]

log = logging.getLogger("tbx.viewer")

STATIC_DIR = Path(__file__).parent / "static"
DIST_DIR = STATIC_DIR / "dist"

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>tbx</title>
<p>The tbx viewer's front end was not built (the build needs Node.js and npm).
Install npm and reinstall tbx (<code>pip install -e .</code>), or run
<code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>. The API under
<code>/api/</code> works.</p>"""


def _index(request: Request):
    page = STATIC_DIR / "index.html"
    if not (DIST_DIR / "main.js").is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    return HTMLResponse(page.read_text(encoding="utf-8"))


def _runs(request: Request):
    hub: Hub = request.app.state.hub
    p = hub.provider
    return JSONResponse({"runs": p.runs(), "loaded": hub.loaded.is_set(),
                         "corruptions": len(p.corruptions()), "logdir": str(p.logdir),
                         "problems": hub.problems_json()})


def _tags(request: Request):
    hub: Hub = request.app.state.hub
    plugins = request.query_params.getlist("plugin")
    if len(plugins) > 1:
        bad(f"query parameter 'plugin' given {len(plugins)} times, expected once")
    plugin = plugins[0] if plugins else None
    out = {}
    for run in hub.provider.runs():
        try:
            infos = hub.provider.tags(run, plugin=plugin)
        except KeyError:  # vanished meanwhile
            continue
        tags = {tag: tag_info_json(i) for tag, i in infos.items()}
        if tags or plugin is None:
            out[run] = tags
    return JSONResponse({"runs": out})


#: Largest run-set body accepted (bytes): a million run names of ~60 characters.
MAX_BODY = 64 << 20


async def _runsets(request: Request):
    hub: Hub = request.app.state.hub
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        bad("POST /api/runsets needs Content-Type: application/json", 415)
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BODY:
        bad(f"body larger than {MAX_BODY} bytes", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            bad(f"body larger than {MAX_BODY} bytes", 413)
    try:
        set_id, rs = hub.runsets.add_json(bytes(body))
    except SelectionError as exc:
        bad(exc.message, exc.status)
    return JSONResponse({"id": set_id, "runs": len(rs.runs)}, headers={"Cache-Control": "no-store"})


def _hparams(request: Request):
    hub: Hub = request.app.state.hub
    names: dict[str, None] = {}
    n = 0
    for run in hub.provider.runs():
        try:
            hp = hub.runinfo.hparams(run)
        except KeyError:  # vanished meanwhile
            continue
        n += bool(hp)
        for k in hp:
            names.setdefault(k)
    return JSONResponse({"hparams": list(names), "runs": n}, headers={"Cache-Control": "no-store"})


async def _events(request: Request):
    hub: Hub = request.app.state.hub
    sub = hub.subscribe()

    async def stream():
        try:
            yield "retry: 1000\n: connected\n\n"
            while True:
                msg = await sub.get(timeout=15)
                yield ": keep-alive\n\n" if msg is None else msg
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def create_app(
    provider,
    *,
    reload_interval: float = 1.0,
    token: str | None = None,
    allowed_hosts: set[str] | None = None,
    refresh: bool = True,
    plugins=None,
) -> Starlette:
    """The viewer app over a :class:`tbx.reader.provider.LogdirProvider` (or any object with
    its methods).

    Args:
        provider: the data source.
        reload_interval: seconds between ``provider.refresh()`` calls (background thread,
            started with the app's lifespan); must be > 0.
        token: if given, every request needs it (``?token=`` once, then the cookie).
        allowed_hosts: if given, host names (without port) accepted in the ``Host`` header.
        refresh: ``False`` to never call ``provider.refresh()`` (tests drive it).
        plugins: ``None`` (default) for the built-in plugins and those of the ``tbx.plugins``
            entry points; else the list of :class:`tbx.viewer.plugin.Plugin` objects (and/or
            :class:`tbx.viewer.host.Loaded` entries) to serve instead.

    Raises:
        ValueError: ``reload_interval`` <= 0.
    """
    if not reload_interval > 0:
        raise ValueError(f"reload_interval must be > 0, got {reload_interval}")
    hub = Hub(provider, reload_interval)
    host = PluginHost(hub, discover(plugins))

    @asynccontextmanager
    async def lifespan(app):
        if refresh:
            hub.start(asyncio.get_running_loop())
        else:
            hub._loop = asyncio.get_running_loop()
            hub.loaded.set()
        try:
            yield
        finally:
            hub.stop()

    routes = [
        Route("/", _index),
        Route("/api/runs", _runs),
        Route("/api/tags", _tags),
        Route("/api/events", _events),
        Route("/api/runsets", _runsets, methods=["POST"]),
        Route("/api/hparams", _hparams),
        Route("/api/plugins", host.list_endpoint),
        Route("/api/plugins/{name}/{route:path}", host.endpoint),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.hub = hub
    app.state.plugins = host
    app.state.started = time.time()
    app.add_middleware(Guard, token=token, allowed_hosts=allowed_hosts)
    return app
