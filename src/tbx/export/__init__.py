"""``tbx export``: a logdir's points as a table, or as files with an index.

Tables (``--kind scalars | histograms | text | hparams``): one CSV, Parquet or JSON file of every
point (never sampled), from :func:`tbx.read`.

Datasets (``--format parquet --partition-by run``): OUT is a folder holding one Parquet file per
run, ``OUT/run=<run>/part-0.parquet`` (Hive-style partitions; the run name percent-encoded, ``/``
included), that DuckDB, Polars, Spark, Dask and pyarrow read as one table with a ``run`` column
(schema: :func:`export_dataset`).

Files (``--kind images | audio | plugins``): OUT is a folder; each point's data is written as a
file ``OUT/<run>/<tag>/<step>_<n>.<ext>`` (run and tag percent-encoded into one folder name each,
``n`` counting the files of that tag and step) and listed in ``OUT/index.csv``, one row per file:
``run, tag, step, wall_time, path`` (``path`` relative to OUT; ``plugins`` adds ``plugin``).

* ``images``: each image as its encoded file (PNG, GIF for videos, JPEG: ``.png``, ``.gif``,
  ``.jpg``; other formats ``.bin``);
* ``audio``: each clip as its encoded file (``.wav``; other formats ``.bin``);
* ``plugins``: the data of plugins tbx does not know (a third party's, or tensors naming no
  plugin), as raw bytes: each element of a string tensor as a ``.bin`` file, any other tensor as
  a ``.npy`` file (``numpy.load``); the plugin's metadata content (``SummaryMetadata.
  plugin_data.content``), when not empty, as ``OUT/<run>/<tag>/plugin_content.bin``.

Modules:

* :mod:`tbx.export.cli` — the parser, the checks of the arguments and of OUT made before
  reading, which series each ``--kind`` exports, and the command (:func:`run_export`);
* :mod:`tbx.export.table` — one table written as CSV, Parquet or JSON (file, URL or ``-``);
* :mod:`tbx.export.files` — ``images | audio | plugins`` as files with ``index.csv``;
* :mod:`tbx.export.dataset` — the Hive-partitioned Parquet dataset.
"""

from __future__ import annotations

from tbx.export.cli import (
    FILE_KINDS,
    PARTITION_BY,
    TABLE_KINDS,
    add_export_parser,
    run_export,
)
from tbx.export.dataset import export_dataset, partition_name
from tbx.export.files import KNOWN_PLUGINS, export_files

__all__ = ["add_export_parser", "run_export", "TABLE_KINDS", "FILE_KINDS", "KNOWN_PLUGINS",
           "export_files", "export_dataset", "partition_name", "PARTITION_BY"]
