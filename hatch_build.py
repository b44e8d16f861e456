"""Build steps of tbx's wheel and editable install (a hatchling custom build hook).

Each step is a function ``step(hook, version, build_data) -> None`` in :data:`STEPS`; add a step
(e.g. bundling the viewer's front end) by appending a function, without touching the others.

Step ``speedups``: compiles ``src/tbx/_speedups.c`` (a plain CPython extension, no numpy headers)
with the C compiler of ``sysconfig`` (``CC``, default ``cc``).

* editable install: the shared library is written into ``src/tbx/`` (git-ignored);
* wheel: it is built under ``build/`` and force-included as ``tbx/_speedups<EXT_SUFFIX>``; the
  wheel is then tagged for this interpreter and platform.
* No compiler, or a failed compile: a warning, and the build goes on (tbx falls back to pure
  Python). ``TBX_NO_SPEEDUPS_BUILD=1`` skips the step.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import warnings

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = os.path.dirname(os.path.abspath(__file__))
SPEEDUPS_SOURCE = os.path.join(ROOT, "src", "tbx", "_speedups.c")


def compile_extension(source: str, output: str) -> None:
    """Compile one C source into a CPython extension module ``output``.

    Raises:
        RuntimeError: no C compiler found, or the compiler failed (its output in the message).
    """
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
    if not shutil.which(cc[0]):
        cc = ["cc"]
        if not shutil.which("cc"):
            raise RuntimeError("no C compiler (cc) found")
    include = sysconfig.get_paths()["include"]
    cmd = [*cc, "-shared", "-fPIC", "-O3", "-std=c99", "-fno-strict-aliasing",
           f"-I{include}", source, "-o", output]
    if sys.platform == "darwin":
        cmd[1:1] = ["-undefined", "dynamic_lookup"]
    os.makedirs(os.path.dirname(output), exist_ok=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")


def build_speedups(hook: BuildHookInterface, version: str, build_data: dict) -> None:
    if os.environ.get("TBX_NO_SPEEDUPS_BUILD") == "1":
        return
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    name = "_speedups" + suffix
    editable = version == "editable"
    if editable:
        output = os.path.join(ROOT, "src", "tbx", name)
    else:
        output = os.path.join(ROOT, "build", "speedups", name)
    try:
        compile_extension(SPEEDUPS_SOURCE, output)
    except (RuntimeError, OSError) as exc:
        warnings.warn(f"tbx: C speedups not built, using pure Python: {exc}", stacklevel=1)
        hook.app.display_warning(f"tbx: C speedups not built ({exc}); pure Python fallback")
        return
    if not editable:
        build_data["force_include"][output] = f"tbx/{name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True


WEB_DIR = os.path.join(ROOT, "web")
FRONTEND_DIST = os.path.join(ROOT, "src", "tbx", "viewer", "static", "dist")


def build_frontend(hook: BuildHookInterface, version: str, build_data: dict) -> None:
    """Step ``frontend``: bundle the viewer's page (``web/``, npm packages pinned by
    ``web/package-lock.json``) with esbuild into ``src/tbx/viewer/static/dist/`` (git-ignored):
    ``npm ci --ignore-scripts`` (skipped when ``web/node_modules`` is newer than the lockfile),
    then ``npm run build``. A wheel force-includes the bundle. No npm, or a failed build: a
    warning, and the build goes on (``tbx serve`` then answers the page with a message).
    ``TBX_NO_FRONTEND_BUILD=1`` skips the step."""
    if os.environ.get("TBX_NO_FRONTEND_BUILD") == "1" or not os.path.isdir(WEB_DIR):
        return
    npm = shutil.which("npm")
    try:
        if npm is None:
            raise RuntimeError("npm not found (install Node.js and npm)")
        lock = os.path.join(WEB_DIR, "package-lock.json")
        stamp = os.path.join(WEB_DIR, "node_modules", ".package-lock.json")
        if not os.path.exists(stamp) or os.path.getmtime(stamp) < os.path.getmtime(lock):
            cmds = [[npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]]
        else:
            cmds = []
        for cmd in [*cmds, [npm, "run", "build"]]:
            proc = subprocess.run(cmd, cwd=WEB_DIR, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
    except (RuntimeError, OSError) as exc:
        msg = f"tbx: viewer front end not built ({exc}); tbx serve will show a notice"
        warnings.warn(msg, stacklevel=1)
        hook.app.display_warning(msg)
        return
    if version != "editable" and os.path.isdir(FRONTEND_DIST):
        build_data["force_include"][FRONTEND_DIST] = "tbx/viewer/static/dist"


#: The build steps, run in order for every wheel and editable build.
STEPS = [build_speedups, build_frontend]


class CustomBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        for step in STEPS:
            step(self, version, build_data)
