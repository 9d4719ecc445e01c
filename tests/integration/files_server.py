#!/usr/bin/env python3
"""A small HTTP(S) file server for the `files` integration tests.

Serves ROOT's files on 127.0.0.1 (port 0: the kernel picks; the first line
printed is "listening on PORT"). Paths under /private/ need
"Authorization: Bearer TOKEN" (--token); /flaky/* answers 503 to its first
--flaky requests. Each request is logged as "GET PATH STATUS auth=yes|no".
"""
import argparse
import http.server
import os
import ssl
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("--token", default="")
    p.add_argument("--flaky", type=int, default=0)
    p.add_argument("--cert", default="")
    p.add_argument("--key", default="")
    args = p.parse_args()
    state = {"flaky": args.flaky}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, status, body=b""):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            auth = "yes" if self.headers.get("Authorization") else "no"
            print(f"GET {self.path} {status} auth={auth}", flush=True)

        def do_GET(self):
            path = self.path.split("?")[0]
            if ".." in path:
                return self.reply(400)
            if path.startswith("/flaky/") and state["flaky"] > 0:
                state["flaky"] -= 1
                return self.reply(503)
            if path.startswith("/private/") and self.headers.get("Authorization") != "Bearer " + args.token:
                return self.reply(401)
            full = os.path.join(args.root, path.lstrip("/"))
            if not os.path.isfile(full):
                return self.reply(404)
            with open(full, "rb") as f:
                self.reply(200, f.read())

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
