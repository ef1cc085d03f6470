"""The console at `/`: its page and built files, served by the same process as the API.

The page itself holds no data; everything it shows comes from the API with the person's
session, so the console can do nothing the API would refuse them.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from orderhub.console import DIST, built

__all__ = ["add_console"]

# Element Plus sets inline styles; nothing else is allowed from anywhere but the hub.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>orderhub</title>
<p>The console has not been built. It is built by <code>pip install</code> when npm is
present; from a source checkout: <code>npm --prefix console ci &amp;&amp;
npm --prefix console run build</code>. The API is at <a href="/docs">/docs</a>.</p>"""


def add_console(app: FastAPI) -> None:
    """Serve the console's page at `/` and its files under `/assets`."""
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    def console_page() -> Response:
        if not built():
            return HTMLResponse(_NOT_BUILT, headers=_HEADERS)
        return FileResponse(DIST / "index.html", media_type="text/html", headers=_HEADERS)

    app.include_router(router)
    app.mount("/assets", StaticFiles(directory=DIST / "assets", check_dir=False), name="assets")
