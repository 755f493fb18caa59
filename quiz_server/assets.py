"""Static files for phones on weak networks: URLs versioned by content, bodies compressed once,
and a year in the browser's cache for a versioned URL.

A page names each file as `/static/<file>?v=<hash of its content>` (`url()`), so a changed file
gets a new URL and a versioned one never changes: its response says `immutable` and a phone
never asks again. A request whose `v` is not the file's current hash (an old page, or a process
still serving the previous release) is answered `no-cache`, so no browser keeps the wrong
content under a URL for a year. Each file is read, hashed and compressed (brotli and gzip at
their best levels) once, on first use, and again only when its modification time or size
changes. The pages themselves (HTML, JSON) are compressed on the fly by Flask-Compress
(`init_app`); Socket.IO's own requests never pass through Flask and are left alone.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from flask import Flask, Response, abort, current_app, request, url_for
from flask_compress import Compress
from werkzeug.security import safe_join
from werkzeug.wrappers import Response as BaseResponse

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
MIN_COMPRESS = 512  # smaller bodies gain less than the header costs
# What Flask-Compress compresses on the fly: the pages and the JSON of the APIs. Files
# (exports, static files) are left to their own views.
DYNAMIC_MIMETYPES = ["text/html", "application/json", "image/svg+xml"]


@dataclass(frozen=True)
class Asset:
    """One static file as served: its version and its body in each encoding worth sending."""

    version: str
    mimetype: str
    stamp: tuple[int, int]  # (mtime_ns, size) of the file this was read from
    bodies: dict[str, bytes] = field(default_factory=dict)  # "identity", "br", "gzip"


def read_asset(path: Path) -> Asset:
    stat = path.stat()
    data = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    bodies = {"identity": data}
    if mimetype.startswith(COMPRESSIBLE) and len(data) >= MIN_COMPRESS:
        for encoding, packed in (
            ("br", brotli.compress(data, quality=11)),
            ("gzip", gzip.compress(data, compresslevel=9, mtime=0)),
        ):
            if len(packed) < len(data):
                bodies[encoding] = packed
    version = hashlib.sha256(data).hexdigest()[:12]
    return Asset(version, mimetype, (stat.st_mtime_ns, stat.st_size), bodies)


class AssetStore:
    """The static folder's files, each read once per change (shared by a process's requests)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._assets: dict[str, Asset] = {}

    def get(self, filename: str) -> Asset | None:
        found = safe_join(self.folder, filename)
        path = Path(found) if found else None
        if path is None or not path.is_file():
            return None
        stat = path.stat()
        cached = self._assets.get(filename)
        if cached and cached.stamp == (stat.st_mtime_ns, stat.st_size):
            return cached
        asset = self._assets[filename] = read_asset(path)
        return asset


def init_app(app: Flask) -> None:
    """Serve /static/ from the store and compress the dynamic responses."""
    app.extensions["quiz_assets"] = AssetStore(app.static_folder or "")
    app.view_functions["static"] = serve
    app.config.update(
        COMPRESS_MIMETYPES=DYNAMIC_MIMETYPES,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,  # a 12 KB page: 3.7 KB, against 4.4 KB at the default 4; as fast
        COMPRESS_STREAMS=False,  # downloads stream; a page never does
        COMPRESS_MIN_SIZE=MIN_COMPRESS,
        COMPRESS_REGISTER=False,  # registered below, to run after every other hook
    )
    compress = Compress(app)
    # Flask runs the app's after-request hooks last-registered first: the first one in the list
    # sees the response last, after i18n has rewritten a page into Traditional characters.
    app.after_request_funcs.setdefault(None, []).insert(0, compress.after_request)


def _store() -> AssetStore:
    store: AssetStore = current_app.extensions["quiz_assets"]
    return store


def url(filename: str) -> str:
    """The static URL of `filename`, versioned by its content (unversioned if it is missing)."""
    asset = _store().get(filename)
    if asset is None:
        return url_for("static", filename=filename)
    return url_for("static", filename=filename, v=asset.version)


def serve(filename: str) -> BaseResponse:
    asset = _store().get(filename)
    if asset is None:
        abort(404)
    encoding = choose_encoding(asset)
    response = Response(asset.bodies[encoding], mimetype=asset.mimetype)
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    versioned = request.args.get("v") == asset.version
    response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
    response.set_etag(f"{asset.version}-{encoding}")
    return response.make_conditional(request)


def choose_encoding(asset: Asset) -> str:
    """The smallest body the browser accepts (brotli before gzip, plain as the last resort)."""
    accepted = request.accept_encodings
    for encoding in ("br", "gzip"):
        if encoding in asset.bodies and accepted.quality(encoding) > 0:
            return encoding
    return "identity"
