"""The web server's door (aetui/web/token_door.py) on a small aiohttp app: without the token,
403 on every route; with it once in the URL, a cookie (HttpOnly, SameSite=Strict) and the
clean URL; a websocket from another site's page is refused even with the token."""

from __future__ import annotations

import pytest

web = pytest.importorskip("aiohttp.web", reason="the web tests need aiohttp: pip install -e '.[test]'")
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from aetui.web.token_door import COOKIE, new_token, token_door  # noqa: E402


@pytest.fixture
async def client():
    token = new_token()

    async def ok(request):
        return web.Response(text=f"ok {request.path}")

    app = web.Application(middlewares=[token_door(token)])
    app.add_routes([web.get("/", ok), web.get("/ws", ok), web.get("/static/{name}", ok),
                    web.get("/download/{key}", ok)])
    async with TestClient(TestServer(app)) as c:
        c.token = token
        yield c


def test_tokens_are_random_and_long():
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 43 for t in tokens)


@pytest.mark.parametrize("path", ["/", "/ws", "/static/textual.js", "/download/abc", "/nowhere"])
async def test_without_the_token_every_route_is_refused(client, path):
    response = await client.get(path, allow_redirects=False)
    assert response.status == 403
    assert "token" in await response.text()


async def test_a_wrong_token_is_refused_in_the_url_and_in_the_cookie(client):
    wrong = client.token[:-2] + "xy"
    assert (await client.get(f"/?token={wrong}", allow_redirects=False)).status == 403
    assert (await client.get("/?token=", allow_redirects=False)).status == 403
    assert (await client.get("/", headers={"Cookie": f"{COOKIE}={wrong}"})).status == 403
    assert (await client.get("/", headers={"Cookie": f"{COOKIE}=é"})).status == 403  # not ASCII: no crash


async def test_the_token_in_the_url_becomes_a_cookie_and_leaves_the_url(client):
    response = await client.get(f"/?token={client.token}&fontsize=20", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/?fontsize=20"
    cookie = response.cookies[COOKIE]
    assert cookie.value == client.token
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    page = await client.get("/", headers={"Cookie": f"{COOKIE}={client.token}"})
    assert page.status == 200 and await page.text() == "ok /"
    assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_a_websocket_with_the_token_in_its_url_is_let_in_without_a_redirect(client):
    response = await client.get(f"/ws?token={client.token}", headers={"Upgrade": "websocket"}, allow_redirects=False)
    assert response.status == 200 and await response.text() == "ok /ws"


async def test_another_sites_page_is_refused_even_with_the_token(client):
    headers = {"Cookie": f"{COOKIE}={client.token}", "Origin": "http://evil.example"}
    assert (await client.get("/ws", headers=headers)).status == 403
    same = {"Cookie": f"{COOKIE}={client.token}", "Origin": f"http://{client.host}:{client.port}"}
    assert (await client.get("/ws", headers=same)).status == 200
