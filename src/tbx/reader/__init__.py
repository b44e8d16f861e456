"""Reading event files back: run discovery, incremental tailing, columnar series, DataFrames.

Three layers over one core:

* :class:`tbx.reader.provider.LogdirProvider` — the incremental core: numpy series per
  (run, tag, plugin); ``refresh()`` reads only what was appended and notices what vanished,
  shrank or was replaced. The viewer uses only this interface.
* :func:`tbx.read` / :class:`tbx.reader.frames.Logdir` — a logdir as pandas DataFrames
  (``scalars``, ``histograms``, ``images``, ``audio``, ``text``, ``tensors``, ``pr_curves``,
  ``hparams``).
* :class:`tbx.SummaryReader` — tbparse's ``SummaryReader`` API and DataFrame shapes.

The hot loop (framing, CRC32C, scalar Event decoding) is the C module ``tbx._speedups`` when it is
built, pure Python otherwise (see :mod:`tbx.record`).

Modules, lowest first (each imports only those before it; ``tests/test_import.py`` holds the
full order): ``_types`` (the values handed out, and the listing's file entries), ``_names``
(which files are event files, URLs, file order, names shown), ``_obstore`` (``s3://`` GETs
through obstore, configured from s3fs's client), ``_store`` (an fsspec logdir: one recursive
listing, concurrent ranged reads), ``_fs`` (local file discovery: links, pseudo
file systems; ``open_logdir`` picks local or store), ``_watch`` (when to list again),
``_events_py`` (the pure-Python Event scan), ``_prefix`` (the tag of a long record from its
first bytes), ``_scan`` (record scanning, block by block), ``_series`` (series storage and
decoding), ``_tracking`` (what changed since the last refresh), ``_ingest`` (scanned rows into
series, purges), ``_core`` (one refresh; queries), ``provider`` (the public contract), then
``frames`` (its pandas construction in ``_frame_build``) and the tbparse layer (``_tbparse_*``,
``tbparse_compat``) over it.
"""

from tbx.reader.provider import (
    BlobSeries,
    Changes,
    LogdirProvider,
    Problem,
    ScalarSeries,
    TagInfo,
    TensorSeries,
)

__all__ = [
    "LogdirProvider",
    "Changes",
    "Problem",
    "TagInfo",
    "ScalarSeries",
    "TensorSeries",
    "BlobSeries",
]
