"""``tbx demo`` (and ``python -m tbx.demo``): the command. Checks --logdir, starts the viewer
(:class:`tbx.demo.viewer.ViewerProcess`) unless ``--no-serve``, runs the sweep
(:func:`tbx.demo.train.run_sweep`) with progress lines, and turns Ctrl-C and SIGTERM into a clean
stop of both. What is trained and logged: :mod:`tbx.demo.train`.

The names of :mod:`tbx.demo.train`, :mod:`tbx.demo.data` and :mod:`tbx.demo.viewer` listed in
``__all__`` are importable from here too.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
import threading
import time

from tbx.demo.data import DigitsData, load_digits_data
from tbx.demo.train import STOP, DemoConfig, run_name, run_sweep, torch_equivalent, train_run
from tbx.demo.viewer import ViewerProcess

__all__ = [
    "DemoConfig",
    "DigitsData",
    "load_digits_data",
    "train_run",
    "run_sweep",
    "run_name",
    "torch_equivalent",
    "ViewerProcess",
    "STOP",
    "add_demo_parser",
    "demo_main",
]

SERVE_PACE = 0.25  # seconds of pause per epoch while the viewer watches (about 10 s in all)


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        msg = f"expected a positive whole number, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {v}")
    return v


def _port(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port in 0..65535, got {v}")
    return v


def _nonnegative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (v >= 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text}")
    return v


def _learning_rates(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated learning rates such as 0.003,0.01,0.03, got {text!r}"
        ) from None
    if not values or any(not (v > 0 and math.isfinite(v)) for v in values):
        raise argparse.ArgumentTypeError(f"learning rates must be positive numbers, got {text!r}")
    if len({run_name(v) for v in values}) != len(values):
        raise argparse.ArgumentTypeError(f"learning rates must differ, got {text!r}")
    return values


def add_demo_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``demo`` subcommand on an ``argparse`` subparsers object; its ``func``
    default runs :func:`demo_main`."""
    d = DemoConfig()
    p = subparsers.add_parser(
        "demo",
        help="train a small classifier on real data (digits) and view it live",
        description=(
            "Train a NumPy MLP on scikit-learn's handwritten digits with a short learning-rate "
            "sweep, logging scalars, histograms, images, figures, PR curves, an embedding, "
            "hparams, text and (with torch) the model graph. Unless --no-serve, the viewer "
            "is started on LOGDIR first and its URL printed, so the curves can be watched "
            "as they grow."
        ),
    )
    p.add_argument("--logdir", default=d.logdir,
                   help=f"local folder for the runs, made when missing (default {d.logdir}; "
                        "not a URL)")
    p.add_argument("--no-serve", action="store_true", help="only train; do not start the viewer")
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=d.epochs,
        help=f"epochs per run (default {d.epochs})",
    )
    p.add_argument(
        "--lr",
        type=_learning_rates,
        default=d.learning_rates,
        metavar="LR[,LR...]",
        help="peak learning rates of the sweep, one run each (default "
        + ",".join(f"{v:g}" for v in d.learning_rates)
        + ")",
    )
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument(
        "--port", type=_port, default=6006,
        help="viewer port (default 6006; if it is taken, a free one is used and printed; "
        "0 = any free)",
    )
    p.add_argument(
        "--pace",
        type=_nonnegative_float,
        default=None,
        metavar="S",
        help="seconds to pause after each epoch so the live view can be followed "
        "(default 0.25 while serving, 0 with --no-serve)",
    )
    p.add_argument(
        "--no-graph", action="store_true", help="do not log the model graph (skips importing torch)"
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the demo's run folders in LOGDIR left by an earlier demo",
    )
    p.add_argument(
        "--exit",
        action="store_true",
        help="stop the viewer when training ends (default: keep serving until Ctrl-C)",
    )
    p.set_defaults(func=demo_main)
    return p


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within the block, SIGTERM stops the demo like Ctrl-C (so the viewer process is stopped
    too), and both set :data:`STOP`; the previous handlers are restored afterwards. A SIGINT
    that the demo was started to ignore (``nohup``, a shell's background job) stays ignored."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        STOP.set()
        raise KeyboardInterrupt

    STOP.clear()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig, before in previous.items():
        if before is not signal.SIG_IGN:
            signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)


def demo_main(args) -> int:
    """Run ``tbx demo`` from parsed arguments; returns the exit status."""
    from tbx.reader._names import is_url

    if is_url(args.logdir):
        print(f"tbx demo: error: --logdir {args.logdir!r} is a URL; the demo writes a local "
              f"folder (tbx serve and SummaryWriter take URLs)", file=sys.stderr)
        return 2
    if os.path.exists(args.logdir) and not os.path.isdir(args.logdir):
        print(f"tbx demo: error: --logdir {args.logdir!r} is a file; expected a folder (it is "
              f"made when missing)", file=sys.stderr)
        return 2
    cfg = DemoConfig(
        logdir=args.logdir,
        epochs=args.epochs,
        learning_rates=tuple(args.lr),
        seed=args.seed,
        graph=not args.no_graph,
        pace=(0.0 if args.no_serve else SERVE_PACE) if args.pace is None else args.pace,
    )
    existing = [
        run_name(lr)
        for lr in cfg.learning_rates
        if os.path.isdir(os.path.join(cfg.logdir, run_name(lr)))
        and os.listdir(os.path.join(cfg.logdir, run_name(lr)))
    ]
    if existing:
        if not args.overwrite:
            print(
                f"tbx demo: error: {cfg.logdir} already holds the run(s) {', '.join(existing)} "
                f"of an earlier demo; pass --overwrite to replace them or --logdir to choose "
                f"another folder",
                file=sys.stderr,
            )
            return 2
        for name in existing:
            shutil.rmtree(os.path.join(cfg.logdir, name))
    try:
        os.makedirs(cfg.logdir, exist_ok=True)
    except OSError as exc:
        print(f"tbx demo: error: --logdir {cfg.logdir!r} cannot be made: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2

    if args.no_serve:
        with _sigterm_as_interrupt():
            return _train(cfg, None)
    with _sigterm_as_interrupt():
        try:
            viewer = ViewerProcess.start(cfg.logdir, port=args.port)
        except RuntimeError as e:
            print(f"tbx demo: {e}; training without the live view", file=sys.stderr)
            return _train(cfg, None)
        print(f"tbx viewer at {viewer.url}  (open it to watch the runs live)", flush=True)
        status = 130
        try:
            status = _train(cfg, viewer)
            if status == 0 and not args.exit:
                if viewer.proc.poll() is not None:  # e.g. Ctrl-C reached its process too
                    print(f"\nThe viewer has stopped (exit status {viewer.proc.returncode}); "
                          f"view the runs with: tbx serve {cfg.logdir}", flush=True)
                    return status
                print(f"\nStill serving at {viewer.url} ; press Ctrl-C to stop.", flush=True)
                viewer.wait()
        except KeyboardInterrupt:
            print("\nstopped")
        finally:
            viewer.stop()
    return status


def _train(cfg: DemoConfig, viewer) -> int:
    """The sweep with progress lines; 130 when interrupted."""
    try:
        t0 = time.perf_counter()
        lrs = ", ".join(f"{v:g}" for v in cfg.learning_rates)
        print(
            f"Training an MLP on the digits ({cfg.epochs} epochs, learning rates {lrs}) "
            f"into {cfg.logdir}",
            flush=True,
        )
        results = run_sweep(cfg, log=lambda s: print(s, flush=True))
        elapsed = time.perf_counter() - t0
        if STOP.is_set():  # a Ctrl-C whose KeyboardInterrupt was swallowed after the last batch
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    print(f"\nDone in {elapsed:.1f} s. Final validation accuracy per run:")
    for r in results:
        print(f"  {r['run']:>9}: {r['val_accuracy']:6.1%}  (val loss {r['val_loss']:.3f})")
    if viewer is None:
        print(f"\nView it with: tbx serve {cfg.logdir}")
    return 0


def main(argv=None) -> int:
    """``python -m tbx.demo [options]``: the ``tbx demo`` command on its own."""
    from tbx._cliutil import Parser

    parser = Parser(prog="tbx")
    sub = parser.add_subparsers(dest="command", required=True)
    add_demo_parser(sub)
    args = parser.parse_args(["demo", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
