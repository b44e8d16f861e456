"""The tbx command line's user errors (:mod:`tbx._cliutil`): one line ``tbx <command>: error:
<message>`` on stderr and status 2, never a traceback; a run or tag filter that matched nothing
says what exists and exits 3; ``tbx inspect FILE`` reads that file only."""

from __future__ import annotations

import glob
import os

import pytest

import tbx
from tbx.cli import main

WALL = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def run(argv, capsys) -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``tbx argv`` run in this process."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def write(folder, tags=("loss", "acc"), steps=3, text=True):
    with tbx.SummaryWriter(folder) as w:
        for i in range(steps):
            for tag in tags:
                w.add_scalar(tag, 0.5 * i, i, walltime=WALL + i)
        if text:
            w.add_text("t", "hello", 0, walltime=WALL)


@pytest.fixture
def logdir(tmp_path):
    root = tmp_path / "logs"
    write(root / "a")
    write(root / "b" / "c")
    return root


# ------------------------------------------------------------------------ inspect FILE


def test_inspect_a_file_reads_that_file_only(tmp_path, capsys, monkeypatch):
    from tbx.reader._fs import LocalLogdir

    folder = tmp_path / "logs"
    write(folder, tags=("loss",), text=False)
    write(folder / "other")  # another run beside it
    os.symlink("/", folder / "out")  # a walk of the folder would report this link as skipped
    (path,) = glob.glob(str(folder / "events.out.tfevents.*"))
    walked = []
    original = LocalLogdir.walk
    monkeypatch.setattr(LocalLogdir, "walk",
                        lambda self, stack, *a, **k: walked.append(stack[0][0])
                        or original(self, stack, *a, **k))
    code, out, err = run(["inspect", path, "-q"], capsys)
    assert (code, err, walked) == (0, "", [])
    size = os.path.getsize(path)
    assert out == (
        f"run .  (1 file, {size} bytes)\n"
        "  tag   kind            count  steps  wall time (UTC)\n"
        "  loss  scalars/scalar  3      0..2   2023-11-14 22:13:20 .. 2023-11-14 22:13:22\n"
        "corruption: none\n")


@pytest.mark.parametrize("name", ["notes.txt", "fifo"])
def test_inspect_a_file_that_is_not_an_event_file(tmp_path, capsys, name):
    path = tmp_path / name
    if name == "fifo":
        os.mkfifo(path)
    else:
        path.write_text("root:x:0:0:root:/root:/bin/bash\n")
    code, out, err = run(["inspect", path, "-q"], capsys)
    assert (code, out) == (2, "")
    assert err == (f"tbx inspect: error: PATH {str(path)!r} is not an event file: expected a "
                   f"logdir (a folder) or an event file, a file named *tfevents* (such as "
                   f"events.out.tfevents.1700000000.host.1234.0)\n")


# ------------------------------------------------------------------------ user errors


def test_user_errors_are_one_line_with_the_command(logdir, tmp_path, capsys):
    nope = str(tmp_path / "nope")
    afile = tmp_path / "f.txt"
    afile.write_text("x")
    cases = [
        (["export", nope, "-o", "x.csv"], f"tbx export: error: LOGDIR {nope!r} does not exist"),
        (["export", afile, "-o", "x.csv"], f"tbx export: error: LOGDIR {str(afile)!r} is not "
                                           "a folder"),
        (["export", "s3x://b/logs", "-o", "x.csv"],
         "tbx export: error: LOGDIR 's3x://b/logs': unknown URL protocol 's3x' (expected a "
         "local path or an fsspec URL such as s3://bucket/logs)"),
        (["export", logdir, "-o", "x.csv", "--run", "["],
         "tbx export: error: --run '[' is not a valid regular expression: unterminated "
         "character set at position 0"),
        (["export", logdir, "-o", "x.txt"],
         "tbx export: error: --format is needed: cannot tell the format of OUT 'x.txt' from "
         "its extension (use one of csv, parquet, json)"),
        (["inspect", nope], f"tbx inspect: error: PATH {nope!r} does not exist"),
        (["inspect", logdir, "--tag", "("],
         "tbx inspect: error: --tag '(' is not a valid regular expression: missing ), "
         "unterminated subpattern at position 0"),
        (["watch", nope, "--once"], f"tbx watch: error: LOGDIR {nope!r} does not exist"),
        (["watch", afile, "--once"], f"tbx watch: error: LOGDIR {str(afile)!r} is not a "
                                     "folder"),
        (["watch", logdir, "--once", "--interval", "0"],
         "tbx watch: error: --interval must be > 0, got 0.0"),
        (["report", nope, "-o", "r.html"], f"tbx report: error: LOGDIR {nope!r} does not exist"),
        (["report", logdir, "-o", "r.html", "--width", "0"],
         "tbx report: error: --width must be >= 1, got 0"),
        (["serve", nope], f"tbx serve: error: LOGDIR {nope!r} does not exist"),
    ]
    for argv, want in cases:
        code, out, err = run(argv, capsys)
        assert (code, out, err) == (2, "", want + "\n"), argv
    # argparse's own errors: one line of the same form, no usage block
    code, out, err = run(["export", logdir, "-o", "x.csv", "--kind", "nope"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("tbx export: error: argument --kind: invalid choice")
    assert err.endswith(" (see tbx export --help)\n")


# ---------------------------------------------------------------------- nothing matched


@pytest.fixture
def stub_bundle(monkeypatch):
    from tbx.report import build

    monkeypatch.setattr(build, "load_bundle", lambda: ("", ""))


RUNS = "the logdir has 2 runs: a, b/c"
TAGS = "the 2 runs read have 3 tags: acc, loss, t/text_summary"


@pytest.mark.parametrize("argv,want", [
    (["export", "-o", "OUT.csv", "--run", "zzz"],
     f"tbx export: error: --run 'zzz' matched no run; {RUNS}"),
    (["export", "-o", "OUT.csv", "--tag", "zzz"],
     f"tbx export: error: --tag 'zzz' matched no tag; {TAGS}"),
    (["export", "-o", "OUT", "--kind", "images", "--run", "^a$", "--tag", "zzz"],
     "tbx export: error: --tag 'zzz' matched no tag; run 'a' has 3 tags: acc, loss, "
     "t/text_summary"),
    (["export", "-o", "OUT", "--format", "parquet", "--partition-by", "run", "--run", "zzz"],
     f"tbx export: error: --run 'zzz' matched no run; {RUNS}"),
    (["inspect", "--run", "zzz"], f"tbx inspect: error: --run 'zzz' matched no run; {RUNS}"),
    (["inspect", "--tag", "zzz"], f"tbx inspect: error: --tag 'zzz' matched no tag; {TAGS}"),
    (["watch", "--once", "--runs", "zzz"],
     f"tbx watch: error: --runs 'zzz' matched no run; {RUNS}"),
    (["watch", "--once", "--tags", "^t"],  # watch shows scalars only
     "tbx watch: error: --tags '^t' matched no scalar tag; the 2 runs read have 2 scalar "
     "tags: acc, loss"),
    (["report", "-o", "OUT.html", "--runs", "zzz"],
     f"tbx report: error: --runs 'zzz' matched no run; {RUNS}"),
    (["report", "-o", "OUT.html", "--tags", "zzz"],
     f"tbx report: error: --tags 'zzz' matched no tag; {TAGS}"),
])
def test_a_filter_that_matched_nothing_says_what_exists(logdir, tmp_path, capsys, stub_bundle,
                                                        argv, want):
    out_path = tmp_path / "result"
    argv = [a.replace("OUT", str(out_path)) for a in argv]
    code, out, err = run([argv[0], logdir, *argv[1:]], capsys)
    assert (code, out, err) == (3, "", want + "\n")
    assert not glob.glob(str(out_path) + "*")  # nothing written


def test_the_list_of_what_exists_is_cut_short(tmp_path, capsys):
    root = tmp_path / "logs"
    for i in range(12):
        write(root / f"r{i:02d}", tags=("x",), steps=1, text=False)
    code, out, err = run(["export", root, "-o", tmp_path / "o.csv", "--run", "zzz"], capsys)
    assert (code, out) == (3, "")
    assert err == ("tbx export: error: --run 'zzz' matched no run; the logdir has 12 runs: "
                   "r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, ... and 2 more\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(["inspect", empty, "--run", "x"], capsys)
    assert (code, out, err) == (3, "", "tbx inspect: error: --run 'x' matched no run; the "
                                       "logdir holds no event files\n")


def test_filters_that_match_still_exit_0(logdir, tmp_path, capsys):
    code, out, err = run(["export", logdir, "-o", "-", "--format", "csv", "--run", "^a$",
                          "--tag", "loss"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["run,tag,step,wall_time,value", f"a,loss,0,{WALL},0.0",
                                f"a,loss,1,{WALL + 1},0.5", f"a,loss,2,{WALL + 2},1.0"]
