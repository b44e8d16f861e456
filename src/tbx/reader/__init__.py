"""Reading event files back: run discovery, incremental tailing, columnar series, DataFrames.

* :class:`tbx.reader.provider.LogdirProvider` — the incremental core (numpy series), used by the
  viewer and by everything below.
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
