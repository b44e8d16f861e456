"""Query a sweep of 10,000 runs with DuckDB in one SQL statement.

1. Writes a sweep (``--runs`` runs named ``{opt}-lr{lr}-s{seed}``, each logging ``loss`` and
   ``accuracy``) into ``--logdir`` unless it already holds runs; point ``--logdir`` at your own
   logdir instead (and adapt the regexes of the query to your run names).
2. ``tbx export LOGDIR --format parquet --partition-by run -o DATASET``: one Parquet file per
   run, ``DATASET/run=<run>/part-0.parquet`` (columns tag, step, wall_time, value).
3. One SQL statement over every run: the final loss of each run (the value at its last step),
   then per optimizer and learning rate the number of runs, the mean and best final loss.

Usage: python examples/duckdb_query.py [--runs 10000] [--steps 100] [--logdir sweep]
       [--dataset sweep.parquet]
Needs: pip install "tbx[parquet]" duckdb
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import duckdb

from tbx.cli import main as tbx_main

QUERY = """
SELECT regexp_extract(run, '^([a-z]+)-', 1)              AS opt,
       CAST(regexp_extract(run, '-lr([0-9.]+)-', 1) AS DOUBLE) AS lr,
       count(*)                                          AS runs,
       round(avg(final_loss), 4)                         AS mean_final_loss,
       round(min(final_loss), 4)                         AS best_final_loss,
       arg_min(run, final_loss)                          AS best_run
FROM (
    SELECT run, arg_max(value, step) AS final_loss
    FROM read_parquet('{dataset}/*/*.parquet', hive_partitioning = true,
                      hive_types = {{'run': VARCHAR}})
    WHERE tag = 'loss'
    GROUP BY run
)
GROUP BY ALL
ORDER BY mean_final_loss
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--logdir", default="sweep")
    ap.add_argument("--dataset", default="sweep.parquet")
    args = ap.parse_args()

    logdir, dataset = Path(args.logdir), Path(args.dataset)
    if not logdir.exists() or not any(logdir.iterdir()):
        from tbx.viewer.plugins.runs.demo_data import write_sweep

        t = time.perf_counter()
        write_sweep(logdir, runs=args.runs, steps=args.steps)
        print(f"wrote {args.runs} runs to {logdir} in {time.perf_counter() - t:.1f} s")
    if dataset.exists():
        shutil.rmtree(dataset)
    t = time.perf_counter()
    status = tbx_main(["export", str(logdir), "--format", "parquet", "--partition-by", "run",
                       "-o", str(dataset)])
    if status:
        return status
    print(f"exported in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    result = duckdb.sql(QUERY.format(dataset=dataset.as_posix()))
    rows = result.fetchall()
    took = time.perf_counter() - t
    print(" | ".join(result.columns))
    for row in rows:
        print(" | ".join(str(v) for v in row))
    print(f"query over {sum(r[2] for r in rows)} runs in {took:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
