#!/usr/bin/env python3
"""jwks_server.py - a small key server for tests/integration/keys_remote.sh.

    jwks_server.py DIR PORT [CERT KEY]

Serves HTTPS on 127.0.0.1:PORT with CERT/KEY (PEM), or plain HTTP without
them. A request for /NAME/FILE answers from the folder DIR/NAME, as that
folder says at the time of the request (the test switches it at run time
by writing files):

  DIR/NAME/mode      ok (default), 500, garbage, big (a 5 MiB body),
                     hang (says nothing for 8 s, then closes), or
                     redirect (302 to the URL in DIR/NAME/location)
  DIR/NAME/max_age   when present, its number is sent as
                     "Cache-Control: max-age=N" (mode ok)
  DIR/NAME/FILE      the body for /NAME/FILE (mode ok); the discovery
                     path /NAME/.well-known/openid-configuration reads
                     DIR/NAME/openid-configuration

Every request, /_health excepted, is first appended to DIR/requests.log as
one line "NAME FILE MODE" (MODE "ok,max-age=N" when max_age is sent), so the test can count what claimgate fetched
(and prove what it did not). GET /_health answers 200 "ok".
"""
import os
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = sys.argv[1]
PORT = int(sys.argv[2])
CERT = sys.argv[3] if len(sys.argv) > 4 else None
KEY = sys.argv[4] if len(sys.argv) > 4 else None
HANG_SECONDS = 8
BIG = 5 * 1024 * 1024


def read(path, default=None):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return default


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def answer(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_health":
            self.answer(200, b"ok\n", "text/plain")
            return
        parts = path.lstrip("/").split("/", 1)
        name = parts[0] if parts[0] else "-"
        rest = parts[1] if len(parts) > 1 else ""
        safe = all(c.isalnum() or c in "-_" for c in name)
        folder = os.path.join(ROOT, name)
        mode = "ok"
        if safe:
            mode = (read(os.path.join(folder, "mode"), b"ok") or b"ok").decode().strip() or "ok"
        logged = mode
        if mode == "ok" and safe:
            age = read(os.path.join(folder, "max_age"))
            if age is not None:
                logged = "ok,max-age=%d" % int(age)
        with open(os.path.join(ROOT, "requests.log"), "a") as log:
            log.write("%s %s %s\n" % (name, rest or "-", logged))
        try:
            self.handle_mode(safe, folder, rest, mode)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass  # claimgate gave up on us: expected with big and hang

    def handle_mode(self, safe, folder, rest, mode):
        if not safe:
            self.answer(404, b"not found\n", "text/plain")
        elif mode == "500":
            self.answer(500, b'{"error":"internal"}\n')
        elif mode == "garbage":
            self.answer(200, b"<html>\x00\xff this is not a JWK Set {{{\n")
        elif mode == "big":
            # 5 MiB that would be a JWK Set, were it not so large.
            head = b'{"keys":[],"pad":"'
            tail = b'"}'
            body = head + b"A" * (BIG - len(head) - len(tail)) + tail
            self.answer(200, body)
        elif mode == "hang":
            time.sleep(HANG_SECONDS)
            self.answer(200, read(os.path.join(folder, "jwks.json"), b"{}"))
        elif mode == "redirect":
            loc = (read(os.path.join(folder, "location"), b"") or b"").decode().strip()
            self.answer(302, b"", "text/plain", [("Location", loc)])
        else:
            if rest == ".well-known/openid-configuration":
                rest = "openid-configuration"
            ok = rest and "/" not in rest and not rest.startswith(".")
            body = read(os.path.join(folder, rest)) if ok else None
            if body is None:
                self.answer(404, b"not found\n", "text/plain")
                return
            extra = []
            age = read(os.path.join(folder, "max_age"))
            if age is not None:
                extra.append(("Cache-Control", "public, max-age=%d" % int(age)))
            self.answer(200, body, extra=extra)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", PORT), Handler)
    if CERT is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(CERT, KEY)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
