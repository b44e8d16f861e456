"""``tbx serve``: run the viewer on uvicorn.

``tbx serve LOGDIR [--host 127.0.0.1] [--port 6006] [--reload-interval S] [--no-auth]
[--memory-budget SIZE] [--follow-symlinks]`` prints the URL to open and opens nothing. The
provider watches the logdir (``LogdirProvider(watch=True)``: a refresh lists only what changed)
and holds at most ``--memory-budget`` of points (default :data:`DEFAULT_MEMORY_BUDGET`; series
past it are read back from their files when asked for). On a host other than the loopback it
requires a random token (in the printed URL, then kept in a cookie) unless ``--no-auth`` is
given.
``tbx serve --plugins`` lists the viewer's plugins (built-in and installed) and exits.

Start-up, shared with ``tbx demo`` (which runs :func:`serve`): when the port is in use, the
server says so on stderr and listens on a free port instead (the printed URL has it); bound to
all interfaces (``0.0.0.0``, ``::``), it prints a URL with the machine's host name and one with
the loopback address; when the first read of LOGDIR found no event file, it says so on stderr
(and the page says so too) and keeps watching. The server log (stderr) gets one line per run
that vanished or was read again, per path skipped because it cannot be read, and per refresh
error.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import secrets
import socket
import sys
import warnings

from tbx.viewer import MAX_RELOAD_INTERVAL

__all__ = ["add_serve_parser", "serve", "serve_main", "is_loopback", "security", "list_plugins",
           "listen", "urls"]

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
#: Points held in memory by ``tbx serve`` unless ``--memory-budget`` says otherwise.
DEFAULT_MEMORY_BUDGET = "1G"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def security(host: str, no_auth: bool = False) -> tuple[str | None, set[str] | None]:
    """``(token, allowed_hosts)`` for serving on ``host``: on the loopback, no token and a
    ``Host`` header allow-list (against DNS rebinding); elsewhere a random 32-character token
    unless ``no_auth``, and any ``Host``."""
    if is_loopback(host):
        return None, {"localhost", "127.0.0.1", "::1", host.strip("[]").lower()}
    return (None if no_auth else secrets.token_urlsafe(24)), None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listen(host: str, port: int) -> tuple[socket.socket, int | None]:
    """A socket bound to ``host:port`` (not yet listening), as uvicorn binds one; when ``port``
    is in use, bound to a free port of ``host`` instead.

    Returns:
        ``(socket, taken)``: ``taken`` is the port that was in use, ``None`` when ``port``
        itself (or a free one for ``port == 0``) was bound.

    Raises:
        OSError: ``host:port`` cannot be bound for another reason (an address this machine
            does not have, a privileged port); the message names the address.
    """
    addr = host.strip("[]")
    taken = None
    for attempt in (port, 0):
        sock = socket.socket(_family(addr), socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((addr, attempt))
        except OSError as e:
            sock.close()
            if e.errno == errno.EADDRINUSE and attempt != 0:
                taken = port
                continue
            raise OSError(e.errno, f"cannot listen on {host}:{attempt}: "
                                   f"{e.strerror or e}") from e
        sock.set_inheritable(True)
        return sock, taken
    raise AssertionError("unreachable")


def urls(host: str, port: int, token: str | None) -> list[str]:
    """URLs a browser can open for a server bound to ``host:port``: for ``0.0.0.0`` / ``::``
    (every interface), first one with this machine's host name (when it resolves), then one
    with the loopback address; else the one of ``host``."""
    query = f"?token={token}" if token else ""
    addr = host.strip("[]")
    try:
        unspecified = ipaddress.ip_address(addr).is_unspecified
    except ValueError:
        unspecified = addr == ""
    if not unspecified:
        shown = f"[{addr}]" if ":" in addr else addr
        return [f"http://{shown}:{port}/{query}"]
    out = []
    name = socket.gethostname()
    try:
        if name:
            socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
            out.append(f"http://{name}:{port}/{query}")
    except OSError:
        pass
    loopback = "[::1]" if ":" in addr else "127.0.0.1"
    out.append(f"http://{loopback}:{port}/{query}")
    return out


def _log_to_stderr() -> None:
    """Send the ``tbx`` loggers' INFO lines (runs vanished or read again, skipped paths,
    corruptions, refresh errors) to stderr, unless logging is configured already. The reader's
    own ``RuntimeWarning`` for a skipped path or a corruption is silenced: the hub logs each
    once."""
    warnings.filterwarnings("ignore", message="tbx: ", category=RuntimeWarning)
    logger = logging.getLogger("tbx")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``serve`` subcommand on an ``argparse`` subparsers object; its
    ``func`` default runs :func:`serve_main`."""
    p = subparsers.add_parser(
        "serve", help="view a logdir in the browser (live)",
        description="Serve the tbx viewer for LOGDIR and print its URL.")
    p.add_argument("logdir", nargs="?",
                   help="folder (or fsspec URL) holding runs of event files")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; any other needs the token)")
    p.add_argument("--port", type=int, default=6006,
                   help="port (default 6006; if it is in use, a free one is taken and printed; "
                        "0 = any free)")
    p.add_argument("--reload-interval", type=float, default=1.0, metavar="S",
                   help=f"seconds between reads of new data (default 1, at most "
                        f"{MAX_RELOAD_INTERVAL:g})")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="also read symbolic links that lead outside LOGDIR (by default they are "
                        "skipped and listed as problems)")
    p.add_argument("--no-auth", action="store_true",
                   help="serve a non-loopback host without the token (anyone who can reach "
                        "it can read the logdir)")
    p.add_argument("--memory-budget", default=DEFAULT_MEMORY_BUDGET, metavar="SIZE",
                   help="points held in memory at most, e.g. 512M, 4G, or 'none' (default "
                        f"{DEFAULT_MEMORY_BUDGET}); series past it are read again from their "
                        "files when opened")
    p.add_argument("--plugins", action="store_true",
                   help="list the viewer's plugins (built-in, and installed ones found through "
                        "the tbx.plugins entry points) and exit; status 1 if one failed to load")
    p.set_defaults(func=serve_main)
    return p


def serve_main(args) -> int:
    """Run :func:`serve` from parsed arguments; exit status 2 (with a message) when the viewer
    extra is missing or an argument is bad."""
    if args.plugins:
        try:
            return list_plugins()
        except ImportError as exc:
            print(f"tbx serve: error: {exc}", file=sys.stderr)
            return 2
    if args.logdir is None:
        print("tbx serve: error: the following arguments are required: logdir", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"tbx serve: error: --port must be in 0..65535, got {args.port}", file=sys.stderr)
        return 2
    if not 0 < args.reload_interval <= MAX_RELOAD_INTERVAL:
        print(f"tbx serve: error: --reload-interval must be a number of seconds in "
              f"(0, {MAX_RELOAD_INTERVAL:g}], got {args.reload_interval}", file=sys.stderr)
        return 2
    from tbx._cliutil import UsageError, check_path

    try:
        check_path(args.logdir, "LOGDIR", folder=True)
    except UsageError as exc:
        print(f"tbx serve: error: {exc}", file=sys.stderr)
        return 2
    from tbx.reader._budget import parse_size

    try:
        parse_size(args.memory_budget, "--memory-budget")
    except ValueError as exc:
        print(f"tbx serve: error: {exc}", file=sys.stderr)
        return 2
    try:
        return serve(args.logdir, host=args.host, port=args.port,
                     reload_interval=args.reload_interval, no_auth=args.no_auth,
                     memory_budget=args.memory_budget, follow_symlinks=args.follow_symlinks)
    except ImportError as exc:
        print(f"tbx serve: error: {exc}", file=sys.stderr)
        return 2


def list_plugins(file=None) -> int:
    """Print one line per plugin (name, tab title, source, ``ok`` or the load error), in tab
    order; return 0, or 1 when a plugin failed to load.

    Raises:
        ImportError: the ``viewer`` extra is not installed.
    """
    import logging

    try:
        from tbx.viewer.host import discover
    except ImportError as e:
        raise ImportError(
            f"tbx serve needs the viewer extra: pip install 'tbx[viewer]' ({e})") from e
    file = sys.stdout if file is None else file
    logger = logging.getLogger("tbx.viewer")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # load errors are in the table, not logged too
    try:
        found = discover()
    finally:
        logger.setLevel(level)
    found.sort(key=lambda e: (e.plugin.order if e.plugin else 1000, e.name))
    rows = [("NAME", "TITLE", "SOURCE", "STATUS")]
    for e in found:
        rows.append((e.name, e.plugin.title if e.plugin else "-", e.source,
                     "ok" if e.error is None else f"error: {e.error}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        cells = [c.ljust(w) for c, w in zip(r[:3], widths, strict=True)]
        print("  ".join([*cells, r[3]]), file=file)
    return 1 if any(e.error for e in found) else 0


def serve(logdir, *, host: str = "127.0.0.1", port: int = 6006, reload_interval: float = 1.0,
          no_auth: bool = False, memory_budget=DEFAULT_MEMORY_BUDGET,
          follow_symlinks: bool = False) -> int:
    """Serve ``logdir`` until interrupted; prints ``tbx serving LOGDIR at URL`` (stdout) once
    listening. A port in use is reported on stderr and a free one taken instead (see the
    module docstring).

    Raises:
        ImportError: the ``viewer`` extra is not installed (message says how to install).
        FileNotFoundError: ``logdir`` does not exist.
        OSError: ``host:port`` cannot be bound for another reason than being in use.
    """
    try:
        import uvicorn

        from tbx.viewer.app import create_app
    except ImportError as e:
        msg = f"tbx serve needs the viewer extra: pip install 'tbx[viewer]' ({e})"
        raise ImportError(msg) from e
    from tbx.reader.provider import LogdirProvider

    if not 0 < reload_interval <= MAX_RELOAD_INTERVAL:
        raise ValueError(f"reload_interval must be a number of seconds in "
                         f"(0, {MAX_RELOAD_INTERVAL:g}], got {reload_interval}")
    provider = LogdirProvider(logdir, watch=True, memory_budget=memory_budget,
                              follow_symlinks=follow_symlinks)
    token, allowed = security(host, no_auth)
    local = allowed is not None
    sock, taken = listen(host, port)
    bound = sock.getsockname()[1]
    _log_to_stderr()
    app = create_app(provider, reload_interval=reload_interval, token=token,
                     allowed_hosts=allowed)
    hub = app.state.hub
    config = uvicorn.Config(app, host=host, port=bound, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)

    async def announce():
        import asyncio

        while not server.started:
            await asyncio.sleep(0.02)
        if taken is not None:
            print(f"tbx serve: port {taken} is in use on {host}; serving on port {bound} "
                  f"instead (--port 0 always takes a free port)", file=sys.stderr, flush=True)
        first, *more = urls(host, bound, token)
        print(f"tbx serving {logdir} at {first}", flush=True)
        for url in more:
            print(f"  also at {url}", flush=True)
        if not local and no_auth:
            print("warning: --no-auth on a non-loopback host: anyone who can reach it can "
                  "read the logdir", file=sys.stderr, flush=True)
        while not hub.loaded.is_set():
            await asyncio.sleep(0.05)
        if not provider.runs():
            print(f"tbx serve: no event files found under {logdir} (files named "
                  f"*tfevents*); watching it for new ones", file=sys.stderr, flush=True)

    async def main():
        import asyncio

        t = asyncio.create_task(announce())
        try:
            await server.serve(sockets=[sock])
        finally:
            t.cancel()

    import asyncio

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
