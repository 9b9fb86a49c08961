"""The API documentation pages (``/docs``, ``/redoc``) cannot be framed, and their
Content-Security-Policy allows what each page loads and no inline or evaluated script."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.settings import build_settings

PAGES = pytest.mark.parametrize("path", ["/docs", "/redoc"])


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    """The app, not started: the pages need no store."""
    settings = build_settings(
        environment="development", database_url=None, sqlite_path=tmp_path / "ledger.sqlite"
    )
    return TestClient(create_app(settings))


def policy(client: TestClient, path: str) -> dict[str, list[str]]:
    response = client.get(path)
    assert response.status_code == 200
    directives = [d.split() for d in response.headers["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@PAGES
def test_docs_page_may_not_be_framed(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.headers["X-Frame-Options"] == "DENY"
    assert policy(client, path)["frame-ancestors"] == ["'none'"]


@PAGES
def test_docs_page_policy_allows_every_script_and_stylesheet_it_loads(
    client: TestClient, path: str
) -> None:
    html = client.get(path).text
    found = policy(client, path)

    for src in re.findall(r'<script[^>]*src="([^"]+)"', html):
        assert origin(src) in found["script-src"], src
    for inline in re.findall(r"<script>(.*?)</script>", html, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in found["script-src"]
    for href in re.findall(r'<link[^>]*rel="stylesheet"[^>]*>', html):
        url = re.search(r'href="([^"]+)"', href)
        assert url is not None
        assert origin(url.group(1)) in found["style-src"], href
    assert found["connect-src"] == ["'self'"]  # the OpenAPI document


@PAGES
def test_docs_page_policy_runs_no_other_script(client: TestClient, path: str) -> None:
    found = policy(client, path)

    assert found["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in found["script-src"]
    assert "'unsafe-eval'" not in found["script-src"]
