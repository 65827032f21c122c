"""Versioned asset URLs: /static/css/app.css?v=<hash of the file's bytes>.

A page names each asset with the hash of what is deployed, so a browser may keep the file for a year
without asking again, and a deploy that changes the file changes its URL.
"""

from functools import lru_cache
from hashlib import sha256
from importlib import resources

STATIC_DIR = resources.files("baishitong") / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
# Unversioned (or outdated) URLs: the browser checks the ETag before each reuse.
REVALIDATE = "no-cache"


@lru_cache(maxsize=None)
def file_version(full_path: str) -> str:
    """Read once per process: assets change only with a deploy, which restarts it."""
    with open(full_path, "rb") as file:
        return sha256(file.read()).hexdigest()[:12]


def static_url(path: str) -> str:
    """The Jinja global for every asset a page references: `static_url("css/app.css")`."""
    return f"/static/{path}?v={file_version(str(STATIC_DIR / path))}"
