"""Pages name each asset with the hash of its bytes, and only such a URL is cached for a year."""

import hashlib
import re
from importlib import resources

import pytest

from tests.web.test_pages import login

STATIC = resources.files("baishitong") / "static"
TEMPLATES = resources.files("baishitong") / "templates"
ASSET = re.compile(r"""["'](/static/[^"'?]+)(?:\?v=([0-9a-f]+))?["']""")


def test_no_template_names_an_asset_without_static_url():
    literal = {path.name for path in TEMPLATES.rglob("*.html") if "/static/" in path.read_text("utf-8")}
    assert literal == set(), "an unversioned /static/ URL would be revalidated on every load"


@pytest.mark.parametrize(("user", "path"), [(None, "/"), (None, "/staff/login"), ("t_admin", "/staff"), (None, "/docs")])
def test_every_asset_a_page_references_carries_the_hash_of_its_file(web, user, path):
    if user:
        login(web, user)
    page = web.get(path)
    assert page.status_code == 200
    found = ASSET.findall(page.text)
    assert found
    for url, version in found:
        assert version == hashlib.sha256((STATIC / url.removeprefix("/static/")).read_bytes()).hexdigest()[:12], url
        served = web.get(f"{url}?v={version}")
        assert served.status_code == 200 and served.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("query", ["", "?v=0123456789ab", "?v="])
def test_an_asset_without_the_current_hash_is_revalidated(client, query):
    css = client.get(f"/static/css/app.css{query}")
    assert css.status_code == 200 and css.headers["cache-control"] == "no-cache"
    again = client.get(f"/static/css/app.css{query}", headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == "no-cache"


def test_the_address_browsers_ask_for_an_icon_at_leads_to_the_site_icon(client):
    moved = client.get("/favicon.ico", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"].startswith("/static/img/favicon.svg?v=")
    icon = client.get(moved.headers["location"])
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml") and b"<svg" in icon.content
