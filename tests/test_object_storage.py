"""Logging to object storage through fsspec: a real S3-compatible server (moto in server mode,
started here on 127.0.0.1) receives immutable event-file segments, one per flush, so the bytes
uploaded grow linearly with the data (tensorboardX re-uploads the whole file on every flush)."""

from __future__ import annotations

import json
import logging
import socket
import struct

import pytest

import tbx
from tbx.proto.event_pb2 import Event
from tbx.record import scan_records

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
fsspec = pytest.importorskip("fsspec")


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """An s3fs filesystem on the moto server, with a fresh bucket; fsspec's environment config
    points every s3:// URL (the writer's too) at the server."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": s3_endpoint})
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, skip_instance_cache=True)
    bucket = f"tbx-{_free_port()}"
    fs.mkdir(bucket)
    return fs, bucket


try:
    import obstore
except ImportError:  # the s3fs engine only
    obstore = None
ENGINES = ["obstore", "s3fs"] if obstore is not None else ["s3fs"]


@pytest.fixture(params=ENGINES)
def engine(request, monkeypatch):
    """The engine of an s3:// logdir's GETs: obstore (when installed) or s3fs
    (``TBX_S3_ENGINE=s3fs``); listing is s3fs's either way."""
    monkeypatch.setenv("TBX_S3_ENGINE", request.param)
    return request.param


def read_stream(fs, prefix) -> list[Event]:
    """Every Event of the segments under prefix, files in name order, CRC-checked."""
    fs.invalidate_cache()
    names = sorted(p for p in fs.find(prefix) if "tfevents" in p.rsplit("/", 1)[-1])
    events = []
    for name in names:
        data = fs.cat_file(name)
        scan = scan_records(data, source=name)
        assert scan.end == len(data)
        events += [Event.FromString(bytes(p)) for p in scan.payloads(data)]
    return events


class UploadCounter:
    """Counts the bytes written through fsspec files (what s3fs uploads)."""

    def __init__(self, monkeypatch):
        self.bytes = 0
        original = fsspec.spec.AbstractBufferedFile.write

        def write(file, data):
            self.bytes += len(data)
            return original(file, data)

        monkeypatch.setattr(fsspec.spec.AbstractBufferedFile, "write", write)


def test_write_and_read_back_from_s3(s3, tmp_path):
    fs, bucket = s3
    w = tbx.SummaryWriter(f"s3://{bucket}/runs/a")
    for i in range(50):
        w.add_scalar("loss", 1.0 / (i + 1), i, walltime=1000.0 + i)
        if i % 10 == 9:
            w.flush()
    w.add_text("note", "on s3", 3)
    w.close()
    events = read_stream(fs, f"{bucket}/runs/a")
    versions = [e for e in events if e.file_version]
    assert len(versions) == 6  # one header per segment: 5 flushes + close
    scalars = [(e.step, e.wall_time, e.summary.value[0].simple_value)
               for e in events if e.HasField("summary") and e.summary.value[0].tag == "loss"]
    assert scalars == [(i, 1000.0 + i, f32(1.0 / (i + 1))) for i in range(50)]
    texts = [e for e in events
             if e.HasField("summary") and e.summary.value[0].tag == "note/text_summary"]
    assert texts[0].summary.value[0].tensor.string_val == [b"on s3"]

    # The official TensorBoard reads the segments, in name order, as one run.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    local = tmp_path / "copy"
    fs.get(f"{bucket}/runs/a/", str(local), recursive=True)
    acc = EventAccumulator(str(local), size_guidance={"scalars": 0})
    acc.Reload()
    assert [(s.step, s.value) for s in acc.Scalars("loss")] == [(i, v) for i, _, v in scalars]


def test_upload_bytes_grow_linearly(s3, monkeypatch):
    fs, bucket = s3
    counter = UploadCounter(monkeypatch)
    w = tbx.SummaryWriter(f"s3://{bucket}/lin", flush_secs=3600)
    marks = {}
    for i in range(1, 1001):
        w.add_scalar("loss", float(i), i)
        w.flush()
        if i in (250, 500, 1000):
            marks[i] = counter.bytes
    w.close()
    # Linear: each flush uploads its own segment once; never the whole history again.
    per_flush = marks[250] / 250
    assert marks[500] == pytest.approx(2 * marks[250], rel=0.02)
    assert marks[1000] == pytest.approx(4 * marks[250], rel=0.02)
    assert per_flush < 200  # one scalar event + one header, framed
    # What the server holds is exactly what was uploaded: every object written once.
    fs.invalidate_cache()
    stored = sum(fs.du(f"{bucket}/lin", total=False).values())
    assert stored == counter.bytes
    events = read_stream(fs, f"{bucket}/lin")
    assert [e.step for e in events if e.HasField("summary")] == list(range(1, 1001))


def test_memory_filesystem_segments():
    w = tbx.SummaryWriter("memory://tbx-test/run")
    w.add_scalar("x", 1.0, 1)
    w.flush()
    w.add_scalar("x", 2.0, 2)
    w.close()
    fs = fsspec.filesystem("memory")
    names = sorted(fs.find("/tbx-test/run"))
    assert [n.rsplit(".", 1)[-1] for n in names] == ["000000", "000001"]
    events = read_stream(fs, "/tbx-test/run")
    assert [(e.step, e.summary.value[0].simple_value) for e in events if e.HasField("summary")] \
        == [(1, 1.0), (2, 2.0)]


def test_missing_store_package_names_the_extra():
    import importlib.util

    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed")
    with pytest.raises(ImportError, match=r'pip install "tbx\[gcs\]"'):
        tbx.SummaryWriter("gs://bucket/run")


def test_reading_many_objects_fetches_them_at_once_and_idles_with_back_off(s3, monkeypatch,
                                                                            caplog, engine):
    """A refresh of a logdir on S3: one listing, and every new object fetched at once, one
    request per object (obstore's GETs, concurrent; or one ``cat_ranges`` call, s3fs running its
    requests concurrently); the counts are logged at DEBUG; an idle provider with
    ``watch=True`` lists again only when its back-off says so."""
    from tbx.proto.event_pb2 import Event
    from tbx.reader import LogdirProvider, _watch
    from tbx.record import frame_records
    from tbx.wire import ScalarEventEncoder

    fs, bucket = s3
    enc = ScalarEventEncoder()
    head = frame_records([Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()])
    fs.pipe({f"{bucket}/logs/r{r:02d}/events.out.tfevents.1.h.1.0":
             head + frame_records([enc.encode("loss", r + i / 4, i, 10.0 + i) for i in range(5)])
             for r in range(30)})
    clock = [100.0]
    monkeypatch.setattr(_watch.time, "monotonic", lambda: clock[0])
    p = LogdirProvider(f"s3://{bucket}/logs", watch=True)
    req = p._reader._fs.requests
    store = p._reader._fs.fs
    calls = []
    original = store.cat_ranges  # s3fs' concurrent one (async, run through fsspec's loop)

    def spy(paths, *a, **kw):
        calls.append(len(paths))
        return original(paths, *a, **kw)

    monkeypatch.setattr(store, "cat_ranges", spy)
    gets = []
    if obstore is not None:
        original_get = obstore.get_range_async

        def get_spy(where, path, **kw):
            gets.append((path, kw["start"], kw["end"]))
            return original_get(where, path, **kw)

        monkeypatch.setattr(obstore, "get_range_async", get_spy)
    with caplog.at_level(logging.DEBUG, logger="tbx.reader"):
        p.refresh()
    size = len(head) + sum(len(enc.encode("loss", 0.0, i, 10.0 + i)) + 16 for i in range(5))
    if engine == "obstore":
        assert calls == [] and sorted(gets) == [(f"logs/r{r:02d}/events.out.tfevents.1.h.1.0",
                                                 0, size) for r in range(30)]
    else:
        assert calls == [30] and gets == []
    assert req["reads"] == 30 and req["listings"] == 2  # info at start, one find
    assert req["bytes"] == 30 * size
    assert [r.getMessage() for r in caplog.records if r.name == "tbx.reader"] == [
        f"tbx: s3://{bucket}/logs: 30 runs listed again, 30 read; requests so far: "
        f"2 listings, 30 reads, {30 * size} bytes"]
    assert p.runs() == [f"r{r:02d}" for r in range(30)]
    for r in (0, 17, 29):
        s = p.scalars(f"r{r:02d}", "loss")
        assert s.step.tolist() == list(range(5)) and s.wall_time.tolist() == [10.0 + i for i in
                                                                           range(5)]
        assert s.value.tolist() == [r + i / 4 for i in range(5)]
    for _ in range(5):
        assert not p.refresh()  # within the back-off: no request at all
    assert req["listings"] == 2 and req["reads"] == 30
    clock[0] += _watch.POLL_MIN
    assert not p.refresh()  # due: one listing, nothing changed, nothing read
    assert req["listings"] == 3 and req["reads"] == 30
    assert p._reader._lister._due - clock[0] == 2 * _watch.POLL_MIN


def test_s3_client_pool_is_sized_to_the_fetch_concurrency(s3, monkeypatch):
    """botocore's connection pool (10 by default) would cap the requests in flight: the reader
    sizes it to its concurrency (fsspec's ``gather_batch_size`` when set), unless fsspec's
    config for s3 sets ``max_pool_connections`` itself; other client options are kept."""
    from tbx.reader._store import FETCH_CONCURRENCY, FsspecLogdir

    _, bucket = s3
    monkeypatch.setitem(fsspec.config.conf["s3"], "config_kwargs", {"read_timeout": 7})

    def client(url):
        store = FsspecLogdir(url).fs
        store.connect()
        return store.s3.meta.config

    config = client(f"s3://{bucket}/a")
    assert (config.max_pool_connections, config.read_timeout) == (FETCH_CONCURRENCY, 7)
    monkeypatch.setitem(fsspec.config.conf, "gather_batch_size", 24)
    assert client(f"s3://{bucket}/b").max_pool_connections == 24
    monkeypatch.setitem(fsspec.config.conf["s3"], "config_kwargs", {"max_pool_connections": 5})
    assert client(f"s3://{bucket}/c").max_pool_connections == 5


READ_IN_A_FRESH_PROCESS = """
import json, sys
from tbx.reader import LogdirProvider
p = LogdirProvider(sys.argv[1])
p.refresh()
print(json.dumps({run: p.scalars(run, "loss").value.tolist() for run in p.runs()}))
print(json.dumps(bool(p._reader._fs._get)))  # obstore's GETs (else s3fs)
"""


@pytest.mark.parametrize("how", ["fsspec-env", "aws-env-profile", "anon", "none"])
def test_documented_credentials_and_endpoint_options(s3, s3_endpoint, tmp_path, how, engine):
    """README's options, each in a fresh process with nothing else set: the endpoint from
    ``FSSPEC_S3_ENDPOINT_URL`` or ``AWS_ENDPOINT_URL``, credentials from ``AWS_*`` variables or
    a profile of a shared credentials file (``AWS_PROFILE``), objects fetched by obstore when
    installed (with s3fs's credentials and endpoint) or s3fs. The bucket is private: with no
    credentials at all the server is never asked anonymously and the error says so."""
    import os
    import subprocess
    import sys

    fs, bucket = s3
    with tbx.SummaryWriter(f"s3://{bucket}/opts/run1") as w:
        for i in range(3):
            w.add_scalar("loss", i / 2, i)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FSSPEC_"))}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_DEFAULT_REGION="us-east-1")
    if how == "fsspec-env":
        env.update(FSSPEC_S3_ENDPOINT_URL=s3_endpoint, AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing")
    elif how == "aws-env-profile":
        creds = tmp_path / "credentials"
        creds.write_text("[tbx]\naws_access_key_id = testing\naws_secret_access_key = t\n")
        env.update(AWS_ENDPOINT_URL=s3_endpoint, AWS_SHARED_CREDENTIALS_FILE=str(creds),
                   AWS_PROFILE="tbx")
    elif how == "anon":  # a public object of a bucket that lists to anyone (as moto's do)
        for path in fs.find(f"{bucket}/opts"):
            fs.chmod(path, "public-read")
        env.update(FSSPEC_S3_ENDPOINT_URL=s3_endpoint, FSSPEC_S3_ANON="true")
    else:
        env.update(FSSPEC_S3_ENDPOINT_URL=s3_endpoint)
    proc = subprocess.run([sys.executable, "-c", READ_IN_A_FRESH_PROCESS,
                           f"s3://{bucket}/opts"], env=env, capture_output=True, text=True,
                          timeout=300)
    if how == "none":
        assert proc.returncode != 0
        assert (f"PermissionError: logdir 's3://{bucket}/opts' cannot be listed: Unable to "
                "locate credentials") in proc.stderr
        serve = subprocess.run([sys.executable, "-m", "tbx.cli", "serve", f"s3://{bucket}/opts",
                                "--port", "0"], env=env, capture_output=True, text=True,
                               timeout=300)
        assert serve.returncode == 2
        assert serve.stderr.strip().splitlines()[-1] == (
            f"tbx serve: error: logdir 's3://{bucket}/opts' cannot be listed: Unable to "
            "locate credentials")
    else:
        assert proc.returncode == 0, proc.stderr[-2000:]
        values, used_obstore = (json.loads(line) for line in proc.stdout.splitlines())
        assert values == {"run1": [0.0, 0.5, 1.0]}
        assert used_obstore == (engine == "obstore")


@pytest.mark.skipif(obstore is None, reason="obstore is not installed")
def test_obstore_is_used_only_where_it_sends_what_s3fs_sends(s3, monkeypatch):
    """Options obstore would not send alike (requester-pays, version-aware, extra request
    arguments, an ``AWS_*`` variable only one of the two reads, ``TBX_S3_ENGINE=s3fs``) keep
    s3fs; a GET obstore fails is asked again of s3fs, so the bytes are the same either way."""
    import s3fs

    from tbx.reader._obstore import s3_getter
    from tbx.reader._store import FsspecLogdir

    fs, bucket = s3
    fs.pipe({f"{bucket}/d/a": b"0123456789", f"{bucket}/d/b": b"abc"})
    endpoint = fsspec.config.conf["s3"]["endpoint_url"]
    root = f"{bucket}/d"
    assert s3_getter(s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True), root)
    for odd in ({"requester_pays": True}, {"version_aware": True},
                {"s3_additional_kwargs": {"SSECustomerAlgorithm": "AES256"}},
                {"client_kwargs": {"verify": False}}):
        assert s3_getter(s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True,
                                           **odd), root) is None, odd
    monkeypatch.setenv("AWS_REQUESTER_PAYS", "true")  # obstore reads it, botocore does not
    assert s3_getter(s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True),
                     root) is None
    monkeypatch.delenv("AWS_REQUESTER_PAYS")
    monkeypatch.setenv("TBX_S3_ENGINE", "s3fs")
    assert FsspecLogdir(f"s3://{root}").fetch([(f"{root}/a", 0, 4)]) == (
        {(f"{root}/a", 0): b"0123"}, 1)
    monkeypatch.delenv("TBX_S3_ENGINE")

    logdir = FsspecLogdir(f"s3://{root}")
    ranges = [(f"{root}/a", 2, 7), (f"{root}/b", 0, 3), (f"{root}/gone", 0, 3)]
    assert logdir.fetch(ranges) == ({(f"{root}/a", 2): b"23456", (f"{root}/b", 0): b"abc"}, 4)
    assert logdir._get  # the missing object was asked of both; obstore stays
    calls = []
    original = obstore.get_range_async

    async def failing(where, path, **kw):
        calls.append(path)
        if path == "d/b":
            raise OSError("refused")
        return await original(where, path, **kw)

    monkeypatch.setattr(obstore, "get_range_async", failing)
    assert logdir.fetch(ranges[:2]) == ({(f"{root}/a", 2): b"23456", (f"{root}/b", 0): b"abc"},
                                        3)
    assert sorted(calls) == ["d/a", "d/b"] and logdir._get

    async def in_a_coroutine():  # a thread with a running event loop: obstore still answers
        return logdir.fetch(ranges[:1])

    import asyncio

    assert asyncio.run(in_a_coroutine()) == ({(f"{root}/a", 2): b"23456"}, 1)
    assert sorted(calls) == ["d/a", "d/a", "d/b"]


def test_logdir_on_s3_that_is_missing_or_an_object(s3):
    """The check at start (one ``info``: a HEAD and a one-key listing) names the logdir."""
    from tbx.reader import LogdirProvider

    fs, bucket = s3
    fs.pipe(f"{bucket}/file.txt", b"x")
    with pytest.raises(FileNotFoundError, match=rf"^logdir 's3://{bucket}/nothing' does not "
                                                 "exist$"):
        LogdirProvider(f"s3://{bucket}/nothing")
    with pytest.raises(NotADirectoryError, match=rf"^logdir 's3://{bucket}/file.txt' is not a "
                                                  "folder$"):
        LogdirProvider(f"s3://{bucket}/file.txt")
