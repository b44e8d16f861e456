"""`import tbx` stays light: no torch, PIL, fsspec, pandas, matplotlib, jax."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["torch", "PIL", "fsspec", "pandas", "matplotlib", "jax", "tensorboard", "rich",
         "starlette", "uvicorn", "pyarrow"]


def test_import_tbx_is_light():
    code = (
        "import sys, tbx\n"
        "w = tbx.SummaryWriter\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api():
    import tbx

    assert tbx.__version__
    for name in ["SummaryWriter", "FileWriter"]:
        assert hasattr(tbx, name), name
