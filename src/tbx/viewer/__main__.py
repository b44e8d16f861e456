"""``python -m tbx.viewer LOGDIR [...]``: the same as ``tbx serve LOGDIR [...]``."""

import argparse
import sys

from tbx.viewer.server import add_serve_parser


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tbx.viewer")
    sub = parser.add_subparsers()
    add_serve_parser(sub)
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
