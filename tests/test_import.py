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


def test_reader_modules_import_one_way():
    """Each module of tbx.reader imports only the ones below it (tbx/reader/__init__.py lists
    the order), so no two import each other."""
    import ast
    import pathlib

    import tbx.reader

    order = ["_types", "_names", "_obstore", "_store", "_fs", "_watch", "_events_py", "_prefix",
             "_scan", "_budget", "_decode", "_series", "_run", "_tracking", "_ingest", "_replay",
             "_queries", "_core", "provider", "_progress", "_frame_build", "frames", "_tbparse_raw",
             "_tbparse_source", "_tbparse_frames", "tbparse_compat"]
    folder = pathlib.Path(tbx.reader.__file__).parent
    assert sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__") == sorted(order)
    for i, name in enumerate(order):
        tree = ast.parse((folder / f"{name}.py").read_text())
        used = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "tbx.reader":
                    used |= {a.name for a in node.names}
                elif node.module.startswith("tbx.reader."):
                    used.add(node.module.split(".")[2])
        later = used & set(order[i:])
        assert not later, f"tbx.reader.{name} imports {sorted(later)}, which come after it"
