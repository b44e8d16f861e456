"""The tbx command line: export and inspect."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tbx
from tbx.cli import main
from tbx.record import frame_record


@pytest.fixture
def logdir(tmp_path):
    for run in ("a", "b/c"):
        w = tbx.SummaryWriter(tmp_path / "logs" / run)
        for i in range(5):
            w.add_scalar("loss", 0.1 * i + 1e-9, i, walltime=1700000000.123456789 + i)
            w.add_scalar("acc", i, i, walltime=1700000000.5 + i)
        w.add_histogram("h", np.arange(10.0), 1)
        w.add_text("t", "hi, \"there\"\n", 2)
        w.close()
    return tmp_path / "logs"


def expected(logdir):
    return tbx.read(logdir).scalars


def test_export_csv_exact(logdir, tmp_path):
    import csv

    out = tmp_path / "out.csv"
    assert main(["export", str(logdir), "-o", str(out), "-q"]) == 0
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    want = expected(logdir)
    assert rows[0] == ["run", "tag", "step", "wall_time", "value"]
    rows = rows[1:]
    assert [r[0] for r in rows] == want.run.astype(str).tolist()
    assert [r[1] for r in rows] == want.tag.astype(str).tolist()
    assert [int(r[2]) for r in rows] == want.step.tolist()
    assert [float(r[3]) for r in rows] == want.wall_time.tolist()  # exact round trip
    assert [float(r[4]) for r in rows] == want.value.tolist()


def test_export_json_and_parquet(logdir, tmp_path):
    import pandas as pd

    want = expected(logdir)
    out = tmp_path / "out.json"
    assert main(["export", str(logdir), "-o", str(out), "--tag", "^acc$", "-q"]) == 0
    rows = json.loads(out.read_text())
    sel = want[want.tag == "acc"]
    assert [r["value"] for r in rows] == sel.value.tolist()
    assert [r["wall_time"] for r in rows] == sel.wall_time.tolist()
    assert {r["run"] for r in rows} == {"a", "b/c"}

    pq = tmp_path / "out.parquet"
    assert main(["export", str(logdir), "-o", str(pq), "--run", "^a$", "-q"]) == 0
    df = pd.read_parquet(pq)
    sel = want[want.run == "a"]
    assert df.value.tolist() == sel.value.tolist()
    assert df.step.tolist() == sel.step.tolist()

    hist = tmp_path / "h.json"
    assert main(["export", str(logdir), "-o", str(hist), "--kind", "histograms", "-q"]) == 0
    rows = json.loads(hist.read_text())
    assert len(rows) == 2 and sum(rows[0]["bucket_counts"]) == 10


def test_export_to_stdout(logdir):
    proc = subprocess.run([sys.executable, "-m", "tbx.cli", "export", str(logdir), "-o", "-",
                           "--format", "csv", "--tag", "acc"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "run,tag,step,wall_time,value" and len(lines) == 11


def status(argv) -> int:
    """``main(argv)``'s exit status, whether returned or raised by argparse."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_export_bad_arguments(logdir, tmp_path, capsys):
    for argv, needle in [
        (["export", str(tmp_path / "nope"), "-o", "x.csv"], "LOGDIR"),
        (["export", str(logdir), "-o", str(tmp_path / "x.txt")], "--format"),
        (["export", str(logdir), "-o", "x.csv", "--tag", "("], "--tag"),
        (["export", str(logdir), "-o", "x.csv", "--run", "["], "--run"),
        (["export", str(logdir), "-o", "x.csv", "--format", "xml"], "--format"),
        (["export", str(logdir), "-o", "-", "--format", "parquet"], "parquet"),
    ]:
        assert status(argv) == 2
        err = capsys.readouterr().err
        assert needle in err and err.splitlines()[-1].startswith("tbx export: error: ")


def test_inspect(logdir, capsys):
    assert main(["inspect", str(logdir), "-q"]) == 0
    out = capsys.readouterr().out
    assert "run a" in out and "run b/c" in out
    assert "loss" in out and "scalars/scalar" in out and "0..4" in out
    assert "histograms/tensor" in out
    assert "2023-11-14 22:13:20" in out  # wall-time range, UTC
    assert "corruption: none" in out


def test_inspect_reports_corruption_and_incomplete_tail(tmp_path, capsys):
    from tbx.proto.event_pb2 import Event
    from tbx.proto.summary_pb2 import Summary

    def ev(step):
        return Event(wall_time=1.0, step=step, summary=Summary(
            value=[Summary.Value(tag="x", simple_value=step)])).SerializeToString()

    frames = [frame_record(ev(i)) for i in range(6)]
    offsets = np.cumsum([0] + [len(f) for f in frames]).tolist()
    body = bytearray(b"".join(frames[:5]))
    body[offsets[2] + 14] ^= 0xFF
    body += frames[5][:-3]
    run = tmp_path / "r"
    run.mkdir()
    path = run / "events.out.tfevents.1.host"
    path.write_bytes(bytes(body))
    assert main(["inspect", str(tmp_path), "-q"]) == 1
    out = capsys.readouterr().out
    assert f"{path}: byte offset {offsets[2]}: data CRC mismatch" in out
    assert "incomplete last record" in out and f"at byte offset {offsets[5]}" in out
    assert " 4 " in out  # four good points
    # a single event file works too
    assert main(["inspect", str(path), "-q"]) == 1


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = capsys.readouterr().out
    for opt in ("--output", "--format", "--kind", "--run", "--tag", "--quiet", "LOGDIR"):
        assert opt in text
    with pytest.raises(SystemExit):
        main(["inspect", "--help"])
    text = capsys.readouterr().out
    for opt in ("PATH", "--run", "--tag", "--quiet"):
        assert opt in text


def test_console_script_installed():
    exe = os.path.join(os.path.dirname(sys.executable), "tbx")
    if not os.path.exists(exe):
        pytest.skip("tbx console script not installed")
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "export" in proc.stdout and "inspect" in proc.stdout


@pytest.mark.parametrize("out", ["missing/dir/out.csv", "."])
def test_export_unwritable_output_is_a_clean_error(logdir, tmp_path, capsys, out):
    target = str(tmp_path / out)
    assert main(["export", str(logdir), "-o", target, "--format", "csv"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tbx export: error: ") and "Traceback" not in err


def test_inspect_reports_a_garbage_tail_once_with_its_byte_range(tmp_path, capsys):
    from tbx.proto.event_pb2 import Event

    run = tmp_path / "r"
    run.mkdir()
    path = run / "events.out.tfevents.1.host"
    good = frame_record(Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString())
    path.write_bytes(good)
    os.truncate(path, 10_000_000)  # a zero-filled tail, as a crash or `truncate -s` leaves
    assert main(["inspect", str(tmp_path), "-q"]) == 1
    out = capsys.readouterr().out
    assert f"  {path}: byte offset {len(good)}: header CRC mismatch " \
        f"({10_000_000 - len(good)} bytes skipped)\n" in out
    assert "corruption: 1 bad record(s)" in out and "incomplete last record" not in out
