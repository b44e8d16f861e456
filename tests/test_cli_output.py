"""The tbx command line's outputs (``-o``, ``tbx demo --logdir``): checked before anything is
read (one line, exit status 2), errors while writing said in one line naming ``-o`` (exit 2 when
the path is at fault, else 1), ``export`` exits 3 when there is nothing of its ``--kind``;
argparse's own errors are one line too (:class:`tbx._cliutil.Parser`)."""

from __future__ import annotations

import glob
import os

import pytest
from test_cli_errors import run  # (exit status, stdout, stderr) of tbx argv

import tbx

WALL = 1_700_000_000.0



@pytest.fixture
def logdir(tmp_path):
    """Run ``a``: scalar ``loss``, histogram ``w``; run ``b``: scalar ``loss``, text ``t``."""
    root = tmp_path / "logs"
    with tbx.SummaryWriter(root / "a") as w:
        for i in range(3):
            w.add_scalar("loss", 0.5 * i, i, walltime=WALL + i)
        w.add_histogram("w", [1.0, 2.0, 2.0], 0, walltime=WALL)
    with tbx.SummaryWriter(root / "b") as w:
        w.add_scalar("loss", 1.0, 0, walltime=WALL)
        w.add_text("t", "hello", 0, walltime=WALL)
    return root


@pytest.fixture
def stub_bundle(monkeypatch):
    from tbx.report import build

    monkeypatch.setattr(build, "load_bundle", lambda: ("", ""))


@pytest.fixture
def no_reading(monkeypatch):
    """Reading the logdir (export, report) or training (demo) fails the test."""
    def boom(*a, **k):
        raise AssertionError("read before the output was checked")

    monkeypatch.setattr("tbx.reader.frames.read", boom)
    monkeypatch.setattr("tbx.report.build.build_report", boom)
    monkeypatch.setattr("tbx.demo.run.run_sweep", boom)


# ------------------------------------------------------------------ checked before reading

URL_PROTOCOL = ": unknown URL protocol 'foo' (expected a local path or an fsspec URL such as " \
               "s3://bucket/logs)"


@pytest.mark.parametrize("argv,want", [
    (["export", "LOGS", "-o", "foo://x/y.csv"],
     f"tbx export: error: -o 'foo://x/y.csv'{URL_PROTOCOL}"),
    (["export", "LOGS", "-o", "foo://x", "--format", "parquet", "--partition-by", "run"],
     f"tbx export: error: -o 'foo://x'{URL_PROTOCOL}"),
    (["export", "LOGS", "-o", "foo://x", "--kind", "images"],
     "tbx export: error: -o 'foo://x' is a URL; --kind images writes a local folder"),
    (["report", "LOGS", "-o", "foo://r.html"],
     "tbx report: error: -o 'foo://r.html' is a URL; tbx report writes a local file (copy it "
     "afterwards)"),
    (["demo", "--no-serve", "--logdir", "foo://x"],
     "tbx demo: error: --logdir 'foo://x' is a URL; the demo writes a local folder (tbx serve "
     "and SummaryWriter take URLs)"),
    (["export", "LOGS", "-o", "x.csv", "--kind", "images"],
     "tbx export: error: -o 'x.csv' looks like a file name; --kind images writes a folder (name "
     "one without the suffix)"),
    (["export", "LOGS", "-o", "FILE", "--kind", "audio"],
     "tbx export: error: -o 'FILE' is a file; --kind audio writes a folder"),
    (["export", "LOGS", "-o", "FILE", "--format", "parquet", "--partition-by", "run"],
     "tbx export: error: -o 'FILE' is a file; --partition-by run writes a folder"),
    (["export", "LOGS", "-o", "NODIR/x.csv"],
     "tbx export: error: -o 'NODIR/x.csv': the folder 'NODIR' does not exist"),
    (["export", "LOGS", "-o", "DIR", "--format", "csv"],
     "tbx export: error: -o 'DIR' is a folder; expected a file name"),
    (["report", "LOGS", "-o", "NODIR/r.html"],
     "tbx report: error: -o 'NODIR/r.html': the folder 'NODIR' does not exist"),
    (["report", "LOGS", "-o", "DIR"], "tbx report: error: -o 'DIR' is a folder; expected a file "
                                      "name"),
    (["demo", "--no-serve", "--logdir", "FILE"],
     "tbx demo: error: --logdir 'FILE' is a file; expected a folder (it is made when missing)"),
])
def test_outputs_are_checked_before_reading(logdir, tmp_path, capsys, monkeypatch, no_reading,
                                            argv, want):
    monkeypatch.chdir(tmp_path)  # a URL taken for a local path would be made here
    (tmp_path / "notevents").write_text("x")
    (tmp_path / "DIR").mkdir()
    places = {"LOGS": str(logdir), "FILE": str(tmp_path / "notevents"),
              "NODIR": str(tmp_path / "nodir"), "DIR": str(tmp_path / "DIR")}

    def put(s):
        for k, v in places.items():
            s = s.replace(k, v)
        return s

    before = sorted(os.listdir(tmp_path))
    code, out, err = run([put(a) for a in argv], capsys)
    assert (code, out, err) == (2, "", put(want) + "\n")
    assert sorted(os.listdir(tmp_path)) == before and os.listdir(tmp_path / "DIR") == []


# ------------------------------------------------------------------ errors while writing


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["export", "-o", "/dev/full", "--format", "csv"],
                                  ["export", "-o", "/dev/full", "--format", "json"],
                                  ["report", "-o", "/dev/full"]])
def test_a_failed_write_is_one_line_naming_o(logdir, capsys, stub_bundle, argv):
    code, out, err = run([argv[0], logdir, *argv[1:]], capsys)
    assert (code, out, err) == (1, "", f"tbx {argv[0]}: error: -o '/dev/full' could not be "
                                       f"written: No space left on device\n")


def test_a_path_the_store_refuses_exits_2(logdir, capsys):
    # fsspec's local files: a folder that cannot be made (/proc takes no new entries)
    code, out, err = run(["export", logdir, "-o", "file:///proc/tbx-x/x.csv"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("tbx export: error: -o 'file:///proc/tbx-x/x.csv' could not be "
                          "written: ") and err.count("\n") == 1 and "Traceback" not in err


def test_a_store_that_cannot_be_reached_exits_1(logdir, capsys, monkeypatch):
    pytest.importorskip("s3fs")
    fsspec = pytest.importorskip("fsspec")
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setitem(fsspec.config.conf, "s3", {
        "endpoint_url": f"http://127.0.0.1:{port}", "skip_instance_cache": True,
        "config_kwargs": {"retries": {"max_attempts": 1}}})
    code, out, err = run(["export", logdir, "-o", "s3://nobucket/x.csv", "-q"], capsys)
    assert (code, out, err) == (
        1, "", "tbx export: error: -o 's3://nobucket/x.csv' could not be written: "
               "EndpointConnectionError: Could not connect to the endpoint URL: "
               f"\"http://127.0.0.1:{port}/nobucket\"\n")


def test_tables_to_a_url_go_through_fsspec(logdir, capsys):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for ext in ("csv", "json"):
        code, out, err = run(["export", logdir, "-o", f"memory://tbx-out/x.{ext}", "-q", "--run",
                              "^a$"], capsys)
        assert (code, out, err) == (0, "", "")
    assert fs.cat_file("/tbx-out/x.csv").decode() == (
        f"run,tag,step,wall_time,value\na,loss,0,{WALL},0.0\na,loss,1,{WALL + 1},0.5\n"
        f"a,loss,2,{WALL + 2},1.0\n")
    assert fs.cat_file("/tbx-out/x.json").decode().startswith(
        f'[\n{{"run": "a", "tag": "loss", "step": 0, "wall_time": {WALL}, "value": 0.0}},\n')
    fs.rm("/tbx-out", recursive=True)


# ------------------------------------------------------------------ nothing of the kind


@pytest.mark.parametrize("argv,want", [
    (["-o", "OUT.csv", "--kind", "histograms", "--tag", "loss"],
     "--tag 'loss' matched no histogram tag; the 2 runs read have 1 histogram tag: w"),
    (["-o", "OUT.csv", "--kind", "text", "--tag", "loss"],
     "--tag 'loss' matched no text tag; the 2 runs read have 1 text tag: t/text_summary"),
    (["-o", "OUT.csv", "--kind", "text", "--run", "^a$", "--tag", "."],
     "--tag '.' matched no text tag; run 'a' holds no text tags"),
    (["-o", "OUT", "--format", "parquet", "--partition-by", "run", "--kind", "histograms",
      "--tag", "loss"],
     "--tag 'loss' matched no histogram tag; the 2 runs read have 1 histogram tag: w"),
    (["-o", "OUT.csv", "--kind", "text", "--run", "^a$"],
     "--run '^a$' matched no run with text; run 'a' holds scalars, histograms"),
    (["-o", "OUT", "--kind", "images", "--run", "."],
     "--run '.' matched no run with images; the 2 runs read hold scalars, histograms, text"),
    (["-o", "OUT", "--kind", "audio"],
     "LOGDIR 'LOGS' holds no audio; its 2 runs hold scalars, histograms, text"),
    (["-o", "OUT.json", "--kind", "hparams"],
     "LOGDIR 'LOGS' holds no hparams; its 2 runs hold scalars, histograms, text"),
])
def test_nothing_of_the_kind_exits_3(logdir, tmp_path, capsys, argv, want):
    out_path = tmp_path / "result"
    argv = [a.replace("OUT", str(out_path)) for a in argv]
    code, out, err = run(["export", logdir, *argv], capsys)
    assert (code, out, err) == (3, "", "tbx export: error: " +
                                want.replace("LOGS", str(logdir)) + "\n")
    assert not glob.glob(str(out_path) + "*")  # nothing written


def test_an_empty_logdir_exits_3_and_a_kind_that_is_there_exits_0(logdir, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(["export", empty, "-o", tmp_path / "x.csv"], capsys)
    assert (code, out, err) == (3, "", f"tbx export: error: LOGDIR {str(empty)!r} holds no "
                                       f"scalars; it holds no event files\n")
    assert not (tmp_path / "x.csv").exists()
    code, out, err = run(["export", logdir, "-o", "-", "--format", "csv", "--kind",
                          "histograms", "--tag", "w"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["run,tag,step,wall_time,min,max,num,sum,sum_squares,"
                                "bucket_limits,bucket_counts", out.splitlines()[1]]
    assert out.splitlines()[1].startswith(f"a,w,0,{WALL},1.0,2.0,3.0,5.0,9.0,")


# ------------------------------------------------------------------ argparse, inspect


@pytest.mark.parametrize("argv,want", [
    (["serve", "LOGS", "--port", "abc"],
     "tbx serve: error: argument --port: invalid int value: 'abc' (see tbx serve --help)"),
    (["report", "LOGS", "-o", "r.html", "--width", "abc"],
     "tbx report: error: argument --width: invalid int value: 'abc' (see tbx report --help)"),
    (["serve", "--memory-budget", "-1G", "LOGS"],
     "tbx serve: error: argument --memory-budget: expected one argument (see tbx serve --help; "
     "a value starting with '-' is written --memory-budget=VALUE)"),
    (["serve", "--memory-budget=-1G", "LOGS"],
     "tbx serve: error: --memory-budget must be >= 0 bytes, got '-1G'"),
])
def test_argparse_errors_are_one_line(logdir, capsys, argv, want):
    code, out, err = run([a.replace("LOGS", str(logdir)) for a in argv], capsys)
    assert (code, out, err) == (2, "", want + "\n")


@pytest.mark.parametrize("argv,start,end", [
    (["export", "LOGS", "-o", "x", "--format", "xml"],
     "tbx export: error: argument --format: invalid choice: 'xml' (choose from ",
     "json) (see tbx export --help)"),
    (["nope"], "tbx: error: argument COMMAND: invalid choice: 'nope' (choose from ",
     "report) (see tbx --help)"),
])
def test_argparse_choice_errors_are_one_line(logdir, capsys, argv, start, end):
    code, out, err = run([a.replace("LOGS", str(logdir)) for a in argv], capsys)
    assert (code, out) == (2, "") and err.count("\n") == 1
    line = err.rstrip("\n").replace("'", "")  # Python 3.12.8 stopped quoting the choices
    assert line.startswith(start.replace("'", "")) and line.endswith(end)


def test_inspect_a_cut_off_tail_alone_exits_0(tmp_path, capsys):
    folder = tmp_path / "logs"
    with tbx.SummaryWriter(folder) as w:
        for i in range(3):
            w.add_scalar("loss", 0.5 * i, i, walltime=WALL + i)
    (path,) = glob.glob(str(folder / "events.out.tfevents.*"))
    size = os.path.getsize(path)
    os.truncate(path, size - 3)
    code, out, err = run(["inspect", folder, "-q"], capsys)
    assert (code, err) == (0, "")
    assert "incomplete last record" in out and "corruption: none" in out
