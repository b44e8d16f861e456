"""The hand-built scalar Event bytes equal protobuf's serialisation of the same Event."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbx.proto.event_pb2 import Event
from tbx.proto.summary_pb2 import Summary
from tbx.wire import ScalarEventEncoder, event_bytes, varint

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def proto_scalar_event(tag, value, step, wall):
    e = Event(wall_time=wall, step=step)
    e.summary.value.add(tag=tag, simple_value=value)
    return e.SerializeToString()


@settings(max_examples=2000, deadline=None)
@given(
    tag=st.text(min_size=1, max_size=300),
    value=st.floats(allow_nan=True, allow_infinity=True),
    step=INT64,
    wall=st.floats(allow_nan=False, allow_infinity=False),
)
def test_scalar_event_bytes_equal_protobuf(tag, value, step, wall):
    enc = ScalarEventEncoder()
    ours = enc.encode(tag, value, step, wall)
    theirs = proto_scalar_event(tag, value, step, wall)
    if math.isnan(value):
        # protobuf keeps the NaN payload too; compare all but the float, then the float's class
        assert ours[:-4] == theirs[:-4]
        assert math.isnan(struct.unpack("<f", ours[-4:])[0])
    else:
        assert ours == theirs
    # and the cached encoder gives the same bytes the second time (cached tag and step)
    assert enc.encode(tag, value, step, wall) == ours


@pytest.mark.parametrize(
    "value",
    [0.0, -0.0, 1.0, -1.5, 1e-45, 1e-46, 3.4028234663852886e38, 3.4028235e38, 3.5e38, 1e300,
     -1e300, math.inf, -math.inf, 123456789.123],
)
@pytest.mark.parametrize("step", [0, 1, 127, 128, 300, 2**31, -1, -(2**63), 2**63 - 1])
def test_edge_values(value, step):
    for wall in (0.0, -0.0, 1.0, 1795945298.5917237):
        assert ScalarEventEncoder().encode("t", value, step, wall) == proto_scalar_event(
            "t", value, step, wall
        )


@settings(max_examples=500, deadline=None)
@given(step=INT64, wall=st.floats(allow_nan=False), text=st.binary(max_size=400))
def test_event_bytes_equal_protobuf(step, wall, text):
    s = Summary()
    s.value.add(tag="x", tensor={"string_val": [text]})
    ours = event_bytes(wall, step, s.SerializeToString())
    assert ours == Event(wall_time=wall, step=step, summary=s).SerializeToString()


def test_varint():
    assert varint(0) == b"\x00"
    assert varint(1) == b"\x01"
    assert varint(300) == b"\xac\x02"
    assert varint(-1) == b"\xff" * 9 + b"\x01"
