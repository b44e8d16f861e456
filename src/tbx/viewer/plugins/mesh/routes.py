"""The Mesh plugin's data routes (documented in ``http_api.md``)."""

from __future__ import annotations

from tbx.viewer.plugin import PluginError
from tbx.viewer.plugins.mesh import frames


def list_route(ctx, req) -> dict:
    """``{"runs": {run: {name: mesh info}}}`` (:func:`frames.mesh_list`) of every run that has
    a mesh."""
    out = {}
    for run in ctx.provider.runs():
        try:
            meshes = frames.mesh_list(ctx.provider, run)
        except KeyError:  # the run vanished meanwhile
            continue
        if meshes:
            out[run] = meshes
    return {"runs": out}


def frame_route(ctx, req):
    """One frame of mesh ``name`` of ``run`` at ``step`` (default: the last) and batch
    ``sample`` (default 0), as the binary of :mod:`tbx.viewer.plugins.mesh.frames`."""
    run = req.run()
    name = req.one("name")
    step = req.int("step", None, -(2**63), 2**63 - 1)
    sample = req.int("sample", 0, 0, 2**31 - 1)
    try:
        frame = frames.mesh_frame(ctx.provider, run, name, step, sample)
    except KeyError as exc:
        raise PluginError(str(exc.args[0] if exc.args else exc), 404) from None
    except ValueError as exc:
        raise PluginError(str(exc), 400) from None
    return req.binary(frames.encode_frame(frame), "application/octet-stream")
