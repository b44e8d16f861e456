"""Reading event files back: run discovery, incremental tailing, columnar series, DataFrames.

Three layers over one core:

* :class:`tbx.reader.provider.LogdirProvider` — the incremental core: numpy series per (run, tag),
  ``refresh()`` reads only what was appended. The viewer uses only this interface.
* :func:`tbx.read` / :class:`tbx.reader.frames.Logdir` — a logdir as pandas DataFrames
  (``scalars``, ``histograms``, ``images``, ``audio``, ``text``, ``tensors``, ``pr_curves``,
  ``hparams``).
* :class:`tbx.SummaryReader` — tbparse's ``SummaryReader`` API and DataFrame shapes.

The hot loop (framing, CRC32C, scalar Event decoding) is the C module ``tbx._speedups`` when it is
built, pure Python otherwise (see :mod:`tbx.record`).
"""

from tbx.reader.provider import (
    BlobSeries,
    Changes,
    LogdirProvider,
    ScalarSeries,
    TagInfo,
    TensorSeries,
)

__all__ = [
    "LogdirProvider",
    "Changes",
    "TagInfo",
    "ScalarSeries",
    "TensorSeries",
    "BlobSeries",
]
