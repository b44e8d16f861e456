"""The HTML of ``tbx report``: one file holding the page's script and styles (the viewer's
front-end bundle, entry ``web/src/report.js``), the report's data, and a Content-Security-Policy
that lets only that one script run.

Escaping: the header is HTML-escaped; the data is JSON in a ``<script type="application/json">``
with ``<``, ``>`` and ``&`` written as ``\\u003c`` etc. (so no tag can end or open inside it); the
series block is base64; the bundle is checked to contain no ``</script`` or ``<!--``. Whatever
text a run, tag or summary holds is put into the page by the script as text (``textContent``),
the only HTML being text summaries already sanitised by
:mod:`tbx.viewer.plugins.text.render`; and the policy (``script-src 'sha256-...'``) refuses any
script but the bundle, inline handlers included.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from pathlib import Path

__all__ = ["BUNDLE_DIR", "load_bundle", "render_page", "json_for_script"]

#: Where the front-end build writes the report bundle (``npm run build`` in ``web/``).
BUNDLE_DIR = Path(__file__).resolve().parent.parent / "viewer" / "static" / "dist"

_SOURCEMAP = re.compile(r"\n?/[/*]# sourceMappingURL=[^\n]*\s*$")


def load_bundle(bundle_dir: Path = BUNDLE_DIR) -> tuple[str, str]:
    """``(javascript, css)`` of the report page, without their source-map comments.

    Raises:
        FileNotFoundError: the front end is not built (message says how to build it).
        RuntimeError: the bundle holds a sequence that would end its ``<script>`` or
            ``<style>`` element early.
    """
    js_path, css_path = bundle_dir / "report.js", bundle_dir / "report.css"
    if not js_path.is_file() or not css_path.is_file():
        raise FileNotFoundError(
            f"the report page is not built ({js_path} missing): run 'npm ci && npm run build' "
            f"in tbx's web/ folder, or install tbx from a wheel")
    js = _SOURCEMAP.sub("", js_path.read_text(encoding="utf-8"))
    css = _SOURCEMAP.sub("", css_path.read_text(encoding="utf-8"))
    low_js, low_css = js.lower(), css.lower()
    if "</script" in low_js or "<!--" in low_js or "</style" in low_css:
        raise RuntimeError("the report bundle contains '</script', '<!--' or '</style'")
    return js, css


def json_for_script(obj) -> str:
    """``obj`` as JSON safe inside a ``<script type="application/json">`` element: ASCII only,
    ``<``, ``>`` and ``&`` escaped as ``\\u003c``, ``\\u003e``, ``\\u0026``.

    Raises:
        ValueError: ``obj`` holds NaN or ±inf (JSON has no such numbers).
    """
    text = json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def render_page(meta: dict, series_b64: str, js: str, css: str) -> str:
    """The whole HTML document (a ``str``; write it as UTF-8).

    Args:
        meta: the report's JSON data (see :func:`tbx.report.build.build_report`); its
            ``logdir``, ``created``, ``runs`` and ``version`` also fill the header.
        series_b64: the series block (:class:`tbx.report.data.SeriesBlock`), base64.
        js, css: the page's script and styles (:func:`load_bundle`).

    Raises:
        ValueError: ``series_b64`` is not base64 text.
    """
    if not re.fullmatch(r"[A-Za-z0-9+/=]*", series_b64):
        raise ValueError("series_b64 must be base64 text")
    csp = ("default-src 'none'; "
           f"script-src 'sha256-{_sha256(js)}'; "
           "style-src 'unsafe-inline'; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    e = html.escape
    n = len(meta["runs"])
    head_text = (f"{meta['logdir']} · {n} run{'s' if n != 1 else ''} · {meta['created']} · "
                 f"tbx {meta['version']}")
    return "".join([
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{e(csp)}\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<meta name=\"generator\" content=\"tbx {e(meta['version'])}\">\n",
        f"<title>tbx report: {e(meta['logdir'])}</title>\n",
        f"<style>{css}</style>\n</head>\n<body data-page=\"report\">\n",
        "<header><span class=\"logo\">tbx report</span>",
        f"<span class=\"report-meta\" id=\"report-meta\">{e(head_text)}</span></header>\n",
        "<div class=\"layout\"><aside id=\"side\"></aside><main id=\"main\">",
        "<noscript>This report needs JavaScript to draw its charts.</noscript></main></div>\n",
        f"<script type=\"application/json\" id=\"tbx-meta\">{json_for_script(meta)}</script>\n",
        f"<script type=\"application/octet-stream\" id=\"tbx-series\">{series_b64}</script>\n",
        f"<script type=\"module\">{js}</script>\n</body>\n</html>\n",
    ])
