"""Regenerate src/tbx/proto/*_pb2.py and *_pb2.pyi from the .proto files beside them.

Usage: python scripts/gen_protos.py [OUT_DIR]

OUT_DIR defaults to src/ (the checked-in files); tests pass a temp dir and compare. Needs
grpcio-tools (the `dev` extra), whose bundled protoc fixes the generated code's version.
"""

from __future__ import annotations

import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def generate(out_dir: Path) -> list[Path]:
    """Run protoc over every tbx/proto/*.proto; return the generated files under out_dir."""
    import grpc_tools
    from grpc_tools import protoc

    protos = sorted((SRC / "tbx" / "proto").glob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{SRC}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        *(str(p.relative_to(SRC)) for p in protos),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    return sorted((out_dir / "tbx" / "proto").glob("*_pb2.py*"))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SRC
    for path in generate(target):
        print(path)
