"""`import tbx` (and `tbx.integrations`) stays light: no torch, PIL, fsspec, pandas, matplotlib,
jax, nor any training framework."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["torch", "PIL", "fsspec", "pandas", "matplotlib", "jax", "tensorboard", "rich",
         "starlette", "uvicorn", "pyarrow", "lightning", "pytorch_lightning", "transformers",
         "keras", "tensorflow", "cupy"]


def test_import_tbx_is_light():
    code = (
        "import sys, tbx, tbx.integrations\n"
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


def test_integrations_name_their_extra_when_the_framework_is_missing():
    code = (
        "import sys\n"
        "for m in ('lightning', 'pytorch_lightning', 'transformers', 'keras'):\n"
        "    sys.modules[m] = None  # as if not installed\n"
        "for name in ('lightning', 'transformers', 'keras'):\n"
        "    try:\n"
        "        __import__('tbx.integrations.' + name)\n"
        "    except ImportError as exc:\n"
        "        print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        'tbx.integrations.lightning needs PyTorch Lightning: pip install "tbx[lightning]"',
        "tbx.integrations.transformers needs Hugging Face Transformers: "
        'pip install "tbx[transformers]"',
        'tbx.integrations.keras needs Keras 3: pip install "tbx[keras]"',
    ]
