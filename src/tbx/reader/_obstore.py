"""GETs of an ``s3://`` logdir's objects through obstore (Rust; about a quarter of the client CPU
per request of s3fs/aiobotocore), with s3fs kept for listing. The store is configured from the
s3fs filesystem's own resolved client: its static credentials (or none, when it signs nothing),
endpoint, region and URL style. Whatever cannot be mapped exactly (refreshable credentials,
requester-pays, version-aware or extra request arguments, proxies, a CA bundle, obstore-only
``AWS_*`` settings, ...) makes :func:`s3_getter` return None: the caller then uses s3fs.
``TBX_S3_ENGINE=s3fs`` forces s3fs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

__all__ = ["s3_getter"]

#: ``AWS_*`` variables that either botocore has already resolved into the client read here
#: (credentials, region, endpoint: passed to obstore explicitly) or obstore does not use for GETs.
#: Any other ``AWS_*`` variable might change what one of the two sends: s3fs is used.
_KNOWN_ENV = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
    "AWS_CA_BUNDLE"})  # a CA bundle: s3fs for https (see _TLS_ENV)
#: s3fs options under which a GET is what obstore sends too.
_CLIENT_KEYS = frozenset({"endpoint_url", "region_name", "aws_access_key_id",
                          "aws_secret_access_key", "aws_session_token", "use_ssl"})
_CONFIG_KEYS = frozenset({"max_pool_connections", "connect_timeout", "read_timeout",
                          "region_name", "signature_version"})
_TLS_ENV = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")

Getter = Callable[[list[tuple[str, int, int]], int], list]


def s3_getter(fs, root: str) -> Getter | None:
    """A function ``get(ranges, concurrency)`` returning, for each ``(path, start, end)`` of the
    bucket of ``root``, its bytes or the exception its GET raised; None when obstore is not
    installed, not wanted (``TBX_S3_ENGINE=s3fs``) or cannot send exactly what ``fs`` (an s3fs
    ``S3FileSystem``) would."""
    if os.environ.get("TBX_S3_ENGINE", "").lower() == "s3fs":
        return None
    try:
        import obstore
        from obstore.store import S3Store
    except ImportError:
        return None
    if type(fs).__name__ != "S3FileSystem" or any(
            k.startswith("AWS_") and k not in _KNOWN_ENV for k in os.environ):
        return None
    if (getattr(fs, "version_aware", True) or getattr(fs, "req_kw", True)
            or getattr(fs, "s3_additional_kwargs", True)
            or set(getattr(fs, "client_kwargs", {"?": 1})) - _CLIENT_KEYS
            or set(getattr(fs, "config_kwargs", {"?": 1})) - _CONFIG_KEYS):
        return None
    bucket = root.partition("/")[0]
    try:
        import fsspec.asyn

        settings = fsspec.asyn.sync(fs.loop, _settings, fs, bucket)
    except Exception:  # noqa: BLE001 - no client (e.g. no credentials): s3fs says why
        return None
    if settings is None:
        return None
    store = S3Store(bucket, **settings)
    prefix = f"{bucket}/"

    def get(ranges: list[tuple[str, int, int]], concurrency: int) -> list:
        async def one(gate, path, start, end):
            async with gate:
                data = await obstore.get_range_async(store, path[len(prefix):], start=start,
                                                     end=end)
            return bytes(data)

        async def every():
            gate = asyncio.Semaphore(max(1, concurrency))
            return await asyncio.gather(*(one(gate, p, s, e) for p, s, e in ranges),
                                        return_exceptions=True)

        if any(not p.startswith(prefix) or e <= s for p, s, e in ranges):
            raise ValueError("ranges: each must be (path in the logdir's bucket, start, end > "
                             "start)")
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: no event loop on this thread
            return asyncio.run(every())
        with ThreadPoolExecutor(1, thread_name_prefix="tbx-obstore") as pool:
            return pool.submit(asyncio.run, every()).result()

    return get


async def _settings(fs, bucket: str) -> dict | None:
    """obstore's ``S3Store`` options that make its GETs those of ``fs``'s client, or None."""
    from botocore import UNSIGNED
    from botocore.credentials import RefreshableCredentials

    client = await fs.set_session()
    meta = client.meta
    config = meta.config
    if getattr(config, "proxies", None) or getattr(config, "client_cert", None):
        return None
    if any(os.environ.get(k) for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
                                       "https_proxy", "all_proxy")):
        return None
    endpoint = meta.endpoint_url
    parts = urlsplit(endpoint)
    if parts.scheme == "https" and any(os.environ.get(k) for k in _TLS_ENV):
        return None
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/"):
        return None
    options: dict = {"region": meta.region_name or "us-east-1", "request_payer": False,
                     "client_options": {"allow_http": parts.scheme == "http"}}
    if config.signature_version is UNSIGNED:
        options["skip_signature"] = True
    else:
        creds = client._request_signer._credentials  # what this client signs with
        if creds is None or isinstance(creds, RefreshableCredentials):
            return None
        frozen = await creds.get_frozen_credentials()
        if not (frozen.access_key and frozen.secret_key):
            return None
        static = {"access_key_id": frozen.access_key, "secret_access_key": frozen.secret_key,
                  "token": frozen.token, "expires_at": None}
        options["skip_signature"] = False
        options["credential_provider"] = lambda: static
    # The URL botocore builds for a GET of this bucket (computed locally, nothing is sent).
    url = urlsplit(await client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60))
    base = f"{parts.scheme}://{parts.netloc}"
    if (url.scheme, url.netloc, url.path) == (parts.scheme, parts.netloc, f"/{bucket}/k"):
        options.update(endpoint=base, virtual_hosted_style_request=False)
    elif (url.scheme, url.netloc, url.path) == (parts.scheme, f"{bucket}.{parts.netloc}", "/k"):
        options.update(endpoint=f"{parts.scheme}://{bucket}.{parts.netloc}",
                       virtual_hosted_style_request=True)
    else:
        return None
    return options
