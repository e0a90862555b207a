"""The web console (`web/dist`, built by `make web`) served by the API's own process.

- `/assets/...`: Vite's content-hashed files; a new build gets new names, so they are cached
  for a year as immutable.
- Other files at the top of `web/dist` (e.g. `favicon.svg`): served as is, revalidated.
- Any other GET path is a client route of the single-page app and answers `index.html` with
  `no-cache`, so a deploy is picked up on the next navigation; API prefixes never fall back
  (a mistyped API URL must be a 404, not an HTML page with status 200).
- When the console is not built, `/` and client routes answer a short page saying how to build
  it; the API works regardless.

Every console response carries a strict Content-Security-Policy: scripts, styles, fonts, images
and connections from this origin only (plus its WebSocket), no framing, no plugins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

logger = logging.getLogger(__name__)

# The repository's `web/dist`, next to the `app` package.
DEFAULT_CONSOLE_DIR = Path(__file__).resolve().parents[2] / "web" / "dist"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Paths owned by the API: never answered with the console's index.html.
API_PREFIXES = ("/graphql", "/api", "/healthz", "/readyz", "/metrics", "/assets")

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>The web console is not built</h1>
<p>Build it with <code>make web</code> (needs Node.js 20 or newer), then reload this page.
<code>make run</code> builds it too when Node.js is installed.</p>
<p>The API works regardless: <code>POST /graphql</code>.</p>
</body>
</html>
"""


def content_security_policy(request: Request) -> str:
    """Self only. `connect-src` names the WebSocket of this origin explicitly: older browsers
    do not treat ws:/wss: as matching 'self'."""
    ws_scheme = "wss" if request.url.scheme in {"https", "wss"} else "ws"
    host = request.url.netloc
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            # GraphiQL's stylesheet embeds its fonts as data: URLs (no request leaves the page).
            "font-src 'self' data:",
            f"connect-src 'self' {ws_scheme}://{host}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _secure(response: Response, request: Request, cache_control: str) -> Response:
    response.headers["Cache-Control"] = cache_control
    response.headers["Content-Security-Policy"] = content_security_policy(request)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class HashedAssets(StaticFiles):
    """StaticFiles (path safety, ETag / 304) plus the immutable cache header and the CSP."""

    async def check_config(self) -> None:
        # The console may be built after start-up: a missing directory is "no such asset" (404),
        # not StaticFiles' RuntimeError (a 500).
        return

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        return _secure(response, Request(scope), IMMUTABLE)


class Console:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def index(self) -> Path:
        return self.directory / "index.html"

    def _top_level_file(self, path: str) -> Path | None:
        """A file directly in the build directory (no sub-paths, no dot-files)."""
        if not path or "/" in path or path.startswith("."):
            return None
        candidate = self.directory / path
        return candidate if candidate.is_file() else None

    async def page(self, request: Request) -> Response:
        path = request.path_params.get("path", "")
        url_path = "/" + path
        if not self.index.is_file():
            # Checked per request (one stat) so a build made while the server runs is served.
            logger.debug("console.page.not_built", extra={"path": url_path})
            page = HTMLResponse(NOT_BUILT_PAGE, status_code=503)
            return _secure(page, request, "no-store")
        found = self._top_level_file(path)
        if found is not None and found.name != "index.html":
            return _secure(FileResponse(found), request, REVALIDATE)
        if "." in path.rsplit("/", 1)[-1]:
            # A missing file (a stale favicon, a typo'd asset): 404, not the app's HTML.
            return _secure(PlainTextResponse("Not Found", status_code=404), request, REVALIDATE)
        return _secure(FileResponse(self.index, media_type="text/html"), request, REVALIDATE)


def is_api_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


class ConsoleRoute(Route):
    """The SPA's catch-all, which does not even match a path the API owns: there Starlette
    answers as if the console did not exist (a 404, or the API route's own 405 for a method it
    does not take) instead of the console claiming the request."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def console_routes(directory: Path = DEFAULT_CONSOLE_DIR) -> Sequence[BaseRoute]:
    """Routes to append after the API's: the hashed assets and the SPA's catch-all."""
    console = Console(directory)
    return [
        Mount(
            "/assets",
            app=HashedAssets(directory=directory / "assets", check_dir=False),
            name="console-assets",
        ),
        ConsoleRoute("/{path:path}", console.page, methods=["GET", "HEAD"], name="console"),
    ]
