"""``tbx export LOGDIR --format parquet --partition-by run -o DIR``: a Hive-partitioned Parquet
dataset that DuckDB, Polars and pyarrow read as one table whose rows equal ``tbx.read``'s, run
names with any characters included."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tbx
from tbx.cli import main
from tbx.export import partition_name
from tbx.viewer.plugins.runs import demo_data as D

pa = pytest.importorskip("pyarrow")
pytest.importorskip("pyarrow.dataset")
duckdb = pytest.importorskip("duckdb")

ODD = ["nested/run=1", "50% off & more", "ünï cødé", "."]


@pytest.fixture
def logdir(tmp_path):
    root = tmp_path / "logs"
    D.write_sweep(root, runs=12, steps=15)
    for run in ODD:
        w = tbx.SummaryWriter(root / run if run != "." else root)
        for i in range(5):
            w.add_scalar("loss", 1.0 / (i + 1), i, walltime=100.0 + i)
        w.add_scalar("edge", math.nan, 7, walltime=1.5)
        w.add_scalar("edge", math.inf, 8, walltime=2.5)
        w.close()
    w = tbx.SummaryWriter(root / "text-only")
    w.add_text("note", "no scalars here", 0)
    w.close()
    return root


def _expected(logdir):
    df = tbx.read(logdir).scalars
    df = df.assign(run=df.run.astype(str), tag=df.tag.astype(str))
    return df.sort_values(["run", "tag", "step"], kind="stable").reset_index(drop=True)


def _same(got, want):
    got = got.sort_values(["run", "tag", "step"], kind="stable").reset_index(drop=True)
    assert got.run.tolist() == want.run.tolist()
    assert got.tag.tolist() == want.tag.tolist()
    assert got.step.tolist() == want.step.tolist()
    assert np.array_equal(got.wall_time.to_numpy(), want.wall_time.to_numpy())
    assert np.array_equal(got.value.to_numpy(), want.value.to_numpy(), equal_nan=True)


def test_partitioned_parquet_read_by_duckdb_polars_pyarrow(logdir, tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["export", str(logdir), "--format", "parquet", "--partition-by", "run",
                 "-o", str(out)]) == 0
    want = _expected(logdir)
    runs = sorted(set(want.run))
    assert len(runs) == 12 + len(ODD)  # "text-only" has no scalars: no partition
    assert sorted(p.name for p in out.iterdir()) == sorted(partition_name(r) for r in runs)
    assert partition_name("nested/run=1") == "run=nested%2Frun%3D1"
    assert all(list(p.iterdir()) == [p / "part-0.parquet"] for p in out.iterdir())
    assert f"{len(want)} rows of scalars in {len(runs)} files" in capsys.readouterr().err
    # file schema: no run column (it is in the folder names)
    import pyarrow.parquet as pq

    schema = pq.read_schema(out / partition_name(runs[0]) / "part-0.parquet")
    assert schema.names == ["tag", "step", "wall_time", "value"]
    assert [str(t) for t in schema.types] == ["dictionary<values=string, indices=int32, "
                                              "ordered=0>", "int64", "double", "double"]
    # DuckDB: one SQL statement over every run
    con = duckdb.connect()
    got = con.sql(f"SELECT run, tag, step, wall_time, value FROM read_parquet("
                  f"'{out}/*/*.parquet', hive_partitioning = true, "
                  f"hive_types = {{'run': VARCHAR}})").df()
    _same(got, want)
    # pyarrow datasets
    import pyarrow.dataset as ds

    t = ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pandas()
    t["tag"] = t["tag"].astype(str)
    _same(t[["run", "tag", "step", "wall_time", "value"]], want)
    # Polars
    pl = pytest.importorskip("polars")
    p = pl.scan_parquet(str(out), hive_partitioning=True,
                        hive_schema={"run": pl.String}).collect().to_pandas()
    p["tag"] = p["tag"].astype(str)
    _same(p[["run", "tag", "step", "wall_time", "value"]], want)


def test_duckdb_query_over_the_sweep(logdir, tmp_path):
    out = tmp_path / "ds"
    assert main(["export", str(logdir), "--format", "parquet", "--partition-by", "run",
                 "-o", str(out), "-q", "--run=-lr"]) == 0
    rows = duckdb.sql(f"""
        SELECT run, arg_max(value, step) AS last FROM read_parquet('{out}/*/*.parquet',
            hive_partitioning = true) WHERE tag = 'loss' GROUP BY run ORDER BY run""").fetchall()
    names = sorted(D.run_name(i) for i in range(12))
    assert [r for r, _ in rows] == names
    assert [v for _, v in rows] == [D.loss_values(int(n[-5:]), 15)[-1] for n in names]


def test_other_kinds_and_object_store(logdir, tmp_path):
    out = tmp_path / "hp"
    assert main(["export", str(logdir), "--kind", "hparams", "--format", "parquet",
                 "--partition-by", "run", "-o", str(out), "-q"]) == 0
    got = duckdb.sql(f"SELECT run, lr, opt FROM read_parquet('{out}/*/*.parquet', "
                     f"hive_partitioning = true) ORDER BY run").fetchall()
    assert got == [(D.run_name(i), D.LRS[(i // 2) % 5], D.OPTS[i % 2])
                   for i in sorted(range(12), key=D.run_name)]
    fsspec = pytest.importorskip("fsspec")
    url = "memory://tbx-export-test/ds"
    try:
        assert main(["export", str(logdir), "--format", "parquet", "--partition-by", "run",
                     "-o", url, "-q", "--run", "^adam"]) == 0
        import pyarrow.dataset as ds

        fs = fsspec.filesystem("memory")
        t = ds.dataset("/tbx-export-test/ds", format="parquet", partitioning="hive",
                       filesystem=fs).to_table()
        want = _expected(logdir)
        want = want[want.run.str.startswith("adam")]
        assert t.num_rows == len(want) and sorted(set(t.column("run").to_pylist())) == \
            sorted(set(want.run))
    finally:
        fsspec.filesystem("memory").rm("/tbx-export-test", recursive=True)


@pytest.mark.parametrize("args,msg", [
    (["--format", "csv", "--partition-by", "run"], "needs --format parquet"),
    (["--kind", "images", "--partition-by", "run"], "applies to tables"),
    (["--format", "parquet", "--partition-by", "tag"], "invalid choice"),
])
def test_bad_arguments(logdir, tmp_path, capsys, args, msg):
    try:  # argparse's own errors raise SystemExit, tbx's are returned
        code = main(["export", str(logdir), "-o", str(tmp_path / "x"), *args])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and msg in err and err.splitlines()[-1].startswith("tbx export: error: ")


def test_refuses_a_non_empty_folder(logdir, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "old.parquet").write_bytes(b"x")
    assert main(["export", str(logdir), "--format", "parquet", "--partition-by", "run",
                 "-o", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"tbx export: error: -o {str(out)!r} is not empty")
    assert [p.name for p in out.iterdir()] == ["old.parquet"]
