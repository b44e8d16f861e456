"""The tag of a large record from its first bytes, so a read that selects tags can seek past the
records of other tags without reading them (:func:`tbx.reader._scan.scan_file`).

An Event as every writer serializes it (fields in number order, ``event.proto``) starts with
``wall_time`` (field 1, fixed64), ``step`` (2, varint) and then ``summary`` (5, length-delimited);
a ``Summary`` is a list of ``value`` (1), and a ``Summary.Value`` starts with its ``tag`` (1, a
string). For an image, audio clip, histogram or tensor the tag thus sits within the first few
dozen bytes of a record of kilobytes to megabytes.

Only an Event that is certainly one Value of one tag is judged: the summary must be its last
field and span the rest of the record, and the Value must span the whole summary. Anything else
(several Values, as TensorFlow's merged summaries write, other Event fields such as graphs or
``file_version``, an unusual field order) is read in full. A Value written with its ``tag`` field
twice (protobuf keeps the last; no writer does this) is judged by the first.
"""

from __future__ import annotations

from tbx.reader._events_py import varint

__all__ = ["PREFIX", "summary_tag"]

#: Bytes of a record's data read to find its tag: the Event's header fields take at most 40
#: bytes, the rest is the tag (a tag longer than about 200 bytes makes its record be read in full).
PREFIX = 256


def summary_tag(prefix: bytes, length: int) -> bytes | None:
    """The tag of the record whose data (an Event of ``length`` bytes) starts with ``prefix``,
    when that Event is a Summary of exactly one Value (see the module docstring); ``None`` when
    it is anything else or ``prefix`` is too short to tell.

    Example: ``summary_tag(b"\\x10\\x07\\x2a\\x08\\x0a\\x06\\x0a\\x04loss", 12)`` is
    ``b"loss"`` (step 7, one Value with tag ``loss`` and nothing else).
    """
    b = prefix
    try:
        pos = 0
        if b[0] == 0x09:  # wall_time
            pos = 9
        if b[pos] == 0x10:  # step
            _, pos = varint(b, pos + 1)
        if b[pos] != 0x2A:  # summary
            return None
        size, pos = varint(b, pos + 1)
        if pos + size != length:  # not the Event's last field
            return None
        if b[pos] != 0x0A:  # Summary.value
            return None
        size, pos = varint(b, pos + 1)
        if pos + size != length:  # more than one Value
            return None
        if b[pos] != 0x0A:  # Summary.Value.tag comes first
            return None
        size, pos = varint(b, pos + 1)
        if pos + size > min(len(b), length):
            return None
        return bytes(b[pos : pos + size])
    except (IndexError, ValueError):
        return None
