"""One module per kind of data, each owning its format both ways; and tensorboardX's
module-level summary functions.

Every kind module (``tbx.summary.scalar``, ``histogram``, ``image``, ...) names its TensorBoard
plugin (``PLUGIN_NAME``), builds its ``Summary`` protos (encode: values -> Summary) and interprets
them back (``decode``: Summary.Value -> values). The writer and the reader import the same
module, so a format lives in one place. Pure functions, no I/O.

tensorboardX's module-level functions, with its names, arguments, defaults and return values
(``tbx.summary.<name>`` as ``tensorboardX.summary.<name>``; see :mod:`tbx.summary.compat`)::

    from tbx import summary                       # was: from tensorboardX import summary
    exp, ssi, sei = summary.hparams({"lr": 0.1}, {"hparam/acc": 0.0})
    writer.file_writer.add_summary(summary.scalar("loss", 0.5), global_step=3)

Ten of those names are also the names of kind modules (``scalar``, ``histogram``, ``image``,
``video``, ``audio``, ``text``, ``pr_curve``, ``custom_scalars``, ``hparams``, ``mesh``). Both
stay usable: such a kind module is *callable*, and calling it calls tensorboardX's function of
the same name (its module object's class is :class:`KindModule`, a ``types.ModuleType``
subclass, the data model's documented way to customise a module). So
``tbx.summary.scalar("loss", 0.5)`` returns a ``Summary``, while
``from tbx.summary.scalar import scalar_summary``, ``import tbx.summary.scalar as m`` and
``from tbx.summary import histogram as H; H.decode(v)`` keep working as before.
``inspect.signature(tbx.summary.scalar)`` gives the function's signature; ``help()`` shows the
module. The other names (``histogram_raw``, ``make_histogram``, ``image_boxes``, ``draw_boxes``,
``make_image``, ``make_video``, ``pr_curve_raw``, ``compute_curve``) are plain functions.

``import tbx.summary`` imports no kind module: each is imported on first use.
"""

from __future__ import annotations

import importlib
import sys
import types

#: tensorboardX's names that are also kind modules (callable, see the module docstring).
CALLABLE_KINDS = frozenset(
    {"scalar", "histogram", "image", "video", "audio", "text", "pr_curve", "custom_scalars",
     "hparams", "mesh"}
)
#: tensorboardX's module-level functions (tensorboardX.summary), all provided here.
FUNCTIONS = (
    "scalar", "histogram", "histogram_raw", "make_histogram", "image", "image_boxes",
    "draw_boxes", "make_image", "video", "make_video", "audio", "text", "pr_curve",
    "pr_curve_raw", "compute_curve", "custom_scalars", "hparams", "mesh",
)
_KIND_MODULES = CALLABLE_KINDS | {"embedding", "graph", "tensor", "compat"}
# Other names tensorboardX.summary exposes (imported there from its protos and helpers).
_REEXPORTS = {
    "Summary": "tbx.proto.summary_pb2",
    "SummaryMetadata": "tbx.proto.summary_pb2",
    "HistogramProto": "tbx.proto.summary_pb2",
    "TensorProto": "tbx.proto.tensor_pb2",
    "TensorShapeProto": "tbx.proto.tensor_shape_pb2",
    "TextPluginData": "tbx.proto.plugin_text_pb2",
    "PrCurvePluginData": "tbx.proto.plugin_pr_curve_pb2",
    "MeshPluginData": "tbx.proto.plugin_mesh_pb2",
    "layout_pb2": None,  # the module tbx.proto.layout_pb2
    "make_np": "tbx.x2num",
    "convert_to_HWC": "tbx.utils",
    "convert_to_NTCHW": "tbx.utils",
}

__all__ = list(FUNCTIONS)


def _function(name: str):
    return getattr(importlib.import_module("tbx.summary.compat"), name)


class KindModule(types.ModuleType):
    """A kind module that can also be called: ``tbx.summary.scalar(...)`` calls
    :func:`tbx.summary.compat.scalar` (tensorboardX's function of the module's name)."""

    def __call__(self, *args, **kwargs):
        return _function(self.__name__.rpartition(".")[2])(*args, **kwargs)

    @property
    def __signature__(self):
        import inspect

        return inspect.signature(_function(self.__name__.rpartition(".")[2]))


class _Package(types.ModuleType):
    """``tbx.summary`` itself: binds its callable kind modules as :class:`KindModule`.

    The import system binds every submodule as an attribute of its package (``setattr``) right
    after loading it, however it was imported; that is where the class is set, so a kind module
    is callable whichever way it was first imported.
    """

    def __setattr__(self, name: str, value) -> None:
        if name in CALLABLE_KINDS and type(value) is types.ModuleType:
            value.__class__ = KindModule
        super().__setattr__(name, value)


def __getattr__(name: str):
    if name in _KIND_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in FUNCTIONS:
        return _function(name)
    if name in _REEXPORTS:
        if _REEXPORTS[name] is None:
            return importlib.import_module(f"tbx.proto.{name}")
        return getattr(importlib.import_module(_REEXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _KIND_MODULES | set(FUNCTIONS) | set(_REEXPORTS))


sys.modules[__name__].__class__ = _Package
