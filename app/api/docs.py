"""The Redoc page. FastAPI-offline serves the Redoc bundle from this server, yet the bundle
still loads its footer's logo from Redocly's CDN; the page here loads the bundle with that
address turned into our own favicon's, so the page requests nothing from another host."""

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import Request, Response
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse

from app.api.deps import api_router

STATIC_URL = "/static/docs"
FAVICON_URL = f"{STATIC_URL}/favicon.png"
REDOC_URL = "/redoc"
REDOC_BUNDLE_URL = "/static/redoc/redoc.standalone.js"
REMOTE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_BUNDLE = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"

router = api_router(include_in_schema=False)


@cache
def redoc_bundle() -> bytes:
    return _BUNDLE.read_text(encoding="utf-8").replace(REMOTE_LOGO, FAVICON_URL).encode()


@router.get(REDOC_URL)
async def redoc_page(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{REDOC_BUNDLE_URL}",
        redoc_favicon_url=f"{root}{FAVICON_URL}",
        with_google_fonts=False,
    )


@router.get(REDOC_BUNDLE_URL)
async def redoc_script() -> Response:
    return Response(
        redoc_bundle(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )
