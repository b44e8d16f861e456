"""tbx: record training data into TensorBoard event files, read it back fast, view it live.

Public API: :class:`SummaryWriter` (tensorboardX-compatible), :class:`FileWriter`; reading back:
:func:`read` (a logdir as DataFrames), :class:`SummaryReader` (tbparse-compatible),
:class:`LogdirProvider` (the incremental numpy core the viewer uses).
Importing tbx loads numpy, protobuf and google-crc32c only.
"""

from tbx.writer import FileWriter, SummaryWriter

__version__ = "0.1.0"

__all__ = [
    "SummaryWriter",
    "FileWriter",
    "GlobalSummaryWriter",
    "read",
    "Logdir",
    "SummaryReader",
    "LogdirProvider",
    "__version__",
]

# Reader names, imported on first use (they pull in nothing heavy, but import tbx stays minimal).
_LAZY = {
    "read": "tbx.reader.frames",
    "Logdir": "tbx.reader.frames",
    "SummaryReader": "tbx.reader.tbparse_compat",
    "LogdirProvider": "tbx.reader.provider",
    "GlobalSummaryWriter": "tbx.global_writer",  # needs multiprocessing and inspect
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tbx' has no attribute {name!r}")
