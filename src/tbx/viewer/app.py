"""The viewer's ASGI app (starlette): JSON and binary API, live push, static page.

Routes (all ``GET``; every error is a JSON ``{"error": message}`` with a 4xx status, never a
traceback):

=============================  ===========================================================
``/``                          the page (503 with a message when the front end is not built)
``/static/...``                the page's files (bundled JS/CSS)
``/api/runs``                  ``{"runs": [name], "loaded": bool, "corruptions": int}``
``/api/tags``                  ``{"runs": {run: {tag: {"plugin", "class", "count",
                               "first_step", "last_step", "first_wall_time",
                               "last_wall_time"}}}}``; ``?plugin=`` keeps one plugin
``/api/scalars``               binary series (:mod:`tbx.viewer.series`) of every
                               ``run`` x ``tag`` pair that exists (``run``, ``tag`` repeated);
                               ``width`` (1..20000 pixels, default 1000; 0 = every point),
                               ``smoothing`` ([0, 1)), ``x`` (``step``, ``relative``,
                               ``wall_time``), ``xmin``/``xmax`` (in ``x``'s units)
``/api/scalars.csv``           CSV ``run,tag,step,wall_time,value`` of the same pairs, full
``/api/histograms``            ``?run&tag&samples`` per-step buckets
``/api/distributions``         ``?run&tag&samples`` per-step percentile bands
``/api/images``, ``/api/audio`` ``?run&tag`` per-step media lists
``/api/blob``                  ``?run&tag&index&item`` the media bytes (type from magic bytes)
``/api/text``                  ``?run&tag`` per-step sanitised HTML
``/api/pr_curves``             ``?run&tag&samples`` per-step precision/recall
``/api/hparams``               sessions with hparams and final metrics
``/api/custom_scalars``        merged layouts written by ``add_custom_scalars``
``/api/events``                server-sent events: ``scalars``, ``changed``, ``tags``
=============================  ===========================================================

Security: run and tag names are looked up in the provider's lists, never joined to paths; the
only files served are the package's static folder. With ``token`` set, every request needs
``?token=`` (then kept in an HttpOnly cookie) or the cookie. With ``allowed_hosts`` set, other
``Host`` headers get 403 (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
import re
import secrets
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tbx.viewer import series as S
from tbx.viewer import views as V


class JSONResponse(_StarletteJSONResponse):
    """Starlette's JSONResponse, except that a non-finite float (a NaN wall time or value in a
    file written by any writer) becomes ``null`` instead of failing the request with a 500."""

    def render(self, content) -> bytes:
        try:
            return super().render(content)
        except ValueError:
            return super().render(V.json_safe(content))

__all__ = ["create_app", "Hub", "STATIC_DIR"]

log = logging.getLogger("tbx.viewer")

STATIC_DIR = Path(__file__).parent / "static"
DIST_DIR = STATIC_DIR / "dist"
COOKIE = "tbx_token"
MAX_SERIES = 500
MAX_DELTA = 2000

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>tbx</title>
<p>The tbx viewer's front end was not built (the build needs Node.js and npm).
Install npm and reinstall tbx (<code>pip install -e .</code>), or run
<code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>. The API under
<code>/api/</code> works.</p>"""


class Hub:
    """Owns the provider: refreshes it in a background thread every ``interval`` seconds and
    fans the changes out to live subscribers (asyncio queues of SSE messages)."""

    def __init__(self, provider, interval: float = 1.0):
        self.provider = provider
        self.interval = float(interval)
        self.loaded = threading.Event()
        self._subs: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cache: dict = {}
        self._cache_lock = threading.Lock()
        self._versions: dict[tuple[str, str], int] = {}  # bumped by each change of a series

    # lifecycle -------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="tbx-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh_once()
            except Exception:  # keep serving what was read; report and retry
                log.exception("refresh failed")
            if not self.loaded.is_set():
                self.loaded.set()
                _warm_up()
            self._stop.wait(self.interval)

    def refresh_once(self):
        """One ``provider.refresh()``; the changes are pushed to subscribers."""
        changes = self.provider.refresh()
        for key in (*changes.appended, *changes.purged):
            self._versions[key] = self._versions.get(key, 0) + 1
        if changes and self._subs:
            msgs = self.messages(changes)
            if msgs and self._loop is not None:
                self._loop.call_soon_threadsafe(self._publish, msgs)
        return changes

    def _publish(self, msgs: list[str]) -> None:
        for q in list(self._subs):
            for m in msgs:
                q.put_nowait(m)

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue()
        self._subs.add(q)
        return q

    def unsubscribe(self, q) -> None:
        self._subs.discard(q)

    # live messages -----------------------------------------------------------------------
    def messages(self, changes) -> list[str]:
        """SSE messages for one refresh's :class:`~tbx.reader.provider.Changes`:

        * ``event: tags`` ``{"runs": [new runs], "tags": [[run, tag]]}`` when runs or tags
          appeared;
        * ``event: scalars`` ``{"series": [{"run", "tag", "cut": step|null, "total": points in
          the series, "n": new points, "step", "wall_time", "value"}]}``: the new points of
          each scalar series as base64 little-endian float64 columns (omitted, with
          ``"reload": true``, past 2000 points); ``cut`` means drop every point with
          ``step >= cut`` before appending;
        * ``event: changed`` ``{"series": [{"run", "tag", "plugin"}]}`` for other kinds.
        """
        p = self.provider
        out = []
        if changes.new_runs or changes.new_tags:
            out.append(_sse("tags", {"runs": list(changes.new_runs),
                                     "tags": [list(k) for k in changes.new_tags]}))
        keys = list(dict.fromkeys([*changes.purged, *changes.appended]))
        scal, other = [], []
        for run, tag in keys:
            try:
                info = p.tags(run)[tag]
            except KeyError:
                continue
            if info.data_class != "scalar":
                other.append({"run": run, "tag": tag, "plugin": info.plugin_name})
                continue
            s = p.scalars(run, tag)
            n = int(changes.appended.get((run, tag), 0))
            cut = changes.purged.get((run, tag))
            d = {"run": run, "tag": tag, "cut": None if cut is None else int(cut),
                 "total": len(s), "n": n}
            if n > MAX_DELTA:
                d["reload"] = True
            else:
                lo = len(s) - n
                d["step"] = V.b64_f64(s.step[lo:])
                d["wall_time"] = V.b64_f64(s.wall_time[lo:])
                d["value"] = V.b64_f64(s.value[lo:])
            scal.append(d)
        if scal:
            out.append(_sse("scalars", {"series": scal}))
        if other:
            out.append(_sse("changed", {"series": other}))
        return out

    # data ----------------------------------------------------------------------------------
    def smoothed(self, run: str, tag: str, s, weight: float):
        """Smoothed values of a scalar series, cached per weight until the series changes
        (the reader's snapshots are views of one buffer: same address and length, same
        refresh generation = same data)."""
        key = (run, tag, weight)
        ident = (self._versions.get((run, tag), 0), s.value.__array_interface__["data"][0],
                 len(s.value))
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] == ident:
            return hit[1], hit[2]
        sm, state = S.ema(s.value, weight)
        with self._cache_lock:
            if len(self._cache) >= 256:  # ~200 MB at most for 100k-point series
                self._cache.clear()
            self._cache[key] = (ident, sm, state)
        return sm, state


def _warm_up() -> None:
    """Import what the first smoothed or downsampled request needs (scipy takes ~1 s)."""
    try:
        import scipy.signal  # noqa: F401
        import tsdownsample  # noqa: F401
    except ImportError:
        pass


def _sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(V.json_safe(data), separators=(',', ':'))}\n\n"


# parameters -------------------------------------------------------------------------------
def _bad(msg: str, status: int = 400):
    raise HTTPException(status_code=status, detail=msg)


def _one(req: Request, name: str, required: bool = True) -> str | None:
    vals = req.query_params.getlist(name)
    if not vals:
        if required:
            _bad(f"missing query parameter {name!r}")
        return None
    if len(vals) > 1:
        _bad(f"query parameter {name!r} given {len(vals)} times, expected once")
    return vals[0]


def _int(req, name, default, lo, hi):
    v = _one(req, name, required=False)
    if v is None or v == "":
        return default
    try:
        x = int(v)
    except ValueError:
        _bad(f"{name} must be an integer, got {v!r}")
    if not lo <= x <= hi:
        _bad(f"{name} must be in [{lo}, {hi}], got {x}")
    return x


def _float(req, name, default, lo=-math.inf, hi=math.inf, hi_open=False):
    v = _one(req, name, required=False)
    if v is None or v == "":
        return default
    try:
        x = float(v)
    except ValueError:
        _bad(f"{name} must be a number, got {v!r}")
    if not math.isfinite(x) or x < lo or (x >= hi if hi_open else x > hi):
        rng = f"[{lo}, {hi})" if hi_open else f"[{lo}, {hi}]"
        _bad(f"{name} must be a finite number in {rng}, got {v!r}")
    return x


class _Ctx:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.p = hub.provider

    def run(self, run: str) -> str:
        if run not in self.p.runs():
            _bad(f"unknown run {run!r}", 404)
        return run

    def info(self, run: str, tag: str, cls: str | None = None, plugin: str | None = None):
        self.run(run)
        info = self.p.tags(run).get(tag)
        if info is None:
            _bad(f"unknown tag {tag!r} in run {run!r}", 404)
        if cls and info.data_class != cls:
            _bad(f"tag {tag!r} of run {run!r} holds {info.data_class} data, not {cls}")
        if plugin and info.plugin_name != plugin:
            _bad(f"tag {tag!r} of run {run!r} is plugin {info.plugin_name!r}, not {plugin!r}")
        return info

    def pairs(self, req: Request) -> list[tuple[str, str]]:
        runs = req.query_params.getlist("run")
        tags = req.query_params.getlist("tag")
        if not runs:
            _bad("missing query parameter 'run'")
        if not tags:
            _bad("missing query parameter 'tag'")
        if len(runs) * len(tags) > MAX_SERIES * 20:
            _bad("too many run x tag pairs")
        known = set(self.p.runs())
        for r in runs:
            if r not in known:
                _bad(f"unknown run {r!r}", 404)
        out = []
        for r in dict.fromkeys(runs):
            rt = self.p.tags(r)
            for t in dict.fromkeys(tags):
                i = rt.get(t)
                if i is not None and i.data_class == "scalar":
                    out.append((r, t))
        if not out:
            _bad("none of the requested tags is a scalar tag of the requested runs", 404)
        if len(out) > MAX_SERIES:
            _bad(f"{len(out)} series requested, at most {MAX_SERIES} per request")
        return out


# routes ---------------------------------------------------------------------------------------
def _index(request: Request):
    page = STATIC_DIR / "index.html"
    if not (DIST_DIR / "main.js").is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    return HTMLResponse(page.read_text(encoding="utf-8"))


def _runs(request: Request):
    hub: Hub = request.app.state.hub
    p = hub.provider
    return JSONResponse({"runs": p.runs(), "loaded": hub.loaded.is_set(),
                         "corruptions": len(p.corruptions())})


def _tags(request: Request):
    hub: Hub = request.app.state.hub
    plugin = _one(request, "plugin", required=False)
    out = {}
    for run in hub.provider.runs():
        tags = {}
        for tag, i in hub.provider.tags(run).items():
            if plugin is not None and i.plugin_name != plugin:
                continue
            tags[tag] = {"plugin": i.plugin_name, "class": i.data_class, "count": i.count,
                         "first_step": i.first_step, "last_step": i.last_step,
                         "first_wall_time": i.first_wall_time,
                         "last_wall_time": i.last_wall_time}
        if tags or plugin is None:
            out[run] = tags
    return JSONResponse({"runs": out})


def _scalars(request: Request):
    hub: Hub = request.app.state.hub
    ctx = _Ctx(hub)
    width = _int(request, "width", 1000, 0, 20000)
    weight = _float(request, "smoothing", 0.0, 0.0, 1.0, hi_open=True)
    xaxis = _one(request, "x", required=False) or "step"
    if xaxis not in ("step", "relative", "wall_time"):
        _bad(f"x must be one of step, relative, wall_time; got {xaxis!r}")
    xmin = _float(request, "xmin", None)
    xmax = _float(request, "xmax", None)
    if xmin is not None and xmax is not None and xmin > xmax:
        _bad("xmin must not exceed xmax")
    out = []
    for run, tag in ctx.pairs(request):
        s = hub.provider.scalars(run, tag)
        total = len(s)
        first_wall = float(s.wall_time[0]) if total else None
        if weight > 0:
            sm, state = hub.smoothed(run, tag, s, weight)
        else:
            sm, state = None, S.ema(s.value[-1:], 0.0)[1] if total else (0.0, 0)
        if xaxis == "step":
            x = s.step
        elif xaxis == "wall_time":
            x = s.wall_time
        else:
            x = s.wall_time - (first_wall or 0.0)
        sel = S.select(x, xmin, xmax)
        xs, vs = x[sel], s.value[sel]
        idx = np.arange(len(vs)) if width == 0 else S.downsample_indices(xs, vs, width)
        if sm is not None and width and len(idx) < len(vs):
            idx = np.union1d(idx, S.downsample_indices(xs, sm[sel], width))
        cols = [s.step[sel][idx], s.wall_time[sel][idx], vs[idx]]
        names = ["step", "wall_time", "value"]
        if sm is not None:
            cols.append(sm[sel][idx])
            names.append("smoothed")
        desc = {"run": run, "tag": tag, "n": int(len(idx)), "total": total,
                "downsampled": bool(len(idx) < len(vs)), "columns": names,
                "ema": [V.finite_or_none(state[0]) or 0.0, int(state[1])],
                "first_wall_time": first_wall,
                "step_range": [int(s.step.min()), int(s.step.max())] if total else None}
        out.append((desc, cols))
    return Response(S.pack(out), media_type="application/x-tbx-series",
                    headers={"Cache-Control": "no-store"})


def _scalars_csv(request: Request):
    hub: Hub = request.app.state.hub
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "tag", "step", "wall_time", "value"])
    for run, tag in _Ctx(hub).pairs(request):
        s = hub.provider.scalars(run, tag)
        for st, wt, v in zip(s.step.tolist(), s.wall_time.tolist(), s.value.tolist(), strict=True):
            w.writerow([run, tag, st, repr(wt), repr(v)])
    tag = request.query_params.get("tag", "scalars")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", tag)[:80] or "scalars"
    return PlainTextResponse(buf.getvalue(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}.csv"'})


def _tensor_view(plugin, fn):
    def endpoint(request: Request):
        hub: Hub = request.app.state.hub
        run, tag = _one(request, "run"), _one(request, "tag")
        samples = _int(request, "samples", 100, 1, 10000)
        _Ctx(hub).info(run, tag, "tensor", plugin)
        s = hub.provider.tensors(run, tag)
        try:
            pts = fn(s, samples)
        except ValueError as e:
            _bad(f"cannot show {run!r}/{tag!r}: {e}", 422)
        return JSONResponse({"run": run, "tag": tag, "total": len(s), "points": pts})
    return endpoint


def _text(request: Request):
    from tbx.viewer.render import text_html

    hub: Hub = request.app.state.hub
    run, tag = _one(request, "run"), _one(request, "tag")
    samples = _int(request, "samples", 100, 1, 10000)
    _Ctx(hub).info(run, tag, "tensor", "text")
    s = hub.provider.tensors(run, tag)
    pts = [{"step": int(s.step[i]), "wall_time": float(s.wall_time[i]),
            "html": text_html(V.text_value(s.values[i]))}
           for i in V.sample_indices(len(s), samples)[::-1] if s.values[i] is not None]
    return JSONResponse({"run": run, "tag": tag, "total": len(s), "points": pts})


def _media(plugin, fn):
    def endpoint(request: Request):
        hub: Hub = request.app.state.hub
        run, tag = _one(request, "run"), _one(request, "tag")
        _Ctx(hub).info(run, tag, "blob", plugin)
        s = hub.provider.blobs(run, tag)
        return JSONResponse({"run": run, "tag": tag, "total": len(s), "points": fn(s)})
    return endpoint


def _blob(request: Request):
    hub: Hub = request.app.state.hub
    run, tag = _one(request, "run"), _one(request, "tag")
    index = _int(request, "index", None, 0, 2**62)
    item = _int(request, "item", 0, 0, 2**31)
    if index is None:
        _bad("missing query parameter 'index'")
    info = _Ctx(hub).info(run, tag, "blob")
    s = hub.provider.blobs(run, tag)
    if index >= len(s):
        _bad(f"index {index} out of range: {run!r}/{tag!r} has {len(s)} points", 404)
    try:
        data = V.blob_item(info.plugin_name, s.values[index], item)
    except IndexError:
        _bad(f"item {item} out of range at index {index}", 404)
    return Response(data, media_type=V.sniff_media_type(data), headers={
        "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })


def _hparams(request: Request):
    """Sessions (runs with a ``session_start_info``), decoded by :mod:`tbx.summary.hparams`;
    a session's metrics are the last values of the experiment's metric tags in its run."""
    from tbx.proto.summary_pb2 import Summary
    from tbx.summary import hparams as H

    p = request.app.state.hub.provider
    hp_names: dict[str, None] = {}
    metrics: dict[str, None] = {}
    sessions = []
    for run in p.runs():
        start = None
        for tag, info in p.tags(run).items():
            if info.plugin_name != H.PLUGIN_NAME:
                continue
            try:
                d = H.decode(Summary.Value(tag=tag, metadata=p.metadata(run, tag)))
            except ValueError:
                continue
            if d.kind == "experiment":
                for name in d.data["hparams"]:
                    hp_names.setdefault(name)
                for m in d.data["metrics"]:
                    metrics.setdefault(m)
            elif d.kind == "session_start_info":
                start = d.data
        if start is not None:
            values = {k: (v if not isinstance(v, float) else V.finite_or_none(v))
                      for k, v in start["hparams"].items()}
            for k in sorted(values):  # a protobuf map has no order
                hp_names.setdefault(k)
            sessions.append({"run": run, "hparams": values, "group": start["group_name"]})
    for sess in sessions:
        run = sess["run"]
        tags = p.tags(run)
        vals = {}
        for m in metrics:
            i = tags.get(m)
            if i is not None and i.data_class == "scalar" and i.count:
                vals[m] = V.finite_or_none(p.scalars(run, m).value[-1])
        sess["metrics"] = vals
    return JSONResponse({"hparams": list(hp_names), "metrics": list(metrics),
                         "sessions": sessions})


def _custom_scalars(request: Request):
    """Layouts of every run (the last one each run wrote), decoded by
    :mod:`tbx.summary.custom_scalars`, merged by category title; identical charts once."""
    from tbx.proto.summary_pb2 import Summary
    from tbx.summary import custom_scalars as C
    from tbx.summary.tensor import numpy_to_tensor

    p = request.app.state.hub.provider
    cats: dict[str, dict] = {}
    for run in p.runs():
        for tag, info in p.tags(run).items():
            if info.plugin_name != "custom_scalars" or info.data_class != "tensor":
                continue
            s = p.tensors(run, tag)
            if not len(s) or s.values[-1] is None:
                continue
            try:
                layout = C.decode(Summary.Value(tag=tag, tensor=numpy_to_tensor(
                    np.asarray(s.values[-1], dtype=object))))
            except (ValueError, TypeError):
                continue
            for title, charts in layout.items():
                cat = cats.setdefault(title, {"title": title, "closed": False, "charts": []})
                for name, (kind, spec) in charts.items():
                    if kind == "Multiline":
                        chart = {"title": name, "kind": "multiline", "tags": list(spec)}
                    else:
                        triples = [spec] if spec and isinstance(spec[0], str) else spec
                        chart = {"title": name, "kind": "margin", "series": [
                            {"value": v, "lower": lo, "upper": hi} for v, lo, hi in triples]}
                    if chart not in cat["charts"]:
                        cat["charts"].append(chart)
    return JSONResponse({"categories": list(cats.values())})


async def _events(request: Request):
    hub: Hub = request.app.state.hub
    q = hub.subscribe()

    async def stream():
        try:
            yield "retry: 1000\n: connected\n\n"
            while True:
                try:
                    msg = await asyncio.wait_for(q.get(), timeout=15)
                except asyncio.TimeoutError:
                    msg = ": keep-alive\n\n"
                yield msg
        finally:
            hub.unsubscribe(q)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# middleware -------------------------------------------------------------------------------------
class _Guard:
    """Pure ASGI middleware: Host allow-list, token auth, security headers."""

    def __init__(self, app, token: str | None, allowed_hosts: set[str] | None):
        self.app = app
        self.token = token
        self.allowed = allowed_hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        if self.allowed is not None:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            name = name.strip("[]").lower()
            if name not in self.allowed:
                return await JSONResponse({"error": f"host {host!r} not allowed"},
                                          status_code=403)(scope, receive, send)
        if self.token is not None:
            qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = qs.get("token", [None])[0]
            cookie = SimpleCookie()
            try:
                cookie.load(headers.get("cookie", ""))
            except Exception:
                pass
            have = cookie[COOKIE].value if COOKIE in cookie else None
            if given is not None and secrets.compare_digest(given, self.token):
                rest = {k: v for k, v in qs.items() if k != "token"}
                url = scope.get("path", "/") + ("?" + urlencode(rest, doseq=True) if rest else "")
                resp = RedirectResponse(url, status_code=303)
                resp.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
                return await resp(scope, receive, send)
            if have is None or not secrets.compare_digest(have, self.token):
                return await JSONResponse(
                    {"error": "this tbx server needs its token: open the URL it printed"},
                    status_code=401)(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                hs = list(message.get("headers", []))
                names = {k.lower() for k, _ in hs}
                extra = {b"x-content-type-options": b"nosniff",
                         b"referrer-policy": b"no-referrer",
                         b"content-security-policy": CSP.encode()}
                hs += [(k, v) for k, v in extra.items() if k not in names]
                message = {**message, "headers": hs}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


async def _http_error(request: Request, exc: HTTPException):
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def _server_error(request: Request, exc: Exception):
    log.error("error answering %s", request.url.path, exc_info=exc)
    if isinstance(exc, KeyError):  # a run or tag vanished between the lookup and the read
        return JSONResponse({"error": f"not found: {exc}"}, status_code=404)
    return JSONResponse({"error": "internal error (see the server's log)"}, status_code=500)


def create_app(
    provider,
    *,
    reload_interval: float = 1.0,
    token: str | None = None,
    allowed_hosts: set[str] | None = None,
    refresh: bool = True,
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

    Raises:
        ValueError: ``reload_interval`` <= 0.
    """
    if not reload_interval > 0:
        raise ValueError(f"reload_interval must be > 0, got {reload_interval}")
    hub = Hub(provider, reload_interval)

    from contextlib import asynccontextmanager

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
        Route("/api/scalars", _scalars),
        Route("/api/scalars.csv", _scalars_csv),
        Route("/api/histograms", _tensor_view("histograms", V.histogram_points)),
        Route("/api/distributions", _tensor_view("histograms", V.distribution_points)),
        Route("/api/pr_curves", _tensor_view("pr_curves", V.pr_curve_points)),
        Route("/api/text", _text),
        Route("/api/images", _media("images", V.image_points)),
        Route("/api/audio", _media("audio", V.audio_points)),
        Route("/api/blob", _blob),
        Route("/api/hparams", _hparams),
        Route("/api/custom_scalars", _custom_scalars),
        Route("/api/events", _events),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.hub = hub
    app.state.started = time.time()
    app.add_middleware(_Guard, token=token, allowed_hosts=allowed_hosts)
    return app
