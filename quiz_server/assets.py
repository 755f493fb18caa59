"""Static files for phones on weak networks: URLs versioned by content, bodies compressed once,
and a year in the browser's cache for a versioned URL.

A page names each file as `/static/<file>?v=<hash of its content>` (`url()`), so a changed file
gets a new URL and a versioned one never changes: its response says `immutable` and a phone
never asks again. A request whose `v` is not the file's current hash (an old page, or a process
still serving the previous release) is answered `no-cache`, so no browser keeps the wrong
content under a URL for a year. Each file is read and hashed once per process (again only when
its modification time or size changes) and compressed, at brotli's and gzip's best levels, on
the first request that accepts each encoding (about 0.4 s for the phone page's files, once). The pages themselves (HTML, JSON) are compressed on the fly by Flask-Compress
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
    """One static file as served: its version, and its body in each encoding worth sending
    (compressed on the first request that accepts it; a page naming the file only hashes it)."""

    version: str
    mimetype: str
    stamp: tuple[int, int]  # (mtime_ns, size) of the file this was read from
    data: bytes
    packed: dict[str, bytes | None] = field(default_factory=dict)  # None: not worth sending

    def body(self, encoding: str) -> bytes | None:
        """The body in `encoding` ("br" or "gzip"), or None when it would not be smaller."""
        if encoding not in self.packed:
            self.packed[encoding] = self._pack(encoding)
        return self.packed[encoding]

    def _pack(self, encoding: str) -> bytes | None:
        if not self.mimetype.startswith(COMPRESSIBLE) or len(self.data) < MIN_COMPRESS:
            return None
        if encoding == "br":
            packed = brotli.compress(self.data, quality=11)
        else:
            packed = gzip.compress(self.data, compresslevel=9, mtime=0)
        return packed if len(packed) < len(self.data) else None


def read_asset(path: Path) -> Asset:
    stat = path.stat()
    data = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    version = hashlib.sha256(data).hexdigest()[:12]
    return Asset(version, mimetype, (stat.st_mtime_ns, stat.st_size), data)


class AssetStore:
    """A static folder's files, each read once per change (shared by a process's apps)."""

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


_STORES: dict[str, AssetStore] = {}


def init_app(app: Flask) -> None:
    """Serve /static/ from the store and compress the dynamic responses."""
    folder = app.static_folder or ""
    app.extensions["quiz_assets"] = _STORES.setdefault(folder, AssetStore(folder))
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
    encoding, body = choose_body(asset)
    response = Response(body, mimetype=asset.mimetype)
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    versioned = request.args.get("v") == asset.version
    response.headers["Cache-Control"] = IMMUTABLE if versioned else REVALIDATE
    response.set_etag(f"{asset.version}-{encoding}")
    return response.make_conditional(request)


def choose_body(asset: Asset) -> tuple[str, bytes]:
    """The smallest body the browser accepts (brotli before gzip, plain as the last resort)."""
    accepted = request.accept_encodings
    for encoding in ("br", "gzip"):
        if accepted.quality(encoding) > 0:
            body = asset.body(encoding)
            if body is not None:
                return encoding, body
    return "identity", asset.data
