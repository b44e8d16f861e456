"""Argument checks shared by the ``tbx`` subcommands (:mod:`tbx.cli`, :mod:`tbx.export`)."""

from __future__ import annotations

import os
import sys

__all__ = ["UsageError", "want_progress", "check_path", "check_regex"]


class UsageError(Exception):
    """A bad argument; the message names it (``tbx`` exits with status 2)."""


def want_progress(args) -> bool:
    """Show a progress bar: not ``--quiet`` and stderr is a terminal."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def check_path(path: str, name: str) -> None:
    """Raises UsageError when the local ``path`` does not exist (URLs are not checked)."""
    from tbx.reader._fs import is_url

    if not is_url(path) and not os.path.exists(path):
        raise UsageError(f"{name} {path!r} does not exist")


def check_regex(pattern: str | None, name: str) -> None:
    """Raises UsageError when ``pattern`` is not a valid regular expression."""
    import re

    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{name} {pattern!r} is not a valid regular expression: {exc}") from None
