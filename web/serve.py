#!/usr/bin/env python3
"""Serves the p2shim web page (web/) on a local port (Python 3.11, stdlib only).

    python3 web/serve.py [--port 8000] [--bind 127.0.0.1] [--shim target/p2shim.wasm]

URL paths: /p2shim.wasm is the shim (--shim), /vendor/browser_wasi_shim/ the pinned
@bjorn3/browser_wasi_shim (web/node_modules, from `npm ci` in web/), everything else a
file of web/. Prints `serving http://HOST:PORT/` once listening (port 0 picks a free one).
"""
from __future__ import annotations

import argparse
import functools
import http.server
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent
REPO = WEB.parent
VENDOR = WEB / "node_modules" / "@bjorn3" / "browser_wasi_shim" / "dist"


class Handler(http.server.SimpleHTTPRequestHandler):
    shim: Path = REPO / "target" / "p2shim.wasm"
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript",
                      ".mjs": "text/javascript"}

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path == "/p2shim.wasm":
            return str(self.shim)
        if path.startswith("/vendor/browser_wasi_shim/"):
            rel = path.removeprefix("/vendor/browser_wasi_shim/")
            return str(VENDOR / rel) if ".." not in rel.split("/") else str(VENDOR / "missing")
        if path.startswith("/node_modules/") or path.startswith("/screenshots/"):
            return str(WEB / "missing")
        return super().translate_path(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, fmt: str, *args) -> None:  # quiet unless asked
        if self.server.verbose:  # type: ignore[attr-defined]
            super().log_message(fmt, *args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--shim", type=Path, default=Handler.shim)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if not a.shim.is_file():
        sys.exit(f"serve: {a.shim} not found (make shim)")
    if not (VENDOR / "index.js").is_file():
        sys.exit(f"serve: {VENDOR} missing (cd web && npm ci)")
    Handler.shim = a.shim.resolve()
    server = http.server.ThreadingHTTPServer((a.bind, a.port),
                                             functools.partial(Handler, directory=str(WEB)))
    server.verbose = a.verbose  # type: ignore[attr-defined]
    host, port = server.server_address[:2]
    print(f"serving http://{host}:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
