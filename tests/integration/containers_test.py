#!/usr/bin/env python3
"""The reference stack as podman containers (stack/run.sh up --containers).

    containers_test.py            (ctest -L containers)

Builds the tiers' images (on the cached debootstrap base image: a cold run
builds that too), brings stack/compose.yaml up under podman-compose, then
checks, on the embedded catalog (a shared volume): every tier healthy and
registered with its own eth0 address (the catalog lists exactly the
containers' addresses), the proxies' certificate from the config tier (the
stash; no base64 env given) so that HTTPS through both proxies verifies with
the stack's CA, the 301 on http, affinity over 20 requests, a WebSocket echo
through TLS, a cache HIT, Prometheus' targets API listing every container's
autopilot as up, `scale app=3` (app-3 serves through both proxies) and back to
2 (app-3 stopped and gone), and `podman kill` of the Redis master (a replica
promoted and registered as `redis`, /session writing to it). Then the same
images on etcd (`up --containers --etcd`, the discovery tier as three etcd
containers): every tier healthy, HTTPS through both proxies, and `podman
kill` of an etcd member changes nothing (still serving, every other tier
healthy). Then `down`, and nothing of the project may be left: containers,
network, volume, image tags, images the run built (only the cached base
image stays). The clean-up runs on failure and on SIGTERM/SIGINT too;
projects left by a test run whose process died (SIGKILL) are removed by the
next run. Prints each phase's time.
Environment: AUTOPILOT_BIN, DEMO_APP, STACK_RUN (set by ctest).
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../stack"))
from stacklib import wait_for as stacklib_wait_for, websocket_echo_on  # noqa: E402

RUN = os.environ.get("STACK_RUN") or os.path.join(os.path.dirname(__file__), "../../stack/run.sh")
CONTAINERS_CONF = os.path.join(os.path.dirname(RUN), "containers", "containers.conf")
PREFIX = "autopilot-ctest-"
PROJECT = f"{PREFIX}{os.getpid()}"
STACK_DIR = tempfile.mkdtemp(prefix=f"autopilot-containers-test-{os.getpid()}-")
ENV = dict(os.environ, STACK_DIR=STACK_DIR, STACK_PROJECT=PROJECT, CONTAINERS_CONF=CONTAINERS_CONF)
failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def run(*args, timeout=600):
    """run.sh ARGS in its own process group: interrupted (a signal, a timeout), the whole group gets SIGTERM
    (podman build and podman-compose clean up after themselves), then SIGKILL after 20 s."""
    p = subprocess.Popen([RUN, *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException:
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
            try:
                os.killpg(p.pid, sig)
                p.wait(wait)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
        raise
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def podman(*args):
    return subprocess.run(["podman", *args], env=ENV, capture_output=True, text=True, timeout=120).stdout


def status():
    return json.loads(run("status", "--json", timeout=60).stdout)


def wait_for(pred, seconds, step=0.2):
    """stacklib's, polling podman less often by default."""
    return stacklib_wait_for(pred, seconds, step)


class Client:
    """HTTPS (or HTTP) to a proxy's address, verifying the certificate's name (`tls_name`) against the CA."""

    def __init__(self, ca, tls_name):
        self.ctx = ssl.create_default_context(cafile=ca)
        self.tls_name = tls_name

    def connect(self, host, port, timeout=5):
        return self.ctx.wrap_socket(socket.create_connection((host, port), timeout=timeout),
                                    server_hostname=self.tls_name)

    def request(self, url_base, path, method="GET", headers=None, body=None, timeout=5):
        scheme, rest = url_base.split("://")
        host, port = rest.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
        if scheme == "https":
            conn.sock = self.connect(host, int(port), timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}, Host=self.tls_name))
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode(errors="replace")
        finally:
            conn.close()


def websocket_echo(client, host, port, path, messages):
    """A WebSocket echo through TLS (stack/stacklib.py), verified against the proxies' certificate name."""
    return websocket_echo_on(client.connect(host, port), client.tls_name, path, messages)


def catalog_addresses(catalog, service):
    autopilot = os.environ.get("AUTOPILOT_BIN", os.path.join(os.path.dirname(RUN), "../build/src/autopilot"))
    out = subprocess.run([autopilot, "catalog", "service", service, "--discovery-dir", catalog],
                         capture_output=True, text=True)
    try:
        return sorted(i["address"] for i in json.loads(out.stdout))
    except ValueError:
        return []


def image_ids():
    return set(podman("images", "-a", "-q", "--no-trunc").split())


def leftovers(project, images_before=None):
    """What podman still has of PROJECT (by name) and, given the images there were before, the images built
    since (but the cached base image), as a list of strings."""
    left = []
    if images_before is not None:
        base = set(podman("images", "-a", "-q", "--no-trunc", "--filter", "reference=localhost/autopilot-base").split())
        left += [f"image {i[:19]}" for i in image_ids() - images_before - base]
    names = podman("ps", "-a", "--format", "{{.Names}}").split()
    left += [f"container {n}" for n in names if n.startswith(project + "_")]
    left += [f"network {n}" for n in podman("network", "ls", "--format", "{{.Name}}").split() if n.startswith(project + "_")]
    left += [f"volume {n}" for n in podman("volume", "ls", "--format", "{{.Name}}").split() if n.startswith(project + "_")]
    left += [f"image {n}" for n in podman("images", "--format", "{{.Repository}}:{{.Tag}}").split()
             if n.endswith(":" + project)]
    left += [f"image {n}" for n in podman("images", "--format", "{{.Repository}}:{{.Tag}}").split()
             if n.startswith(f"localhost/{project}-base:")]
    left += [f"build container {n}" for n in podman("ps", "-a", "--external", "--format", "{{.Names}}").split()
             if n.startswith(f"{project}-base-working-container")]
    left += [f"pod {n}" for n in podman("pod", "ls", "--format", "{{.Name}}").split() if n == "pod_" + project]
    return left


def remove_dead_runs():
    """Projects of earlier runs of this test whose process is gone (killed by a timeout) are removed by name."""
    seen = set()
    for line in podman("ps", "-a", "--format", "{{.Names}}").split() + \
            podman("network", "ls", "--format", "{{.Name}}").split() + \
            podman("volume", "ls", "--format", "{{.Name}}").split() + \
            podman("ps", "-a", "--external", "--format", "{{.Names}}").split() + \
            [t.split(":")[-1] for t in podman("images", "--format", "{{.Repository}}:{{.Tag}}").split()] + \
            [t.split("/")[-1] for t in podman("images", "--format", "{{.Repository}}").split()]:
        m = re.match(re.escape(PREFIX) + r"(\d+)", line)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            seen.add(m.group(0))
    tmp = tempfile.gettempdir()
    for d in os.listdir(tmp):  # the state dirs of dead runs
        m = re.match(r"autopilot-containers-test-(\d+)-", d)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            shutil.rmtree(os.path.join(tmp, d), ignore_errors=True)
    for project in seen:
        print(f"removing the leftovers of a dead run: {project}")
        d = tempfile.mkdtemp(prefix=f"autopilot-containers-test-{os.getpid()}-")
        with open(os.path.join(d, "containers.env"), "w") as f:
            f.write(f"PROJECT={project}\nPREFIX=localhost/autopilot-stack\n")
        subprocess.run([RUN, "down"], env=dict(ENV, STACK_DIR=d), capture_output=True, timeout=120)
        shutil.rmtree(d, ignore_errors=True)


def main():
    if not shutil.which("podman") or not shutil.which("podman-compose"):
        print("FAIL  needs podman and podman-compose (scripts/install-deps.sh)")
        sys.exit(1)

    def on_signal(signum, _frame):
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    remove_dead_runs()
    images_before = image_ids()
    try:
        test()
        test_etcd()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the clean-up runs to its end
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if failures and os.path.exists(os.path.join(STACK_DIR, "containers.env")):
            for name in ("proxy-1", "app-1", "redis-1", "redis-2", "redis-3", "config-1", "monitoring-1",
                         "discovery-1", "discovery-2"):
                out = run("logs", name, timeout=60)
                lines = [l for l in (out.stdout + out.stderr).splitlines(True) if " check." not in l]
                print(f"--- {name} (end)\n" + "".join(lines[-60:]))
        t = time.monotonic()
        out = run("down", "--containers")
        check(out.returncode == 0, f"down exits 0 ({time.monotonic() - t:.1f} s) {out.stderr.strip()}")
        left = leftovers(PROJECT, images_before)
        check(not left, f"down: nothing of {PROJECT} left {left}")
        check(not os.path.exists(STACK_DIR), "down: the state dir is gone")
        shutil.rmtree(STACK_DIR, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed:", *failures, sep="\n  ")
        sys.exit(1)
    print("all checks passed")


class Stop(Exception):
    """A failed check the rest of the test cannot go on from."""


def up(*args):
    t0 = time.monotonic()
    out = run("up", "--containers", *args)
    print(out.stderr.strip())
    if not check(out.returncode == 0, f"up --containers {' '.join(args)} exits 0 ({time.monotonic() - t0:.1f} s in all)"):
        print(out.stdout)
        raise Stop()
    st = status()
    tiers = st["tiers"]
    counts = {t: len(i) for t, i in tiers.items()}
    want = {"proxy": 2, "app": 2, "redis": 3, "config": 1, "monitoring": 1, "discovery": 3 if args else 1}
    check(counts == want, f"tiers: {counts}")
    unhealthy = [i["name"] for t in tiers.values() for i in t if not i["healthy"]]
    check(not unhealthy, f"every tier healthy {unhealthy}")
    return st


def https_through_proxies(c, tiers, what):
    for p in tiers["proxy"]:
        try:
            code, headers, body = c.request(p["https"], "/")
        except Exception as e:  # noqa: BLE001 - reported as a failed check
            code, headers, body = 0, {}, repr(e)
        check(code == 200 and "x-instance" in headers and "via https" in body,
              f"{what}: https through {p['name']} with the stack's CA: {code} {body.strip()}")


def instance_through(c, proxy):
    try:
        return c.request(proxy["https"], "/", timeout=2)[1].get("x-instance", "").split(" ")[0]
    except Exception:  # noqa: BLE001 - a failed request names no instance
        return ""


def test():
    try:
        test_embedded()
    except Stop:
        pass


def test_embedded():
    st = up()
    tiers = st["tiers"]
    roles = sorted(i["role"] for i in tiers["redis"])
    check(roles == ["master", "replica", "replica"], f"one redis master, two replicas {roles}")

    # Registered with their own eth0 addresses: each container's eth0 is what the catalog lists.
    for tier, services in (("proxy", ["nginx"]), ("app", ["app"]), ("redis", ["redis", "redis-replica"]),
                           ("config", ["stash"]), ("monitoring", ["prometheus"])):
        eth0 = sorted(podman("exec", i["container"], "hostname", "-I").split()[0] for i in tiers[tier])
        listed = sorted(a for s in services for a in catalog_addresses(st["catalog"], s))
        check(eth0 == listed and len(set(eth0)) == len(eth0) and not any(a.startswith("127.") for a in eth0),
              f"{tier}: the catalog lists each container's eth0 address {listed} (eth0: {eth0})")

    # The config tier: the proxies' certificate came from the stash (no base64 env was given), which wants
    # the stack's token; so HTTPS verifies with the stack's CA.
    sources = [p["certificate"] for p in tiers["proxy"]]
    check(sources == ["stash /ssl/ssl.crt"] * 2, f"the proxies' certificate from the config tier: {sources}")
    config = tiers["config"][0]
    code = Client(st["ca"], "proxy").request(config["url"], "/ssl/ssl.key")[0]
    check(code == 401, f"the stash refuses the key without the token: {code}")
    c = Client(st["ca"], tiers["proxy"][0]["tls_name"])
    paths = st["paths"]
    https_through_proxies(c, tiers, "embedded")
    for p in tiers["proxy"]:
        code, headers, _ = c.request(p["http"], "/some/page?x=1")
        check(code == 301 and headers.get("location", "").startswith("https://") and
              headers["location"].endswith("/some/page?x=1"), f"http on {p['name']}: 301 to {headers.get('location')}")

    proxy = tiers["proxy"][0]
    seen = {c.request(proxy["https"], "/")[1].get("x-instance") for _ in range(20)}
    check(len(seen) == 1, f"affinity: one client, one instance over 20 requests {seen}")

    host, port = proxy["https"].split("://")[1].split(":")
    msgs = [f"hello {i}" for i in range(5)]
    try:
        answers = websocket_echo(c, host, int(port), paths["websocket"], msgs)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        answers = [repr(e)]
    check(answers == msgs, f"websocket echo through TLS {answers}")

    first = c.request(proxy["https"], paths["static"])[1].get("x-proxy-cache")
    code, headers, _ = c.request(proxy["https"], paths["static"])
    check(code == 200 and headers.get("x-proxy-cache") == "HIT", f"static file: {first} then {headers.get('x-proxy-cache')}")

    # The monitoring tier: Prometheus found every container's autopilot in the catalog, and scrapes it.
    everyone = sorted(f"{i['address']}:9090" for t in ("proxy", "app", "redis", "config", "monitoring") for i in tiers[t])

    def targets_up():
        try:
            r = Client(st["ca"], "proxy").request(tiers["monitoring"][0]["url"], "/api/v1/targets?state=active")
            found = sorted(t["labels"]["instance"] for t in json.loads(r[2])["data"]["activeTargets"] if t["health"] == "up")
        except (OSError, ValueError, KeyError):
            return None
        return found if found == everyone else None

    check(bool(wait_for(targets_up, 20)), f"Prometheus: every autopilot an up target {everyone}")

    # scale app=3: app-3 (the app image, on the project's network) serves through both proxies: with app-1
    # and app-2 in maintenance (SIGUSR1 to their autopilots), the proxies have app-3 only. Back to 2: app-3
    # stopped gracefully and gone.
    t = time.monotonic()
    out = run("scale", "app=3", timeout=120)
    check(out.returncode == 0, f"scale app=3 ({time.monotonic() - t:.1f} s) {out.stderr.strip()}")
    apps = status()["tiers"]["app"]
    check([a["name"] for a in apps] == ["app-1", "app-2", "app-3"] and all(a["healthy"] for a in apps),
          f"app-1..3 healthy {[(a['name'], a['healthy']) for a in apps]}")
    old = [a["container"] for a in tiers["app"]]
    podman("kill", "--signal", "USR1", *old)
    served = wait_for(lambda: all(instance_through(c, p) == "app-3" for p in tiers["proxy"]) or None, 15)
    check(bool(served), f"app-3 serves through both proxies ({time.monotonic() - t:.1f} s after scale)")
    podman("kill", "--signal", "USR1", *old)
    back = wait_for(lambda: [a["healthy"] for a in status()["tiers"]["app"]] == [True] * 3 or None, 15)
    check(bool(back), "app-1 and app-2 out of maintenance")
    t = time.monotonic()
    out = run("scale", "app=2", timeout=120)
    apps = status()["tiers"]["app"]
    check(out.returncode == 0 and [a["name"] for a in apps] == ["app-1", "app-2"] and all(a["healthy"] for a in apps),
          f"scale app=2 ({time.monotonic() - t:.1f} s): {[a['name'] for a in apps]} {out.stderr.strip()}")
    gone = wait_for(lambda: all(instance_through(c, p) in ("app-1", "app-2") for p in tiers["proxy"]) or None, 10)
    check(bool(gone) and not podman("ps", "-a", "--filter", f"name={PROJECT}_app-3_1", "--format", "{{.Names}}").strip(),
          "app-3's container gone, the proxies serve from app-1 and app-2")

    code, headers, body = c.request(proxy["https"], paths["session"], method="POST", body="v1")
    cookie = headers.get("set-cookie", "").split(";")[0]
    check(code == 200 and cookie.startswith("sid="), f"session in Redis: {body.strip()}")

    # podman kill of the Redis master's container: a replica takes over and registers as `redis`.
    master = [r for r in tiers["redis"] if r["role"] == "master"][0]
    t = time.monotonic()
    out = run("kill", master["name"], timeout=60)
    check(out.returncode == 0, f"podman kill {master['name']} (the master, {master['address']}) {out.stderr.strip()}")

    def promoted():
        addresses = catalog_addresses(st["catalog"], "redis")
        return addresses if len(addresses) == 1 and addresses[0] != master["address"] else None

    new_master = wait_for(promoted, 40)
    check(bool(new_master), f"a replica promoted and registered as redis: {new_master} ({time.monotonic() - t:.1f} s)")

    def session_ok():
        code, _, body = c.request(proxy["https"], paths["session"], method="POST", body="v2", headers={"Cookie": cookie})
        return body if code == 200 and new_master and f"master {new_master[0]}:6379" in body else None

    body = wait_for(session_ok, 20)
    check(bool(body), f"/session writes succeed on the new master ({time.monotonic() - t:.1f} s after the kill): "
                      f"{(body or '').strip()}")


def test_etcd():
    """The same images on the discovery tier as three etcd containers."""
    t = time.monotonic()
    out = run("down", "--keep-images")
    left = [x for x in leftovers(PROJECT) if not x.startswith("image ")]
    check(out.returncode == 0 and not left,
          f"down --keep-images ({time.monotonic() - t:.1f} s): only the images left {left} {out.stderr.strip()}")
    try:
        st = up("--etcd")
    except Stop:
        return
    tiers = st["tiers"]
    check(st["catalog_kind"] == "etcd" and st["catalog_args"][:1] == ["--etcd"] and
          all(i["kind"] == "etcd" for i in tiers["discovery"]), f"the catalog is the etcd members {st['catalog_args']}")
    sources = [p["certificate"] for p in tiers["proxy"]]
    check(sources == ["stash /ssl/ssl.crt"] * 2, f"etcd: the proxies' certificate from the config tier: {sources}")
    c = Client(st["ca"], "proxy")
    https_through_proxies(c, tiers, "etcd")

    # podman kill of one etcd member: nothing changes (the others keep a quorum; every autopilot's client
    # moves on to them): requests keep succeeding, every other container stays registered and healthy.
    victim = tiers["discovery"][0]
    out = run("kill", victim["name"], timeout=60)
    check(out.returncode == 0, f"podman kill {victim['name']} {out.stderr.strip()}")
    errors, n, end = [], 0, time.monotonic() + 5
    while time.monotonic() < end:
        for p in tiers["proxy"]:
            try:
                code = c.request(p["https"], "/", timeout=2)[0]
            except Exception as e:  # noqa: BLE001 - counted as a failed request
                code = repr(e)
            n += 1
            if code != 200:
                errors.append(code)
        time.sleep(0.1)
    check(n >= 10 and not errors, f"etcd member killed: {n} requests through both proxies, failed: {errors}")
    unhealthy = [i["name"] for t in status()["tiers"].values() for i in t if not i["healthy"]]
    check(unhealthy == [victim["name"]], f"etcd member killed: every other container still healthy (unhealthy: {unhealthy})")


if __name__ == "__main__":
    main()
