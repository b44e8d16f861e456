"""Bytes uploaded to S3 over a run of n flushes: tbx beside tensorboardX, measured on the same
S3-compatible server (moto, on 127.0.0.1), counted the same way for both.

Each writer logs one scalar and flushes, n times. A small WSGI layer in front of moto's S3 app
adds up the request bodies (``Content-Length`` of every PUT/POST) the server receives, so the
figure is what went over the wire, whatever the client library. tensorboardX's S3 writer
(``tensorboardX.record_writer.S3RecordWriter``, boto3, endpoint from ``S3_ENDPOINT``) re-uploads
its whole buffer on every flush; tbx writes each flush as a new immutable segment.

    python benchmarks/bench_upload.py [--flushes 10 100 1000]

Needs ``moto[server]``, ``s3fs``, ``boto3`` and ``tensorboardX`` (all in ``tbx[dev]``).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import threading

COUNT = {"bytes": 0, "requests": 0}


def _counting(app):
    def wrapped(environ, start_response):
        if environ.get("REQUEST_METHOD") in ("PUT", "POST"):
            COUNT["bytes"] += int(environ.get("CONTENT_LENGTH") or 0)
            COUNT["requests"] += 1
        return app(environ, start_response)

    return wrapped


def start_server() -> str:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = _counting(DomainDispatcherApplication(create_backend_app))
    srv = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}"


def measure(label: str, make_writer, flushes: int) -> int:
    w = make_writer()
    before = COUNT["bytes"]
    for i in range(flushes):
        w.add_scalar("loss", 1.0 / (i + 1), i)
        w.flush()
    w.close()
    sent = COUNT["bytes"] - before
    print(f"{label:>12}: {flushes:>5} flushes -> {sent:>12,} bytes uploaded "
          f"({sent / flushes:,.0f} per flush)", flush=True)
    return sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flushes", type=int, nargs="+", default=[10, 100, 1000])
    args = ap.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    endpoint = start_server()
    os.environ["S3_ENDPOINT"] = endpoint  # tensorboardX's S3 writer reads this
    import boto3
    import fsspec

    import tbx

    fsspec.config.conf["s3"] = {"endpoint_url": endpoint}
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
    from tensorboardX import SummaryWriter as XWriter

    for n in args.flushes:
        COUNT["bytes"] = 0
        ours = measure("tbx", lambda n=n: tbx.SummaryWriter(f"s3://bench/tbx{n}",
                                                           flush_secs=3600), n)
        theirs = measure("tensorboardX", lambda n=n: XWriter(f"s3://bench/x{n}",
                                                             flush_secs=3600), n)
        print(f"{'':>12}  ratio tensorboardX / tbx: {theirs / max(ours, 1):.1f}x", flush=True)


if __name__ == "__main__":
    main()
