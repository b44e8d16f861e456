"""``tbx serve`` options that reach the provider: ``--follow-symlinks``, ``--memory-budget``."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import tbx


def test_follow_symlinks_and_memory_budget_reach_the_provider(tmp_path):
    outside = tmp_path / "outside" / "run"
    with tbx.SummaryWriter(str(outside)) as w:
        w.add_scalar("x", 1.0, 0)
    logdir = tmp_path / "logdir"
    with tbx.SummaryWriter(str(logdir / "own")) as w:
        w.add_scalar("x", 2.0, 0)
    (logdir / "linked").symlink_to(outside, target_is_directory=True)
    runs = {}
    for flags in ([], ["--follow-symlinks", "--memory-budget", "64M"]):
        proc = subprocess.Popen([sys.executable, "-m", "tbx.cli", "serve", str(logdir),
                                 "--port", "0", "--reload-interval", "0.2", *flags],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            url = proc.stdout.readline().split(" at ")[1].strip()
            deadline = time.time() + 30
            while True:
                body = json.loads(urllib.request.urlopen(url + "api/runs", timeout=10).read())
                if "own" in body["runs"] or time.time() > deadline:
                    break
                time.sleep(0.1)
            runs[bool(flags)] = body["runs"]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    assert runs == {False: ["own"], True: ["linked", "own"]}


def test_bad_memory_budget(tmp_path, capsys):
    from tbx.cli import main

    assert main(["serve", str(tmp_path), "--memory-budget", "lots"]) == 2
    assert "--memory-budget 'lots' is not a size" in capsys.readouterr().err
