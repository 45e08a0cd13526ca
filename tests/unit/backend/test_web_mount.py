"""The web UI layer: which paths it answers, its headers, and that it stays up in maintenance."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from em_backend.web import mount

STATIC = mount.STATIC_DIR


async def _maintenance(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands for the backend in maintenance: every request answers 503."""
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 503, "headers": []})
    await send({"type": "http.response.body", "body": b"maintenance"})


def _client(directory: Path = STATIC) -> TestClient:
    return TestClient(mount.WebUI(_maintenance, directory=directory))


def test_ui_paths() -> None:
    def path_of(method: str, path: str) -> str | None:
        return mount.ui_path({"type": "http", "method": method, "path": path})

    assert path_of("GET", "/") == "/index.html"
    assert path_of("HEAD", "/index.html") == "/index.html"
    assert path_of("GET", "/ui/js/app.js") == "/js/app.js"
    assert path_of("POST", "/") is None
    assert path_of("GET", "/ui") is None
    assert path_of("GET", "/uix/app.css") is None
    assert path_of("GET", "/api/v1/stocks") is None
    assert path_of("GET", "/health") is None
    assert mount.ui_path({"type": "websocket", "path": "/"}) is None


def test_page_and_assets_load_while_the_api_is_in_maintenance() -> None:
    client = _client()
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/js/app.js">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    script = client.get("/ui/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert client.get("/ui/app.css").headers["content-type"].startswith("text/css")
    assert client.get("/api/v1/stocks").status_code == 503


def test_no_file_outside_the_static_folder(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "index.html").write_text("<p>ui</p>")
    (tmp_path / "secret.txt").write_text("nope")
    client = _client(tmp_path / "static")
    assert client.get("/ui/../secret.txt").status_code in (404, 503)
    assert client.get("/ui/%2e%2e/secret.txt").status_code == 404
    assert client.get("/ui/missing.js").status_code == 404


def test_every_asset_the_page_names_exists() -> None:
    """No CDN and no build step: what index.html and the modules import is committed."""
    index = (STATIC / "index.html").read_text()
    for ref in ("/ui/app.css", "/ui/js/app.js", "/ui/favicon.svg"):
        assert ref in index
        assert (STATIC / ref.removeprefix("/ui/")).is_file()
    for module in (STATIC / "js").rglob("*.js"):
        text = module.read_text()
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text.replace("https://${source}", "")
        for line in text.splitlines():
            if line.startswith("import ") and " from '" in line:
                target = line.split(" from '")[1].split("'")[0]
                assert (module.parent / target).resolve().is_file(), (module, target)


def test_install_wraps_the_app() -> None:
    app = FastAPI()

    @app.get("/api/v1/ping")
    def ping() -> dict[str, str]:
        return {"pong": "yes"}

    mount.install(app)
    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/ping").json() == {"pong": "yes"}
        assert client.post("/").status_code in (404, 405)
        assert client.get("/ui/missing.js").status_code == 404
