"""The Projector's data routes (documented in ``http_api.md``): thin wrappers that check the
query and call :class:`.store.Store`."""

from __future__ import annotations

import numpy as np

from tbx.viewer.plugin import PluginError

from .files import read_sprite
from .store import METHODS, Store, parse_subset

__all__ = ["ROUTES", "list_tags", "store_of"]

MAX_WAIT = 5.0  # seconds a request may wait for a job


def store_of(ctx) -> Store:
    """The plugin's :class:`Store`, kept in ``ctx.cache`` (a fresh one after the host clears
    it: runs vanished)."""
    store = ctx.cache.get("store")
    if store is None:
        store = ctx.cache.setdefault("store", Store())
    return store


def _run_dirs(ctx):
    for run in ctx.provider.runs():
        try:
            yield run, ctx.run_dir(run)
        except PluginError:  # vanished meanwhile
            continue


def list_tags(ctx) -> dict:
    """``{run: {tensor_name: info}}`` of every embedding the runs' configs list (info as
    ``/api/tags``: plugin ``projector``, class ``files``, its step)."""
    out = {}
    store = store_of(ctx)
    for run, folder in _run_dirs(ctx):
        refs, _ = store.refs(run, folder)
        if refs:
            out[run] = {r.name: {"plugin": "projector", "class": "files", "count": 1,
                                 "first_step": r.step, "last_step": r.step} for r in refs}
    return out


def embeddings(ctx, req):
    """``embeddings``: every run's embeddings and config problems."""
    store = store_of(ctx)
    runs, problems = {}, {}
    for run, folder in _run_dirs(ctx):
        refs, probs = store.refs(run, folder)
        if refs:
            runs[run] = [r.to_json() for r in refs]
        if probs:
            problems[run] = probs
    return {"runs": runs, "problems": problems}


def _ref(ctx, req):
    run = req.run()
    try:
        return store_of(ctx).ref(run, ctx.run_dir(run), req.one("name"))
    except KeyError as e:
        raise PluginError(e.args[0], 404) from None


def _embedding(ctx, req):
    ref = _ref(ctx, req)
    try:
        return store_of(ctx).load(ref)
    except (FileNotFoundError, ValueError) as e:
        raise PluginError(str(e), 422) from None


def info(ctx, req):
    """``info?run&name``: shape, metadata columns, sprite, problems (loads the tensor)."""
    return _embedding(ctx, req).info()


def _column(emb, req):
    name = req.one("column")
    for c in emb.columns:
        if c.name == name:
            return c
    raise PluginError(f"column must be one of {[c.name for c in emb.columns]}; got {name!r}",
                      404)


def column(ctx, req):
    """``column?run&name&column``: a metadata column's distinct values and counts."""
    c = _column(_embedding(ctx, req), req)
    return {**c.to_json(), "categories": c.categories, "counts": c.counts.tolist(),
            "numeric": c.numeric}


def codes(ctx, req):
    """``codes?run&name&column``: int32 (little-endian) category of every point, -1 none."""
    c = _column(_embedding(ctx, req), req)
    return req.binary(c.codes.astype("<i4").tobytes(), "application/octet-stream")


def sprite(ctx, req):
    """``sprite?run&name``: the sprite image as stored."""
    ref = _ref(ctx, req)
    try:
        return req.binary(read_sprite(ref), cache_seconds=60)
    except FileNotFoundError as e:
        raise PluginError(str(e), 404) from None


def _params(ctx, req, emb, method) -> dict:
    if method == "pca":
        return {}
    if method == "custom":
        return {"directions": _directions(ctx, req, emb)}
    dims = req.int("dims", 2, 2, 3)
    seed = req.int("seed", 0, 0, 2**31 - 1)
    if method == "tsne":
        return {"dims": dims, "seed": seed, "perplexity": req.float("perplexity", 30.0, 2, 100),
                "iterations": req.int("iterations", 500, 10, 10000)}
    return {"dims": dims, "seed": seed, "neighbors_k": req.int("neighbors", 15, 2, 200),
            "min_dist": req.float("min_dist", 0.1, 0.0, 1.0)}


def _directions(ctx, req, emb) -> np.ndarray:
    """Custom axes ``x``, ``y`` (and ``z``): each either ``<axis>_vector`` (D numbers separated
    by commas) or the metadata query ``<axis>`` (minus ``<axis>_left``), in ``column``."""
    store = store_of(ctx)
    col = req.one("column", required=False) or None
    regex = req.bool("regex")
    out = []
    for axis in ("x", "y", "z"):
        vec = req.one(f"{axis}_vector", required=False)
        right = req.one(axis, required=False)
        if vec:
            try:
                v = np.array([float(v) for v in vec.split(",")])
            except ValueError:
                v = None
            if v is None or v.shape != (emb.mat.shape[1],):
                raise PluginError(f"{axis}_vector must be {emb.mat.shape[1]} numbers (the "
                                  f"embedding's dimension) separated by commas")
            out.append(v)
        elif right:
            try:
                out.append(store.direction(emb, right, req.one(f"{axis}_left", False) or "",
                                           col, regex))
            except ValueError as e:
                raise PluginError(f"{axis}: {e}") from None
        elif axis != "z":
            raise PluginError(f"custom projection needs {axis} (a metadata query) or "
                              f"{axis}_vector")
    return np.stack(out)


def _subset(ctx, req, emb):
    n = emb.mat.shape[0]
    try:
        rows = parse_subset(req.one("subset", required=False) or "", n)
    except ValueError as e:
        raise PluginError(str(e)) from None
    query = req.one("subset_query", required=False)
    if query:
        matched = _search(ctx, req, emb, query, "subset_")
        rows = matched if rows is None else np.union1d(rows, matched)
    return rows


def project(ctx, req):
    """``project?run&name&method&...&wait``: start (or find) a projection job; its status."""
    emb = _embedding(ctx, req)
    method = req.choice("method", "pca", tuple(METHODS))
    params = _params(ctx, req, emb, method)
    try:
        job = store_of(ctx).project(emb, method, params, _subset(ctx, req, emb))
    except ValueError as e:
        raise PluginError(str(e)) from None
    job.done.wait(req.float("wait", 0.0, 0.0, MAX_WAIT))
    return job.status()


def _job(ctx, req):
    try:
        return store_of(ctx).jobs.get(req.one("job"))
    except KeyError:
        raise PluginError(f"no job {req.one('job')!r} (finished long ago?)", 404) from None


def job(ctx, req):
    """``job?job&wait``: a job's status, after waiting up to ``wait`` seconds for it."""
    j = _job(ctx, req)
    j.done.wait(req.float("wait", 0.0, 0.0, MAX_WAIT))
    return j.status()


def cancel(ctx, req):
    """``cancel?job``: stop a job at its next progress report."""
    j = _job(ctx, req)
    j.cancel()
    j.done.wait(req.float("wait", 0.0, 0.0, MAX_WAIT))
    return j.status()


def coords(ctx, req):
    """``coords?job&partial&columns``: float32 (little-endian) coordinates, row-major
    ``(N, len(columns))``; NaN for points not projected."""
    j = _job(ctx, req)
    data = j.partial if req.bool("partial") else j.result
    if data is None:
        raise PluginError(f"job {j.id} has no coordinates yet ({j.state})", 409)
    cols = req.one("columns", required=False)
    if cols:
        try:
            idx = [int(c) for c in cols.split(",")]
        except ValueError:
            raise PluginError("columns must be integers separated by commas") from None
        if not all(0 <= i < data.shape[1] for i in idx) or not 1 <= len(idx) <= 3:
            raise PluginError(f"columns must be 1 to 3 of 0..{data.shape[1] - 1}; got {cols}")
        data = data[:, idx]
    return req.binary(np.ascontiguousarray(data, dtype="<f4").tobytes(),
                      "application/octet-stream")


def _search(ctx, req, emb, query, prefix=""):
    col = req.one(prefix + "column", required=False) or None
    regex = req.bool(prefix + "regex")
    try:
        rows = store_of(ctx).search(emb, query, col, regex)
    except ValueError as e:
        raise PluginError(str(e)) from None
    return rows[emb.finite[rows]] if prefix else rows


def search(ctx, req):
    """``search?run&name&query&column&regex``: indices of matching points."""
    emb = _embedding(ctx, req)
    query = req.one("query")
    rows = _search(ctx, req, emb, query)
    return {"query": query, "count": int(len(rows)), "indices": rows.tolist()}


def neighbors(ctx, req):
    """``neighbors?run&name&index&k&metric``: nearest points over the original vectors."""
    emb = _embedding(ctx, req)
    index = req.int("index", None, 0, emb.mat.shape[0] - 1)
    if index is None:
        raise PluginError("missing query parameter 'index'")
    k = req.int("k", 10, 1, 1000)
    metric = req.choice("metric", "cosine", ("cosine", "euclidean"))
    try:
        found = store_of(ctx).neighbors(emb, index, k, metric)
    except ValueError as e:
        raise PluginError(str(e)) from None
    return {"index": index, "metric": metric,
            "neighbors": [{"index": i, "distance": d} for i, d in found]}


ROUTES = {f.__name__: f for f in (embeddings, info, column, codes, sprite, project, job,
                                  cancel, coords, search, neighbors)}
