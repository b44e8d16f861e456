"""Argument checks and error reporting shared by the ``tbx`` subcommands (:mod:`tbx.cli`,
:mod:`tbx.export`, :mod:`tbx.watch.cli`, :mod:`tbx.report.cli`).

Every user error is one line on stderr, ``tbx <command>: error: <message>`` (:func:`error`; the
message names the argument and what is accepted), never a traceback; argparse's own errors too
(:class:`Parser`). Exit status: 2 for a bad argument or path, 1 when writing an output failed for
another reason (a store that cannot be reached, a full disk: :class:`OutputFailed`),
:data:`NOTHING_MATCHED` (3) when a run or tag filter matched nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

__all__ = ["UsageError", "NothingMatched", "OutputFailed", "NOTHING_MATCHED", "Parser",
           "error", "want_progress", "check_path", "check_output", "check_regex",
           "check_matched", "output_failed"]

#: Exit status of ``tbx export | inspect | report | watch --once`` when a run or tag filter
#: matched nothing.
NOTHING_MATCHED = 3
#: Names listed at most in a "matched nothing" message.
SHOWN = 10


class UsageError(Exception):
    """A bad argument; the message names it (``tbx`` exits with status 2)."""


class NothingMatched(LookupError):
    """A run or tag filter matched nothing (``tbx`` exits with :data:`NOTHING_MATCHED`).

    Attributes:
        what: ``"run"`` or ``"tag"``: which filter.
        pattern: the filter.
        have: what there is, in short (at most :data:`SHOWN` names).

    ``str()`` is ``"<option> '<pattern>' matched no <noun>; <have>"`` with the option name the
    raiser gave (or the ``message`` given); :meth:`said_as` words it with another option name.
    """

    def __init__(self, what: str, pattern: str, have: str, option: str, noun: str,
                 message: str | None = None):
        self.what, self.pattern, self.have, self.noun = what, pattern, have, noun
        super().__init__(message or self.said_as(option))

    def said_as(self, option: str) -> str:
        return f"{option} {self.pattern!r} matched no {self.noun}; {self.have}"


class OutputFailed(Exception):
    """Writing an output failed; the message names the argument and the cause.

    Attributes:
        status: the exit status: 2 when the path is at fault (missing folder or bucket, no
            permission, a folder where a file goes), else 1 (:func:`output_failed`).
    """

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


#: Errors that say the output path itself is wrong (exit status 2, as a bad argument).
_PATH_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
                FileExistsError)


def output_failed(exc: BaseException, path: str, name: str = "-o") -> OutputFailed:
    """The :class:`OutputFailed` for ``exc`` raised while writing ``path`` (given as option
    ``name``): ``"<name> '<path>' could not be written: <cause>"``."""
    if isinstance(exc, OSError) and exc.strerror:
        cause = exc.strerror
        if exc.filename is not None and os.fspath(exc.filename) != path:
            cause += f": {os.fspath(exc.filename)!r}"
    elif isinstance(exc, OSError):
        cause = str(exc) or type(exc).__name__
    else:
        cause = f"{type(exc).__name__}: {exc}"
    return OutputFailed(f"{name} {path!r} could not be written: {cause}",
                        2 if isinstance(exc, _PATH_ERRORS) else 1)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``<prog>: error: <message> (see <prog>
    --help)``, exit status 2 (no usage block); its subparsers are Parsers too."""

    def error(self, message: str):
        hint = ""
        m = re.match(r"argument (\S+): expected one argument$", message)
        if m:  # argparse reads a value starting with '-' as an option
            opt = m.group(1).split("/")[-1]
            hint = f"; a value starting with '-' is written {opt}=VALUE"
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help{hint})\n")


def error(command: str, message: str, status: int = 2) -> int:
    """Print ``tbx <command>: error: <message>`` on stderr; returns ``status``."""
    print(f"tbx {command}: error: {message}", file=sys.stderr)
    return status


def want_progress(args) -> bool:
    """Show a progress bar: not ``--quiet`` and stderr is a terminal."""
    return not getattr(args, "quiet", False) and sys.stderr.isatty()


def check_path(path: str, name: str, folder: bool = False) -> None:
    """Raises UsageError when the local ``path`` does not exist (or, with ``folder``, is not a
    folder), or when the URL ``path``'s protocol is unknown to fsspec or its package is not
    installed (the URL itself is checked when read)."""
    from tbx.reader._names import is_url

    if is_url(path):
        _check_protocol(path, name)
    elif not os.path.exists(path):
        raise UsageError(f"{name} {path!r} does not exist")
    elif folder and not os.path.isdir(path):
        raise UsageError(f"{name} {path!r} is not a folder")


def _check_protocol(path: str, name: str) -> None:
    protocol = path.partition("://")[0]
    try:
        import fsspec

        fsspec.get_filesystem_class(protocol)
    except ImportError as exc:
        raise UsageError(f"{name} {path!r} needs a package that is not installed: {exc} "
                         f"(pip install 'tbx[fsspec]', 'tbx[s3]' or 'tbx[gcs]')") from None
    except ValueError:
        raise UsageError(f"{name} {path!r}: unknown URL protocol {protocol!r} (expected a "
                         f"local path or an fsspec URL such as s3://bucket/logs)") from None


#: Suffixes that make an output look like a file name (refused where a folder is written).
FILE_SUFFIXES = frozenset({".csv", ".json", ".parquet", ".html", ".htm", ".txt", ".tsv",
                           ".zip", ".gz"})


def check_output(path: str, name: str = "-o", *, folder: str | None = None,
                 url: str | None = None) -> None:
    """Check an output path before anything is read.

    Args:
        path: the output (a local path or, where ``url`` is None, an fsspec URL).
        name: the option, in messages.
        folder: None when ``path`` is a file; else what writes a folder there (e.g.
            ``"--kind images"``), for the messages.
        url: None when URLs are accepted; else why not (e.g. ``"tbx report writes a local
            file"``).

    Raises:
        UsageError: a URL where ``url`` says none is accepted, or of an unknown protocol or
            whose package is missing; a file output that is a folder or whose folder does not
            exist; a folder output that is a file or looks like a file name (its suffix is in
            :data:`FILE_SUFFIXES`).
    """
    from tbx.reader._names import is_url

    if is_url(path):
        if url is not None:
            raise UsageError(f"{name} {path!r} is a URL; {url}")
        _check_protocol(path, name)
        return
    if folder is None:
        if os.path.isdir(path):
            raise UsageError(f"{name} {path!r} is a folder; expected a file name")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise UsageError(f"{name} {path!r}: the folder {parent!r} does not exist")
    elif os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{name} {path!r} is a file; {folder} writes a folder")
    elif (not os.path.exists(path) and os.path.splitext(path)[1].lower() in FILE_SUFFIXES
          and not (folder.startswith("--partition-by") and path.lower().endswith(".parquet"))):
        # (a partitioned Parquet dataset is a folder often named like x.parquet, as Spark does)
        raise UsageError(f"{name} {path!r} looks like a file name; {folder} writes a folder "
                         f"(name one without the suffix)")


def check_regex(pattern: str | None, name: str) -> None:
    """Raises UsageError when ``pattern`` is not a valid regular expression."""
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{name} {pattern!r} is not a valid regular expression: {exc}") from None


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f", ... and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def check_matched(names: dict[str, list[str]], runs: list[str], tags_found: bool, *,
                  run_filter: str | None = None, tag_filter: str | None = None,
                  run_option: str = "--run", tag_option: str = "--tag",
                  noun: str = "tag") -> None:
    """Raise :class:`NothingMatched` when a filter was given and matched nothing.

    Args:
        names: every run there is -> the tags (``noun``) it holds, filters or not
            (:meth:`tbx.reader.provider.LogdirProvider.all_names`).
        runs: the runs the run filter kept.
        tags_found: whether the tag filter kept any tag of those runs.
        run_filter, tag_filter: the filters given (``None``: none).
        run_option, tag_option: their names in the message; noun: what a tag is called.

    Raises:
        NothingMatched: ``run_filter`` was given and ``runs`` is empty (the message lists the
            runs there are), or ``tag_filter`` was given and no tag of ``runs`` matched (it lists
            their tags).
    """
    if run_filter is not None and not runs:
        listed = sorted(names)
        have = (f"the logdir has {_count(len(listed), 'run')}: {_some(listed)}" if listed
                else "the logdir holds no event files")
        raise NothingMatched("run", run_filter, have, run_option, "run")
    if tag_filter is not None and runs and not tags_found:
        seen = sorted({t for r in runs for t in names.get(r, [])})
        where = f"run {runs[0]!r}" if len(runs) == 1 else f"the {len(runs)} runs read"
        plural = noun + "s"
        have = (f"{where} {'has' if len(runs) == 1 else 'have'} "
                f"{_count(len(seen), noun)}: {_some(seen)}" if seen
                else f"{where} {'holds' if len(runs) == 1 else 'hold'} no {plural}")
        raise NothingMatched("tag", tag_filter, have, tag_option, noun)
