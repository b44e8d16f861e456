"""Names of event files and logdirs, as the local and object-store listings share them: which
files are event files, which strings are URLs, the order of a run's files, names shown to
people."""

from __future__ import annotations

import re

__all__ = ["is_url", "is_event_file", "file_order", "display_name"]


def is_url(path: str) -> bool:
    """True for ``scheme://...`` strings (fsspec URLs); Windows drive paths are not URLs."""
    head, sep, _ = path.partition("://")
    return bool(sep) and len(head) > 1 and head.replace("+", "").replace("-", "").isalnum()


def is_event_file(name: str) -> bool:
    """True for event file base names: containing ``tfevents``, as TensorBoard's
    ``io_wrapper.IsSummaryEventsFile``."""
    return "tfevents" in name


_DIGITS = re.compile(r"(\d+)")


def file_order(name: str) -> tuple:
    """Sort key of event file names: name order, with runs of digits compared as numbers, so
    ``...<pid>.10`` comes after ``...<pid>.9`` (TensorBoard's fixed-width timestamps sort the
    same either way)."""
    parts = _DIGITS.split(name)
    return tuple((0, int(p), "") if i % 2 else (1, 0, p) for i, p in enumerate(parts))


def display_name(name: str) -> str:
    """``name`` (an OS name decoded with ``surrogateescape``) as printable UTF-8: bytes that are
    not valid UTF-8 become ``\\xNN`` escapes, e.g. ``b"bad\\xff"`` -> ``"bad\\\\xff"``."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
