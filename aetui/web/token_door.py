"""The web server's door: nothing answers without the token made at start.

The token comes once in the URL (`/?token=...`, as Jupyter does); the page then keeps it in an
HttpOnly SameSite=Strict cookie and is sent to the clean URL. Every route (the page, the
websocket that starts a tab's process, the static files, the downloads) is refused with 403
without it. Tokens are compared in constant time. A websocket must also come from a page of this
server (its Origin): a SameSite cookie already keeps other sites out, this is the second lock.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web

COOKIE = "aetui_token"
TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits


def new_token() -> str:
    """A fresh random token for one run of the server."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_door(token: str):
    """An aiohttp middleware that lets in only requests carrying `token` (cookie or ?token=)."""
    expected = token.encode()

    def matches(given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), expected)

    @web.middleware
    async def door(request: web.Request, handler):
        by_cookie = matches(request.cookies.get(COOKIE))
        by_query = not by_cookie and matches(request.query.get("token"))
        if not (by_cookie or by_query) or not _same_origin(request):
            return web.Response(status=403, text="403: this aetui server needs the token it printed at start "
                                                 "(open the URL with ?token=...)\n")
        if by_query and request.method == "GET" and request.headers.get("Upgrade", "").lower() != "websocket":
            # Keep it in a cookie and leave the token out of the address bar and the history.
            query = request.query.copy()
            query.popall("token")
            response = web.Response(status=302, headers={"Location": str(request.rel_url.with_query(query)),
                                                         "Cache-Control": "no-store"})
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            return response
        response = await handler(request)
        if isinstance(response, web.Response):
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    return door


def _same_origin(request: web.Request) -> bool:
    """A request with an Origin header (every websocket a browser opens) comes from this host."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()
