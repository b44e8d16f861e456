"""A progress bar for long reads: ``rich`` when installed, a plain stderr line otherwise."""

from __future__ import annotations

import contextlib
import sys
import time


@contextlib.contextmanager
def progress_bar(description: str):
    """Context manager yielding ``update(done_bytes, total_bytes)``."""
    try:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
    except ImportError:
        Progress = None  # noqa: N806
    if Progress is None:
        last = [0.0]

        def update(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5 or done >= total:
                last[0] = now
                pct = 100.0 * done / total if total else 100.0
                sys.stderr.write(f"\r{description}: {done / 1e6:.1f}/{total / 1e6:.1f} MB "
                                 f"({pct:.0f}%)")
                sys.stderr.flush()

        try:
            yield update
        finally:
            sys.stderr.write("\n")
        return
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), transient=True,
                  console=None) as prog:
        task = prog.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        yield update
