"""What every response of the viewer goes through: the Host allow-list, the token, the security
headers (CSP without inline script or eval), and JSON errors (``{"error": message}``, never a
traceback).

The token: ``?token=T`` once answers 303 to the same path without it (a relative redirect that
never leaves the server: leading slashes and backslashes are folded into one ``/``) and sets the
HttpOnly cookie ``tbx_token_<port>``, named per server port so that two servers on one host
(cookies are shared across ports) do not log each other out. A token or cookie that does not
match, non-ASCII ones included, answers 401.
"""

from __future__ import annotations

import logging
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.responses import RedirectResponse

from tbx.viewer import views as V

__all__ = ["JSONResponse", "Guard", "CSP", "COOKIE", "cookie_name", "same_token",
           "local_path", "bad", "http_error", "server_error"]

log = logging.getLogger("tbx.viewer")

#: Prefix of the token cookie's name; the server's port follows (``tbx_token_6006``).
COOKIE = "tbx_token"


def cookie_name(scope) -> str:
    """The token cookie's name for the server answering ``scope``: ``tbx_token_<port>`` (the
    port the server listens on), ``tbx_token`` when the ASGI server does not say."""
    server = scope.get("server")
    if server and len(server) > 1 and server[1] is not None:
        return f"{COOKIE}_{int(server[1])}"
    return COOKIE


def same_token(given: str | None, token: str) -> bool:
    """Constant-time comparison of two tokens as UTF-8 bytes: any ``str`` (non-ASCII and lone
    surrogates included) compares, never raises."""
    if given is None:
        return False
    return secrets.compare_digest(given.encode("utf-8", "surrogatepass"),
                                  token.encode("utf-8", "surrogatepass"))


def local_path(path: str) -> str:
    """``path`` as a redirect target on this server: percent-encoded, starting with exactly one
    ``/`` (``//evil.example/`` and ``/\\evil.example`` would be read by browsers as another
    host)."""
    return "/" + quote(path.lstrip("/\\"), safe="/:@!$&'()*+,;=-._~")


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class JSONResponse(_StarletteJSONResponse):
    """Starlette's JSONResponse, except that a non-finite float (a NaN wall time or value in a
    file written by any writer) becomes ``null`` instead of failing the request with a 500."""

    def render(self, content) -> bytes:
        try:
            return super().render(content)
        except ValueError:
            return super().render(V.json_safe(content))


def bad(msg: str, status: int = 400):
    """Raise the HTTP error answered as ``{"error": msg}`` with ``status``."""
    raise HTTPException(status_code=status, detail=msg)


class Guard:
    """Pure ASGI middleware: Host allow-list, token auth, security headers."""

    def __init__(self, app, token: str | None, allowed_hosts: set[str] | None):
        self.app = app
        self.token = token
        self.allowed = allowed_hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        if self.allowed is not None:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            name = name.strip("[]").lower()
            if name not in self.allowed:
                return await JSONResponse({"error": f"host {host!r} not allowed"},
                                          status_code=403)(scope, receive, send)
        if self.token is not None:
            qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = qs.get("token", [None])[0]
            name = cookie_name(scope)
            cookie = SimpleCookie()
            try:
                cookie.load(headers.get("cookie", ""))
            except Exception:
                pass
            have = cookie[name].value if name in cookie else None
            if same_token(given, self.token):
                rest = {k: v for k, v in qs.items() if k != "token"}
                url = local_path(scope.get("path", "/"))
                if rest:
                    url += "?" + urlencode(rest, doseq=True)
                resp = RedirectResponse(url, status_code=303)
                resp.set_cookie(name, self.token, httponly=True, samesite="strict")
                return await resp(scope, receive, send)
            if not same_token(have, self.token):
                return await JSONResponse(
                    {"error": "this tbx server needs its token: open the URL it printed"},
                    status_code=401)(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                hs = list(message.get("headers", []))
                names = {k.lower() for k, _ in hs}
                extra = {b"x-content-type-options": b"nosniff",
                         b"referrer-policy": b"no-referrer",
                         b"content-security-policy": CSP.encode()}
                hs += [(k, v) for k, v in extra.items() if k not in names]
                message = {**message, "headers": hs}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


async def http_error(request: Request, exc: HTTPException):
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def server_error(request: Request, exc: Exception):
    log.error("error answering %s", request.url.path, exc_info=exc)
    if isinstance(exc, KeyError):  # a run or tag vanished between the lookup and the read
        return JSONResponse({"error": f"not found: {exc}"}, status_code=404)
    return JSONResponse({"error": "internal error (see the server's log)"}, status_code=500)
