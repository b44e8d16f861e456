"""The viewer's guard (``tbx.viewer.guard``): the token cookie is scoped per server, a non-ASCII
token is a 401 (never a 500), the token redirect never leaves the server."""

from __future__ import annotations

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx2")  # starlette's TestClient uses it too

from starlette.testclient import TestClient  # noqa: E402
from viewer_fakes import FakeProvider, running  # noqa: E402

from tbx.viewer.app import create_app  # noqa: E402
from tbx.viewer.guard import cookie_name, local_path, same_token  # noqa: E402


def _provider():
    p = FakeProvider()
    p.add_scalars("a", "loss", [0, 1], [1.0, 2.0])
    p.refresh()
    return p


def test_two_servers_with_tokens_keep_their_own_cookie():
    """Cookies are shared by every port of a host: server B's cookie must not replace A's."""
    app_a = create_app(_provider(), refresh=False, token="token-of-a")
    app_b = create_app(_provider(), refresh=False, token="token-of-b")
    with (running(app_a) as url_a, running(app_b) as url_b,
          httpx.Client(follow_redirects=True) as browser):
        assert browser.get(url_a + "api/runs").status_code == 401
        r = browser.get(url_a + "api/runs", params={"token": "token-of-a"})
        assert r.status_code == 200 and r.json()["runs"] == ["a"]
        r = browser.get(url_b + "api/runs", params={"token": "token-of-b"})
        assert r.status_code == 200
        # the same browser, both servers still logged in
        assert browser.get(url_a + "api/runs").status_code == 200
        assert browser.get(url_b + "api/runs").status_code == 200
        port_a = int(url_a.rsplit(":", 1)[1].strip("/"))
        port_b = int(url_b.rsplit(":", 1)[1].strip("/"))
        names = sorted(c.name for c in browser.cookies.jar)
        assert names == sorted([f"tbx_token_{port_a}", f"tbx_token_{port_b}"])


@pytest.mark.parametrize("token", ["%C3%A9", "%FF", "%E2%82%AC" * 20, "%00", "%ED%A0%80"])
def test_non_ascii_token_is_401(token):
    app = create_app(_provider(), refresh=False, token="s3cret")
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get(f"/api/runs?token={token}")
        assert r.status_code == 401, r.text
        assert r.json() == {"error": "this tbx server needs its token: open the URL it printed"}
        raw = b"tbx_token_80=\xc3\xa9t\xc3\xa9; tbx_token=\xff"
        assert c.get("/api/runs", headers={"cookie": raw}).status_code == 401


@pytest.fixture(scope="module")
def token_server():
    with running(create_app(_provider(), refresh=False, token="T")) as url:
        yield url


def _raw_get(url: str, target: bytes) -> list[str]:
    """The response head lines of ``GET <target>`` sent as raw bytes (clients would normalise
    ``//host/`` into another host)."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(url)
    with socket.create_connection((u.hostname, u.port), timeout=30) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + u.netloc.encode()
                  + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")


@pytest.mark.parametrize("target,location", [
    (b"//evil.example/?token=T", "/evil.example/"),
    (b"//evil.example/x/y?token=T&x=1", "/evil.example/x/y?x=1"),
    (b"/\\evil.example/?token=T", "/evil.example/"),
    (b"/%5Cevil.example/?token=T", "/evil.example/"),
    (b"///evil.example?token=T", "/evil.example"),
    (b"/api/runs?token=T&x=1", "/api/runs?x=1"),
    (b"/?token=T", "/"),
])
def test_token_redirect_stays_on_the_server(token_server, target, location):
    head = _raw_get(token_server, target)
    assert head[0] == "HTTP/1.1 303 See Other"
    loc = [h.split(":", 1)[1].strip() for h in head if h.lower().startswith("location:")]
    assert loc == [location]


def test_helpers():
    assert cookie_name({"server": ("127.0.0.1", 7121)}) == "tbx_token_7121"
    assert cookie_name({}) == "tbx_token"
    assert same_token("abc", "abc") and not same_token("abd", "abc")
    assert not same_token(None, "abc") and not same_token("\udcff", "abc")
    assert local_path("//a b") == "/a%20b"
