"""What the stack's test (tests/integration/stack_test.py), its demo
(stack/demo.py) and its benchmarks (bench/) need to talk to the stack: HTTPS
requests through a proxy from a chosen source address, a WebSocket echo over
TLS, a free port, waiting for a condition, and the etcd leader. Python's
standard library only.
"""
import base64
import http.client
import json
import os
import socket
import subprocess
import ssl
import time


def free_port():
    # Not 80/443: a machine with Debian's nginx package may run its own nginx
    # on *:80. A port free on every address now; the stack binds it next.
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def wait_for(pred, seconds, step=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    return pred()


class Client:
    """HTTPS (or HTTP) requests to one proxy, from a chosen source address."""

    def __init__(self, ca):
        self.ctx = ssl.create_default_context(cafile=ca)

    def request(self, url_base, path, method="GET", headers=None, body=None, source="127.0.0.1", timeout=5):
        scheme, rest = url_base.split("://")
        host, port = rest.split(":")
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, int(port), context=self.ctx, timeout=timeout,
                                               source_address=(source, 0))
        else:
            conn = http.client.HTTPConnection(host, int(port), timeout=timeout, source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode(errors="replace")
        finally:
            conn.close()


def etcd_leader(discovery):
    """The name of the member the others follow, from /v3/maintenance/status;
    `discovery` is `run.sh status --json`'s tiers.discovery. None without one."""
    for m in discovery:
        try:
            conn = http.client.HTTPConnection(m["address"], m["port"], timeout=2)
            conn.request("POST", "/v3/maintenance/status", body="{}")
            st = json.loads(conn.getresponse().read())
            conn.close()
        except (OSError, ValueError):
            continue
        if st.get("leader") and st.get("header", {}).get("member_id") == st["leader"]:
            return m["name"]
    return None


def catalog_instances(autopilot, catalog_args):
    """Every instance in the catalog (`autopilot catalog`, with the stack's
    `catalog_args` from `run.sh status --json`), as (service, id), sorted;
    None when the catalog does not answer."""
    def read(*what):
        out = subprocess.run([autopilot, "catalog", *what, *catalog_args], capture_output=True, text=True)
        return json.loads(out.stdout) if out.returncode == 0 else None

    services = read("services")
    if services is None:
        return None
    found = []
    for s in services:
        instances = read("service", s, "--all")
        if instances is None:
            return None
        found += [(s, i["id"]) for i in instances]
    return sorted(found)


def websocket_echo(ctx, host, port, path, messages):
    """A minimal WebSocket client over TLS: masked text frames out, frames back."""
    raw = socket.create_connection((host, port), timeout=5)
    return websocket_echo_on(ctx.wrap_socket(raw, server_hostname=host), host, path, messages)


def websocket_echo_on(s, host, path, messages):
    """The same on a connected (TLS) socket `s`, `host` for the Host header."""
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise IOError("closed during the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise IOError("no upgrade: " + head.decode(errors="replace").splitlines()[0])

    def recv_exact(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise IOError("closed")
            buf += chunk
        return buf

    answers = []
    for m in messages:
        payload = m.encode()
        mask = os.urandom(4)
        frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        s.sendall(frame)
        b0, b1 = recv_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(recv_exact(2), "big")
        answers.append(recv_exact(n).decode())
    s.close()
    return answers
