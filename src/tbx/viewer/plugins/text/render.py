"""Text summaries to safe HTML: Markdown rendered by markdown-it-py (raw HTML disabled), then
sanitised by nh3 (an allow-list HTML cleaner), so text can never inject script or styles."""

from __future__ import annotations

import html

__all__ = ["markdown_html", "text_html"]

_md = None
_TAGS = {
    "p", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "img",
}
_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"style"}, "td": {"style"},
          "ol": {"start"}}


def _renderer():
    global _md
    if _md is None:
        from markdown_it import MarkdownIt

        _md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    return _md


def _clean(fragment: str) -> str:
    import nh3

    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )


def markdown_html(text: str) -> str:
    """One Markdown string (CommonMark plus tables and strikethrough) as sanitised HTML."""
    return _clean(_renderer().render(text))


def text_html(value) -> str:
    """A text summary's value (``str``, or nested lists of ``str`` for a 1-D or 2-D string
    tensor) as sanitised HTML: Markdown for a string, an HTML table (each cell rendered as
    inline Markdown) for a list; deeper nesting is shown as escaped text."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return markdown_html(value)
    rows = value
    if rows and not isinstance(rows[0], list):
        rows = [[c] for c in rows]
    if any(isinstance(c, list) for r in rows for c in r):
        return "<pre>" + html.escape(repr(value)) + "</pre>"
    md = _renderer()
    body = "".join(
        "<tr>" + "".join("<td>" + md.renderInline(_as_str(c)) + "</td>" for c in r) + "</tr>"
        for r in rows
    )
    return _clean("<table><tbody>" + body + "</tbody></table>")


def _as_str(c) -> str:
    if isinstance(c, (bytes, bytearray)):
        return c.decode("utf-8", errors="replace")
    return str(c)
