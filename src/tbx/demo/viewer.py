"""The viewer beside ``tbx demo``: ``tbx serve LOGDIR`` in a child process."""

from __future__ import annotations

import os
import sys
import time

__all__ = ["ViewerProcess"]


class ViewerProcess:
    """``tbx serve LOGDIR`` in a child process (the viewer's :func:`tbx.viewer.server.serve`),
    so that it runs beside the training on another core. A port in use is handled as by
    ``tbx serve``: a free one is taken and the viewer says so; the viewer's messages (stderr)
    are passed on to this process' stderr.

    Use :meth:`start`; ``url`` is the address it printed. :meth:`stop` ends it.
    """

    # The child reads its stdin, a pipe that only this process holds open: end of file means
    # this process is gone (even by SIGKILL), and the viewer stops instead of keeping the port.
    _CODE = (
        "import os, signal, sys, threading\n"
        "def _parent_gone():\n"
        "    while os.read(0, 4096):\n"
        "        pass\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    threading.Timer(10, os._exit, (1,)).start()\n"
        "threading.Thread(target=_parent_gone, daemon=True).start()\n"
        "from tbx.viewer.server import serve\n"
        "sys.exit(serve(sys.argv[1], host=sys.argv[2], port=int(sys.argv[3])))\n"
    )

    def __init__(self, proc, url: str):
        self.proc = proc
        self.url = url

    @classmethod
    def start(cls, logdir: str, host: str = "127.0.0.1", port: int = 6006, timeout: float = 30):
        """Start the viewer and wait (at most ``timeout`` seconds) for its URL.

        Returns:
            a running :class:`ViewerProcess`.

        Raises:
            RuntimeError: the viewer is not installed or did not start; the message says why.
        """
        import importlib.util
        import queue
        import subprocess
        import threading

        missing = [m for m in ("uvicorn", "starlette") if importlib.util.find_spec(m) is None]
        if missing or importlib.util.find_spec("tbx.viewer.server") is None:
            raise RuntimeError(
                f"the viewer is not installed ({', '.join(missing) or 'tbx.viewer.server'} "
                f'missing): pip install "tbx[viewer]"'
            )
        proc = subprocess.Popen(
            [sys.executable, "-u", "-c", cls._CODE, os.fspath(logdir), host, str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue = queue.Queue()
        errors: list[str] = []

        def pump(stream, sink):
            for line in stream:
                sink(line.rstrip("\n"))
            if stream is proc.stdout:
                lines.put(None)

        started = threading.Event()
        lock = threading.Lock()

        def relay(line: str) -> None:  # kept for the error until started, passed on after
            if "no event files found" in line:
                return  # the demo is about to write them
            with lock:
                if started.is_set():
                    print(line, file=sys.stderr, flush=True)
                else:
                    errors.append(line)

        threading.Thread(target=pump, args=(proc.stdout, lines.put), daemon=True).start()
        threading.Thread(target=pump, args=(proc.stderr, relay), daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
                proc.kill()
            if line is None:
                proc.wait()
                tail = "\n".join(errors[-5:]).strip() or "no output"
                raise RuntimeError(f"the viewer did not start: {tail}")
            if " at http" in line:
                with lock:
                    for note in errors:
                        print(note, file=sys.stderr, flush=True)
                    started.set()
                return cls(proc, line.rsplit(" at ", 1)[1].strip())

    def stop(self) -> None:
        """End the viewer process (terminate, then kill after 5 s)."""
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def wait(self) -> None:
        """Block until the viewer process ends (e.g. on Ctrl-C)."""
        self.proc.wait()
