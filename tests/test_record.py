"""tbx.record: framing, CRC and scanning, in both implementations (C kernel and pure Python)."""

from __future__ import annotations

import os
import random
import struct

import google_crc32c
import pytest

from tbx import record
from tbx.record import (
    MAX_RECORD_LENGTH,
    CorruptRecordError,
    frame_record,
    frame_records,
    masked_crc32c,
    scan_records,
)

HAVE_KERNEL = record.use_speedups(True)



def payloads(n=40, seed=0):
    rng = random.Random(seed)
    return [rng.randbytes(rng.randrange(0, 300)) for _ in range(n)]


def test_masked_crc_known_value():
    # TFRecord of an empty payload: the footer is masked_crc32c(b"") = 0xA282EAD8 (crc 0).
    assert masked_crc32c(b"") == 0xA282EAD8
    assert google_crc32c.value(b"123456789") == 0xE3069283


@pytest.mark.skipif(not HAVE_KERNEL, reason="tbx._speedups is not built")
@pytest.mark.parametrize("hw", [True, False])
def test_kernel_crc32c_matches_google(hw):
    from tbx import _speedups

    rng = random.Random(1)
    for n in list(range(0, 40)) + [63, 64, 65, 1000, 4097]:
        data = rng.randbytes(n)
        assert _speedups.crc32c(data, hw=hw) == google_crc32c.value(data)
    # continuation
    a, b = b"hello ", b"world"
    assert _speedups.crc32c(b, _speedups.crc32c(a, hw=hw), hw=hw) == google_crc32c.value(a + b)


def test_frame_records_equals_frame_record(impl):
    ps = payloads()
    assert frame_records(ps) == b"".join(frame_record(p) for p in ps)
    assert frame_records(iter(ps)) == frame_records(ps)
    assert frame_records([]) == b""
    assert frame_records([bytearray(b"ab"), memoryview(b"cd")]) == frame_record(b"ab") + \
        frame_record(b"cd")


def test_frame_layout():
    data = b"payload"
    framed = frame_record(data)
    assert len(framed) == len(data) + 16
    (length,) = struct.unpack("<Q", framed[:8])
    assert length == len(data)
    assert struct.unpack("<I", framed[8:12])[0] == masked_crc32c(framed[:8])
    assert framed[12:-4] == data
    assert struct.unpack("<I", framed[-4:])[0] == masked_crc32c(data)


def test_scan_good(impl):
    ps = payloads()
    buf = frame_records(ps)
    scan = scan_records(buf)
    assert scan.end == len(buf)
    assert [bytes(p) for p in scan.payloads(buf)] == ps
    assert scan.corruptions == []


def test_scan_from_start_offset(impl):
    ps = payloads(5)
    buf = b"junk" + frame_records(ps)
    scan = scan_records(buf, 4)
    assert [bytes(p) for p in scan.payloads(buf)] == ps


def test_cut_at_every_byte(impl):
    ps = payloads(6, seed=3)
    buf = frame_records(ps)
    bounds = [0]
    for p in ps:
        bounds.append(bounds[-1] + len(p) + 16)
    for cut in range(len(buf) + 1):
        scan = scan_records(buf[:cut])
        complete = max(i for i, b in enumerate(bounds) if b <= cut)
        assert scan.end == bounds[complete], cut
        assert [bytes(p) for p in scan.payloads(buf[:cut])] == ps[:complete]
        assert scan.corruptions == []


def test_flipped_data_byte_strict_and_lenient(impl):
    ps = [b"a" * 20, b"b" * 20, b"c" * 20]
    buf = bytearray(frame_records(ps))
    second = 20 + 16
    buf[second + 12 + 5] ^= 0x40  # in the second record's data
    with pytest.raises(CorruptRecordError) as err:
        scan_records(bytes(buf), source="f")
    assert err.value.offset == second and "data CRC" in err.value.reason
    scan = scan_records(bytes(buf), strict=False, source="f", base_offset=100)
    assert [bytes(p) for p in scan.payloads(bytes(buf))] == [ps[0], ps[2]]
    assert len(scan.corruptions) == 1
    c = scan.corruptions[0]
    assert (c.source, c.offset, c.skipped) == ("f", 100 + second, 36)
    assert scan.end == len(buf)


def test_flipped_header_byte_resyncs(impl):
    ps = [b"a" * 20, b"b" * 20, b"c" * 20]
    buf = bytearray(frame_records(ps))
    buf[36 + 2] ^= 0x01  # second record's length field
    scan = scan_records(bytes(buf), strict=False)
    assert [bytes(p) for p in scan.payloads(bytes(buf))] == [ps[0], ps[2]]
    assert scan.corruptions[0].offset == 36
    assert scan.corruptions[0].reason == "header CRC mismatch"
    assert scan.corruptions[0].skipped == 36


def test_huge_length_with_valid_crc_is_corruption(impl):
    header = struct.pack("<Q", 1 << 40)
    bad = header + struct.pack("<I", masked_crc32c(header)) + b"x" * 30
    buf = frame_record(b"first") + bad + frame_record(b"last")
    with pytest.raises(CorruptRecordError, match="length field too large"):
        scan_records(buf)
    scan = scan_records(buf, strict=False)
    assert [bytes(p) for p in scan.payloads(buf)] == [b"first", b"last"]
    assert scan.corruptions[0].reason == "length field too large"
    assert MAX_RECORD_LENGTH == 1 << 31


def test_plausible_length_past_the_end_is_an_incomplete_tail(impl):
    header = struct.pack("<Q", 1000)
    buf = frame_record(b"x") + header + struct.pack("<I", masked_crc32c(header)) + b"abc"
    scan = scan_records(buf)
    assert scan.end == 17 and scan.corruptions == []


def test_corrupt_header_at_the_tail_waits(impl):
    buf = frame_record(b"x") + b"\x01" * 14
    scan = scan_records(buf, strict=False)
    assert scan.end == 17
    assert len(scan.corruptions) == 1 and scan.corruptions[0].skipped == 0


def test_empty_and_short(impl):
    for buf in (b"", b"\x00" * 5, b"\x00" * 11):
        scan = scan_records(buf)
        assert scan.end == 0 and scan.starts == []


def test_random_damage_same_in_both_implementations():
    if not HAVE_KERNEL:
        pytest.skip("tbx._speedups is not built")
    base = frame_records(payloads(60, seed=7))
    rng = random.Random(11)
    for _ in range(200):
        buf = bytearray(base)
        for _ in range(rng.randrange(1, 4)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        buf = bytes(buf[: rng.randrange(len(buf) + 1)])
        record.use_speedups(True)
        a = scan_records(buf, strict=False)
        record.use_speedups(False)
        b = scan_records(buf, strict=False)
        record.use_speedups(True)
        assert (a.starts, a.lengths, a.end, a.corruptions) == (
            b.starts, b.lengths, b.end, b.corruptions)


def test_env_var_disables_kernel(tmp_path):
    import subprocess
    import sys

    code = "import tbx.record as r; print(r.speedups() is None)"
    env = dict(os.environ, TBX_NO_SPEEDUPS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "True"


def _hatch_build():
    import importlib.util

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "hatch_build.py")
    spec = importlib.util.spec_from_file_location("hatch_build", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _FakeHook:
    class app:  # noqa: N801 - mimics hatchling's hook.app
        messages: list = []

        @classmethod
        def display_warning(cls, msg):
            cls.messages.append(msg)


def test_build_without_a_compiler_still_succeeds(monkeypatch):
    pytest.importorskip("hatchling")
    hb = _hatch_build()

    def no_compiler(source, output):
        raise RuntimeError("no C compiler (cc) found")

    monkeypatch.setattr(hb, "compile_extension", no_compiler)
    build_data = {"force_include": {}, "pure_python": True}
    with pytest.warns(UserWarning, match="pure Python"):
        hb.build_speedups(_FakeHook, "standard", build_data)
    assert build_data == {"force_include": {}, "pure_python": True}


def test_build_compiles_a_working_kernel(tmp_path):
    import importlib.machinery
    import importlib.util
    import shutil
    import sysconfig

    pytest.importorskip("hatchling")
    if not shutil.which("cc"):
        pytest.skip("no C compiler")
    hb = _hatch_build()
    out = tmp_path / ("_speedups" + sysconfig.get_config_var("EXT_SUFFIX"))
    hb.compile_extension(hb.SPEEDUPS_SOURCE, str(out))
    loader = importlib.machinery.ExtensionFileLoader("tbx._speedups", str(out))
    spec = importlib.util.spec_from_loader("tbx._speedups", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    assert mod.ABI == record._KERNEL_ABI
    assert mod.frame_records([b"abc"]) == frame_record(b"abc")


def test_find_header_skips_garbage_and_zeros():
    import numpy as np

    from tbx.record import find_header

    rec = frame_record(b"payload")
    rng = np.random.default_rng(0)
    junk = rng.integers(0, 256, 100_000, dtype=np.uint8).tobytes()
    assert find_header(junk + rec) == len(junk)
    assert find_header(bytes(300_000) + rec + rec) == 300_000
    assert find_header(bytes(300_000) + rec + rec, 300_001) == 300_000 + len(rec)
    assert find_header(rec) == 0
    assert find_header(junk) == len(junk) - 11  # a header may still begin in the last 11 bytes
    assert find_header(b"\x00" * 5) == 0 and find_header(b"", 0) == 0
    # a length field >= 2**31 with a valid CRC is no header
    head = struct.pack("<Q", 1 << 40)
    assert find_header(head + struct.pack("<I", masked_crc32c(head)) + rec) == 12
