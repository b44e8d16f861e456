"""``add_scalars`` and ``export_scalars_to_json``: the values of ``add_scalars``, read back from
the event files (:class:`ScalarsMethods` is a mixin of :class:`tbx.SummaryWriter`).

tensorboardX keeps every value ``add_scalars`` logs in a dict (``scalar_dict``) until
``export_scalars_to_json`` writes and clears it, so a long run's memory grows without bound. tbx
keeps only, per sub-run folder, the main tags written into it and, per event file, the byte
offset up to which the last export read; the export reads the records written since then from
the files themselves. Memory is flat for any run length (the export itself reads in blocks of
:data:`BLOCK` bytes and writes the JSON as it goes).

The JSON has tensorboardX's shape and formatting (``json.dump``'s defaults)::

    {"<logdir>/<main_tag>/<key>": [[wall_time, step, value], ...], ...}

keys in the order their first value arrived since the last export, rows in logging order. The
values are those in the event files: ``value`` is the float32 ``simple_value`` TensorBoard shows
(tensorboardX exports the float64 it was given: 0.1 is 0.1 there and 0.10000000149011612 here),
``step`` is the step written (0 when none was given; tensorboardX writes ``null``) and
``wall_time`` the float64 wall time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from tbx.convert import check_tag, to_float
from tbx.event_file import is_url
from tbx.record import scan_records

__all__ = ["ScalarsExport", "ScalarsMethods", "BLOCK"]

#: bytes read at a time from an event file by an export
BLOCK = 1 << 22


def _read_from(path: str, offset: int) -> Iterator[tuple[bytes | memoryview, int]]:
    """Each complete record's payload at or after byte ``offset`` of ``path``, with the offset
    just past it. Stops at the end of the last complete record (a record still being written is
    left for the next export). Reads ``BLOCK`` bytes at a time (more for a larger record)."""
    if is_url(path):
        import fsspec

        with fsspec.open(path, "rb") as f:
            data = f.read()  # a segment: one flush's worth
        scan = scan_records(data, offset, source=path, strict=False)
        for payload, start, length in zip(
            scan.payloads(data), scan.starts, scan.lengths, strict=True
        ):
            yield payload, start + length + 4
        return
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, after the generator is consumed
    except FileNotFoundError:
        return  # removed since it was written: nothing to read back
    with f:
        f.seek(offset)
        carry = b""
        want = BLOCK
        while True:
            block = f.read(want)
            if not block:
                return
            buf = carry + block if carry else block
            scan = scan_records(buf, source=path, strict=False, base_offset=offset)
            view = memoryview(buf)
            for start, length in zip(scan.starts, scan.lengths, strict=True):
                yield view[start : start + length], offset + start + length + 4
            offset += scan.end
            carry = bytes(view[scan.end :])
            view.release()
            # a record longer than the block: read enough for it next time
            want = max(BLOCK, len(carry) * 2) if not scan.starts else BLOCK


class ScalarsExport:
    """What :meth:`tbx.SummaryWriter.export_scalars_to_json` needs to know: the sub-run folders
    ``add_scalars`` wrote to (with their main tags) and how far each file was exported."""

    def __init__(self) -> None:
        self._tags: dict[str, set[str]] = {}  # sub-run folder -> main tags written into it
        self._pending: dict[str, None] = {}  # folders with values since the last export
        self._offsets: dict[str, int] = {}  # event file -> bytes already exported

    def note(self, folder: str, main_tag: str) -> None:
        """``add_scalars`` wrote a value tagged ``main_tag`` into the sub-run ``folder``."""
        if folder not in self._pending:
            self._pending[folder] = None
            tags = self._tags.get(folder)
            if tags is None:
                self._tags[folder] = {main_tag}
            else:
                tags.add(main_tag)
        elif main_tag not in self._tags[folder]:
            self._tags[folder].add(main_tag)

    def _rows(self, folder: str, files: list[str], advance: bool) -> Iterator[list]:
        from tbx.proto.event_pb2 import Event

        tags = self._tags.get(folder, ())
        for path in files:
            start = self._offsets.get(path, 0)
            end = start
            for payload, past in _read_from(path, start):
                end = past
                event = Event.FromString(payload)
                if not event.HasField("summary"):
                    continue
                for v in event.summary.value:
                    if v.tag in tags and v.WhichOneof("value") == "simple_value":
                        yield [event.wall_time, event.step, v.simple_value]
            if advance:
                self._offsets[path] = end

    def write(self, f, files_of, advance: bool = True) -> None:
        """Write the JSON of the values since the last export to the text file ``f``;
        ``files_of(folder)`` lists the event files of a sub-run folder in write order (after a
        flush). With ``advance``, the next export starts after them."""
        f.write("{")
        first_key = True
        for folder in list(self._pending):
            rows = self._rows(folder, files_of(folder), advance)
            row = next(rows, None)
            if row is None:
                continue
            f.write(("" if first_key else ", ") + json.dumps(folder) + ": [" + json.dumps(row))
            first_key = False
            for row in rows:
                f.write(", " + json.dumps(row))
            f.write("]")
        f.write("}")
        if advance:
            self._pending.clear()

    def as_dict(self, files_of) -> dict[str, list[list]]:
        """The values since the last export (what :meth:`write` would write), as a dict."""
        import io

        out = io.StringIO()
        self.write(out, files_of, advance=False)
        return json.loads(out.getvalue())

    def mark_exported(self, files_of) -> None:
        """Forget the values logged so far (the next export starts after them)."""
        with open(os.devnull, "w") as f:
            self.write(f, files_of)


class ScalarsMethods:
    """Mixin of :class:`tbx.SummaryWriter`: ``add_scalars`` and its JSON export. Relies on the
    writer's ``_step_wall``, ``_sub_run``, ``_sub_run_writer``, ``all_writers``, ``_encoder``
    and ``_scalars_export`` (a :class:`ScalarsExport`)."""

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log several numbers in one chart: each key of ``tag_scalar_dict`` becomes a sub-run
        ``<logdir>/<main_tag>/<key>`` whose series is tagged ``main_tag`` (tensorboardX's
        layout). :meth:`export_scalars_to_json` reads the values back from these files (tbx
        keeps no copy in memory).

        Raises:
            TypeError: ``tag_scalar_dict`` not a dict, a key not a str, a value not a number.
            ValueError: empty ``main_tag`` or key; a ``..`` component or an absolute path in
                either (the sub-run would leave the run's folder).
        """
        check_tag(main_tag, "main_tag")
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(
                f"tag_scalar_dict must be a dict of str to number, got "
                f"{type(tag_scalar_dict).__name__}"
            )
        values = {
            check_tag(k, "tag_scalar_dict key"): to_float(v, f"tag_scalar_dict[{k!r}]")
            for k, v in tag_scalar_dict.items()
        }
        step, wall = self._step_wall(global_step, walltime)
        sub_runs = {  # every argument checked before anything is written
            tag: self._sub_run(("main_tag", main_tag), ("tag_scalar_dict key", tag))
            for tag in values
        }
        if not self._write_to_disk:
            return
        note = self._scalars_export.note
        for tag, value in values.items():
            fw_tag = sub_runs[tag]
            fw = self.all_writers.get(fw_tag) or self._sub_run_writer(fw_tag)
            fw.event_writer.add_event_bytes(self._encoder.encode(main_tag, value, step, wall))
            note(fw_tag, main_tag)

    def _scalars_files(self, folder: str) -> list[str]:
        fw = self.all_writers.get(folder)
        if fw is None:
            return []
        fw.flush()
        return fw.event_writer.written_files()

    def export_scalars_to_json(self, path: str | os.PathLike) -> None:
        """Write the values logged by :meth:`add_scalars` since the last export to ``path`` as
        JSON ``{"<logdir>/<main_tag>/<key>": [[wall_time, step, value], ...], ...}``
        (tensorboardX's shape and formatting), then start the next export after them.

        The values are read back from this writer's event files, so memory stays flat however
        long the run: ``value`` is the float32 written (what TensorBoard shows; tensorboardX
        exports the float64 it was given), ``step`` the step written (0 if none was given;
        tensorboardX writes ``null``). With ``write_to_disk=False`` nothing was written and
        the JSON is ``{}``. Format details: :mod:`tbx.writer_scalars`.

        Raises:
            OSError: ``path`` cannot be written, or a flush of the sub-runs failed.
        """
        with open(path, "w", encoding="utf-8") as f:
            self._scalars_export.write(f, self._scalars_files)

    @property
    def scalar_dict(self) -> dict[str, list[list[float]]]:
        """The values :meth:`export_scalars_to_json` would write now, read back from the files
        (tensorboardX keeps this dict in memory; tbx builds it on each access). Assigning
        ``{}`` forgets them, as tensorboardX's ``writer.scalar_dict = {}`` does."""
        return self._scalars_export.as_dict(self._scalars_files)

    @scalar_dict.setter
    def scalar_dict(self, value: dict) -> None:
        if value != {}:
            raise ValueError(
                "scalar_dict is read back from the event files: the only value it can be set "
                f"to is {{}} (forget the values logged so far), got {type(value).__name__}"
            )
        self._scalars_export.mark_exported(self._scalars_files)
