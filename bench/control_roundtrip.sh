#!/usr/bin/env bash
# Control socket round trip (issue #17): `autopilot -putmetric` as a whole
# process against a raw request on the socket, in the same run, with the cost
# of spawning a bare process (/bin/true) as the floor of the first.
#   bench/control_roundtrip.sh [requests]   (default 500 each)
#   BUILD=build-x bench/control_roundtrip.sh
# Prints p50 and p99 of each in microseconds, and each p50 as a ratio to the
# raw request's.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-500}"
build="${BUILD:-build}"
[[ $build = /* ]] || build="$PWD/$build"
bin="$build/src/autopilot"
tmp="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/c.json5" <<JSON
{
  logging: { level: "WARN" },
  control: { socket: "$tmp/control.sock" },
  jobs: [ { name: "app", exec: "sleep 1000" } ],
  telemetry: { port: $port, interfaces: ["static:127.0.0.1"],
               metrics: [ { name: "hits_total", help: "hits", type: "counter" } ] },
}
JSON
"$bin" -config "$tmp/c.json5" >"$tmp/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [[ -S $tmp/control.sock ]] && break; sleep 0.05; done

python3 - "$bin" "$tmp/c.json5" "$tmp/control.sock" "$n" <<'PY'
import socket, subprocess, sys, time
bin, config, sock, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

def timed(f):
    out = []
    for _ in range(n):
        t = time.perf_counter_ns()
        f()
        out.append((time.perf_counter_ns() - t) / 1000)
    return out

def raw(body=b'{"hits_total":"1"}', path=b"/v3/metric"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: control\r\nConnection: close\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    got = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    assert got.startswith(b"HTTP/1.1 200"), got

def cli():
    subprocess.run([bin, "-config", config, "-putmetric", "hits_total=1"], check=True)

def floor():
    subprocess.run(["/bin/true"], check=True)

results = [("raw socket POST /v3/metric", timed(raw)),
           ("raw socket POST /v3/ping", timed(lambda: raw(b"", b"/v3/ping"))),
           ("autopilot -putmetric (process)", timed(cli)),
           ("/bin/true (process spawn floor)", timed(floor))]
base = pct(results[0][1], 50)
print(f"{n} requests each")
print(f"{'':34} {'p50 us':>9} {'p99 us':>9} {'p50 / raw':>10}")
for name, xs in results:
    print(f"{name:34} {pct(xs, 50):9.0f} {pct(xs, 99):9.0f} {pct(xs, 50) / base:10.1f}")
PY
echo "metric after the run: $(python3 -c "import urllib.request; print([l for l in urllib.request.urlopen('http://127.0.0.1:$port/metrics').read().decode().splitlines() if l.startswith('hits_total')][0])")"
