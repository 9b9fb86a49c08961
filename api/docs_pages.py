"""The interactive API documentation (``/docs``, Swagger UI; ``/redoc``, ReDoc), served with
framing refused and a Content-Security-Policy that allows exactly what each page loads.

FastAPI's pages load their script and style from a CDN and run one inline script (Swagger UI's
start-up). The policy is derived from the page's own HTML: the origins of its scripts,
stylesheets and icon, and the SHA-256 of each inline script, so it stays exact if FastAPI
changes the page. Inline *styles* are allowed: both UIs set them at run time; no inline or
evaluated script is.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"

_SCRIPT_SRC = re.compile(r'<script[^>]*\bsrc="([^"]+)"', re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_LINK = re.compile(r"<link\b([^>]*)>", re.IGNORECASE)
_HREF = re.compile(r'\bhref="([^"]+)"', re.IGNORECASE)
_REL = re.compile(r'\brel="([^"]+)"', re.IGNORECASE)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'"


def _sorted(values: set[str]) -> str:
    return " ".join(sorted(values))


def content_security_policy(
    html: str, *, font_origins: tuple[str, ...] = (), worker_src: str | None = None
) -> str:
    """The policy allowing exactly what the page's HTML loads (plus the fonts its stylesheet
    and the worker its script start, which the HTML does not name)."""
    scripts = {_origin(src) for src in _SCRIPT_SRC.findall(html)}
    for body in _INLINE_SCRIPT.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        scripts.add(f"'sha256-{digest}'")
    styles, images = {"'unsafe-inline'"}, {"'self'", "data:"}
    for attributes in _LINK.findall(html):
        href, rel = _HREF.search(attributes), _REL.search(attributes)
        if href is None or rel is None:
            continue
        if "stylesheet" in rel.group(1).lower():
            styles.add(_origin(href.group(1)))
        elif "icon" in rel.group(1).lower():
            images.add(_origin(href.group(1)))
    directives = [
        "default-src 'none'",
        f"script-src {_sorted(scripts)}",
        f"style-src {_sorted(styles)}",
        f"img-src {_sorted(images)}",
        "connect-src 'self'",  # the OpenAPI document, and Swagger UI's "Try it out"
    ]
    if font_origins:
        directives.append(f"font-src {' '.join(font_origins)}")
    if worker_src:
        directives.append(f"worker-src {worker_src}")
    directives += ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]
    return "; ".join(directives)


def _page(html: str, policy: str) -> HTMLResponse:
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": policy,
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def register_docs_pages(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` (the app is built with FastAPI's own turned off)."""
    openapi_url = app.openapi_url or "/openapi.json"
    swagger = get_swagger_ui_html(
        openapi_url=openapi_url, title=f"{app.title} - Swagger UI"
    ).body.decode()
    redoc = get_redoc_html(openapi_url=openapi_url, title=f"{app.title} - ReDoc").body.decode()
    swagger_policy = content_security_policy(swagger)
    # ReDoc's Google Fonts stylesheet loads the fonts themselves from fonts.gstatic.com; its
    # search runs in a worker made from a blob.
    redoc_policy = content_security_policy(
        redoc, font_origins=("https://fonts.gstatic.com",), worker_src="blob:"
    )

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _page(swagger, swagger_policy)

    @app.get(REDOC_PATH, include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return _page(redoc, redoc_policy)
