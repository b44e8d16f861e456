"""tbx: record training data into TensorBoard event files, read it back fast, view it live.

Public API: :class:`SummaryWriter` (tensorboardX-compatible), :class:`FileWriter`.
Importing tbx loads numpy, protobuf and google-crc32c only.
"""

from tbx.writer import FileWriter, SummaryWriter

__version__ = "0.1.0"

__all__ = ["SummaryWriter", "FileWriter", "__version__"]
