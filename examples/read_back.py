"""Read a logdir back into pandas DataFrames with ``tbx.read`` and plot it with matplotlib.

    tbx demo --no-serve                      # or any logdir of TensorBoard event files
    python examples/read_back.py runs/demo --out demo.png

Prints the runs, the number of points of each kind, the hyperparameters with final metrics
(when the runs logged hparams) and the last value of every scalar tag; draws up to four scalar
tags (default: the demo's losses and accuracies, else the first four) as one chart each, one
line per run, raw values faint and an exponential moving average on top.

Needs ``pip install "tbx[pandas]" matplotlib``.
"""

from __future__ import annotations

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")  # draw to a file; no display needed
import matplotlib.pyplot as plt  # noqa: E402

import tbx  # noqa: E402

DEMO_TAGS = ["train/loss", "val/loss", "train/accuracy", "val/accuracy"]


def ema(values, weight: float):
    """Exponential moving average with TensorBoard's debiasing; ``weight`` in [0, 1)."""
    out, last, num = [], 0.0, 0
    for v in values:
        last = last * weight + (1 - weight) * v
        num += 1
        out.append(last / (1 - weight**num))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Read a logdir into DataFrames and plot it.")
    parser.add_argument("logdir", nargs="?", default="runs/demo", help="default runs/demo")
    parser.add_argument("--out", default="read_back.png", help="image to write (PNG, SVG, PDF)")
    parser.add_argument("--tags", nargs="+", default=None, help="scalar tags to plot (max 4)")
    parser.add_argument("--smoothing", type=float, default=0.8, help="EMA weight in [0, 1)")
    args = parser.parse_args(argv)
    if not 0 <= args.smoothing < 1:
        parser.error("--smoothing must be in [0, 1)")
    if not os.path.isdir(args.logdir):
        parser.error(f"{args.logdir} is not a folder; create one with: tbx demo --no-serve")

    data = tbx.read(args.logdir)  # every run below logdir, read once (data.refresh() for more)
    scalars = data.scalars  # columns run, tag, step, wall_time, value
    if scalars.empty:
        print(f"{args.logdir}: no scalars", file=sys.stderr)
        return 1
    print(f"{args.logdir}: runs {', '.join(data.runs)}")
    kinds = {
        "scalars": scalars,
        "histograms": data.histograms,
        "images": data.images,
        "pr_curves": data.pr_curves,
        "text": data.text,
    }
    print("points per kind: " + ", ".join(f"{k} {len(v)}" for k, v in kinds.items()))
    if not data.hparams.empty:
        print("\nhyperparameters and final metrics:")
        print(data.hparams.set_index("run").to_string())

    last = scalars.groupby(["run", "tag"], observed=True).value.last().unstack("run")
    print("\nlast value of each scalar tag:")
    print(last.to_string(float_format=lambda v: f"{v:.4g}"))

    present = list(dict.fromkeys(scalars.tag.astype(str)))
    tags = args.tags or [t for t in DEMO_TAGS if t in present] or present[:4]
    missing = [t for t in tags if t not in present]
    if missing:
        parser.error(f"no scalar tag {missing}; the logdir has {present}")
    tags = tags[:4]
    fig, axes = plt.subplots(1, len(tags), figsize=(4.2 * len(tags), 3.4), squeeze=False)
    for ax, tag in zip(axes[0], tags, strict=False):
        for i, (run, df) in enumerate(scalars[scalars.tag == tag].groupby("run", observed=True)):
            color = f"C{i}"
            ax.plot(df.step, df.value, color=color, alpha=0.25, linewidth=1)
            ax.plot(df.step, ema(df.value, args.smoothing), color=color, label=run)
        ax.set_title(tag)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
