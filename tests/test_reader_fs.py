"""File discovery: what cannot be read is skipped and reported while every other run is read;
names that are not UTF-8 work; symbolic links never lead out of the logdir unless asked;
pseudo file systems are never walked.

Mode 000 means nothing to root, so as root the permission tests run in a forked child that
drops to the ``nobody`` user (uid/gid 65534) first; as another user they run in-process.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import shutil
import stat
import tempfile
import warnings

import pytest

import tbx
from tbx.cli import main
from tbx.reader import LogdirProvider
from tbx.reader._fs import pseudo_devices
from tbx.reader._names import display_name

NOBODY = 65534
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # skipped paths warn


def log_run(logdir, name, steps, offset=0.0):
    with tbx.SummaryWriter(os.path.join(logdir, name)) as w:
        for i in steps:
            w.add_scalar("loss", offset + i, i, walltime=1000.0 + i)
    (path,) = [os.path.join(logdir, name, f) for f in os.listdir(os.path.join(logdir, name))]
    return path


def unprivileged(fn):
    """``fn()`` run where file modes apply: in-process for a non-root user; as root, in a
    forked child that becomes ``nobody`` (its result comes back pickled)."""
    if os.geteuid() != 0:
        return fn()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(r)
            try:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            except PermissionError as exc:
                out = ("skip", f"cannot drop root privileges here: {exc}")
            else:
                try:
                    out = ("ok", fn())
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    import traceback

                    out = ("error", "".join(traceback.format_exception(exc)))
            with os.fdopen(w, "wb") as f:
                pickle.dump(out, f)
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    status, value = pickle.loads(data)
    if status == "skip":
        pytest.skip(value)
    if status == "error":
        pytest.fail(f"in the unprivileged process:\n{value}")
    return value


@pytest.fixture
def shared_dir():
    """A fresh folder every user can enter (tmp_path lives under a root-only folder)."""
    d = tempfile.mkdtemp(prefix="tbx-perm-")
    os.chmod(d, 0o755)
    yield d
    for folder, dirs, files in os.walk(d):
        for name in dirs + files:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(folder, name), 0o755)
    shutil.rmtree(d)


def _warm_up(tmp_path):
    """Import everything the child needs while it still can (root's site-packages)."""
    log_run(tmp_path, "w", range(2))
    tbx.read(tmp_path).scalars  # noqa: B018 - imports pandas and the decoders
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(["inspect", str(tmp_path), "-q"])
        main(["export", str(tmp_path), "-o", "-", "--format", "csv", "-q"])


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def test_unreadable_event_file_is_skipped_reported_and_read_once_readable(
        shared_dir, tmp_path, impl):
    _warm_up(tmp_path)
    log_run(shared_dir, "a", range(3))
    bad = log_run(shared_dir, "b", range(4))
    log_run(shared_dir, "c", range(5), offset=0.5)
    os.chown(bad, NOBODY, NOBODY)  # its owner (the child) may make it readable again later
    os.chmod(bad, 0)
    reason = "cannot read event file: [Errno 13] Permission denied"

    def body():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            p = LogdirProvider(shared_dir)
            ch = p.refresh()
            again = p.refresh()
            df = tbx.read(shared_dir).scalars
        got = {
            "runs": p.runs(),
            "a": p.scalars("a", "loss").value.tolist(),
            "c": p.scalars("c", "loss").value.tolist(),
            "b tags": p.tags("b"),
            "problems": [(x.path, x.reason) for x in p.problems()],
            "new problems": [(x.path, x.reason) for x in ch.problems],
            "again": [(x.path, x.reason) for x in again.problems],
            "warnings": [str(w.message) for w in caught],
            "frame": sorted(zip(df.run.astype(str), df.step.tolist(), df.value.tolist(),
                                strict=True)),
            "inspect": _cli(["inspect", shared_dir, "-q"]),
            "export": _cli(["export", shared_dir, "-o", "-", "--format", "csv", "-q"]),
        }
        os.chmod(bad, 0o644)  # readable again: the next refresh reads it
        ch = p.refresh()
        got["after"] = (p.scalars("b", "loss").value.tolist(), p.problems(),
                        ch.new_series, ch.appended_series)
        return got

    got = unprivileged(body)
    assert got["runs"] == ["a", "b", "c"]
    assert got["a"] == [0.0, 1.0, 2.0] and got["c"] == [0.5, 1.5, 2.5, 3.5, 4.5]
    assert got["b tags"] == {}
    assert got["problems"] == [(bad, reason)]
    assert got["new problems"] == [(bad, reason)] and got["again"] == []  # reported once
    assert got["warnings"].count(f"tbx: skipped {bad}: {reason}") == 2  # provider + tbx.read
    assert got["frame"] == [("a", i, float(i)) for i in range(3)] + \
        [("c", i, i + 0.5) for i in range(5)]
    status, out, _ = got["inspect"]
    assert status == 1
    assert "run a  (1 file" in out and "run c  (1 file" in out
    assert f"skipped: 1 path(s) that cannot be read\n  {bad}: {reason}\n" in out
    assert "incomplete last record" not in out
    status, out, err = got["export"]
    assert status == 0
    assert out.splitlines()[1:] == [f"a,loss,{i},{1000.0 + i},{float(i)}" for i in range(3)] + \
        [f"c,loss,{i},{1000.0 + i},{i + 0.5}" for i in range(5)]
    assert err == f"tbx export: warning: tbx: skipped {bad}: {reason}\n"
    values, problems, new_series, appended = got["after"]
    assert values == [0.0, 1.0, 2.0, 3.0] and problems == []
    assert new_series == [("b", "loss", "scalars")]
    assert appended == {("b", "loss", "scalars"): 4}


def test_folder_that_cannot_be_listed_is_skipped_and_reported(shared_dir, tmp_path, impl):
    _warm_up(tmp_path)
    log_run(shared_dir, "a", range(3))
    log_run(shared_dir, "b", range(4))
    log_run(shared_dir, "c", range(5))
    os.chmod(os.path.join(shared_dir, "b"), 0)

    def body():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = LogdirProvider(shared_dir)
            p.refresh()
        return (p.runs(), [len(p.scalars(r, "loss")) for r in p.runs()],
                [(x.path, x.reason) for x in p.problems()])

    runs, counts, problems = unprivileged(body)
    assert runs == ["a", "c"] and counts == [3, 5]
    assert problems == [(os.path.join(shared_dir, "b"),
                         "cannot list folder: [Errno 13] Permission denied")]


def test_run_folder_name_that_is_not_utf8(tmp_path, impl):
    bad_dir = os.path.join(os.fsencode(tmp_path), b"bad\xff")
    os.makedirs(bad_dir)
    log_run(tmp_path, os.fsdecode(bad_dir), range(3))
    log_run(tmp_path, "good", range(2), offset=0.25)
    p = LogdirProvider(tmp_path)
    p.refresh()
    assert p.runs() == ["bad\\xff", "good"]
    s = p.scalars("bad\\xff", "loss")
    assert s.step.tolist() == [0, 1, 2] and s.value.tolist() == [0.0, 1.0, 2.0]
    (path, size, offset), = p.files("bad\\xff")
    assert os.fsencode(path).startswith(bad_dir) and size == offset == os.path.getsize(path)
    assert p.problems() == [] and p.corruptions() == []
    df = tbx.read(tmp_path).scalars
    assert sorted(zip(df.run.astype(str), df.step.tolist(), df.value.tolist(), strict=True)) == \
        [("bad\\xff", i, float(i)) for i in range(3)] + [("good", i, i + 0.25) for i in range(2)]
    status, out, err = _cli(["export", str(tmp_path), "-o", "-", "--format", "csv", "-q"])
    assert status == 0 and err == ""
    assert out.splitlines() == ["run,tag,step,wall_time,value"] + \
        [f"bad\\xff,loss,{i},{1000.0 + i},{float(i)}" for i in range(3)] + \
        [f"good,loss,{i},{1000.0 + i},{i + 0.25}" for i in range(2)]
    status, out, _ = _cli(["inspect", str(tmp_path), "-q"])
    assert status == 0 and "run bad\\xff  (1 file" in out


def test_display_name():
    assert display_name("plain/ü") == "plain/ü"
    assert display_name(os.fsdecode(b"bad\xff/x\xfe")) == "bad\\xff/x\\xfe"


def _outside_run(tmp_path):
    log_run(tmp_path / "outside", "run", range(2))
    logdir = tmp_path / "logdir"
    log_run(logdir, "a", range(3))
    return logdir


def test_link_to_a_folder_outside_the_logdir_is_not_followed(tmp_path, impl):
    logdir = _outside_run(tmp_path)
    os.symlink(tmp_path / "outside", logdir / "linked")
    p = LogdirProvider(logdir)
    ch = p.refresh()
    assert p.runs() == ["a"]
    assert [(x.path, x.reason) for x in ch.problems] == [(
        str(logdir / "linked"),
        f"symbolic link to {str(tmp_path / 'outside')!r} leads out of the logdir (not followed)")]
    p = LogdirProvider(logdir, follow_symlinks=True)
    p.refresh()
    assert p.runs() == ["a", "linked/run"] and p.problems() == []
    assert p.scalars("linked/run", "loss").value.tolist() == [0.0, 1.0]


def test_link_named_like_an_event_file_to_a_file_outside(tmp_path, impl):
    logdir = _outside_run(tmp_path)
    (target,) = (tmp_path / "outside" / "run").iterdir()
    link = logdir / "a" / "events.out.tfevents.9999999999.link"
    os.symlink(target, link)
    p = LogdirProvider(logdir)
    p.refresh()
    assert p.scalars("a", "loss").value.tolist() == [0.0, 1.0, 2.0]
    assert [x.path for x in p.problems()] == [str(link)]
    p = LogdirProvider(logdir, follow_symlinks=True)
    p.refresh()
    assert p.scalars("a", "loss").value.tolist() == [0.0, 1.0, 2.0, 0.0, 1.0]


def test_links_inside_the_logdir_are_followed_once(tmp_path, impl):
    logdir = _outside_run(tmp_path)
    os.symlink(logdir / "a", logdir / "b_alias")  # the same folder twice
    os.symlink("..", logdir / "a" / "loop")
    p = LogdirProvider(logdir)
    p.refresh()
    assert p.runs() == ["a"] and p.problems() == []


def test_pseudo_file_systems_are_never_walked(tmp_path, impl, monkeypatch):
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    logdir = _outside_run(tmp_path)
    os.symlink("/proc", logdir / "proc")
    os.symlink("/", logdir / "root")
    real_scandir = os.scandir

    def scandir(path="."):
        if not os.path.realpath(path).startswith(str(tmp_path)):
            raise AssertionError(f"walked {path}, outside the logdir")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    p = LogdirProvider(logdir)
    p.refresh()
    assert p.runs() == ["a"]
    assert sorted(x.path for x in p.problems()) == [str(logdir / "proc"), str(logdir / "root")]
    monkeypatch.setattr(os, "scandir", real_scandir)
    assert os.stat("/proc").st_dev in pseudo_devices()
    assert os.stat(tmp_path).st_dev not in pseudo_devices()


def test_followed_links_still_skip_pseudo_file_systems(tmp_path, impl, monkeypatch):
    if os.stat("/proc").st_dev not in pseudo_devices():
        pytest.skip("no proc mount in /proc/self/mountinfo")
    logdir = _outside_run(tmp_path)
    os.symlink("/proc", logdir / "proc")
    os.symlink("/sys", logdir / "sys")
    real_scandir = os.scandir
    walked = []

    def scandir(path="."):
        walked.append(os.path.realpath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    p = LogdirProvider(logdir, follow_symlinks=True)
    p.refresh()
    assert p.runs() == ["a"] and p.problems() == []
    assert not [w for w in walked if w.startswith(("/proc", "/sys"))]


def test_symlinked_logdir_itself_is_fine(tmp_path, impl):
    logdir = _outside_run(tmp_path)
    os.symlink(logdir, tmp_path / "alias")
    p = LogdirProvider(tmp_path / "alias")
    p.refresh()
    assert p.runs() == ["a"] and p.problems() == []
    assert stat.S_ISLNK(os.lstat(tmp_path / "alias").st_mode)
