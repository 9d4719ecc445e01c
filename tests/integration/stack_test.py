#!/usr/bin/env python3
"""The reference stack (stack/run.sh), end to end on the embedded catalog.

    stack_test.py [--etcd]   (ctest -L stack runs both)

With --etcd the stack runs on its 3-member etcd cluster (the discovery
tier), and the test also kills the etcd leader's container: nothing may
change (every tier stays healthy and registered, requests keep succeeding),
then starts it again (`run.sh start`: it rejoins with its data). Under a
steady load through both proxies it then stops a follower and starts it
again, and kills all three members for a few seconds and starts them again:
no request may fail, no proxy reload (the upstream set never changed: the
autopilots keep the last catalog they read), and afterwards every instance
the catalog listed before is listed again.

Brings the stack up with real nginx, redis-server and redis-sentinel, then
checks through both proxies over TLS (the stack's CA): the 301 on http,
affinity over 20 requests, a WebSocket echo, a cache HIT, /health refused to
a non-local address, scaling the app tier to 3, a graceful stop without a
failed request, a kill -9 of the Redis master (a replica promoted and
registered as `redis`, /session writes succeeding again), and `down`
leaving nothing. Environment: AUTOPILOT_BIN, DEMO_APP, STACK_RUN (set by
ctest); STACK_NET (default 127.0.9, away from a stack someone runs on the
default 127.0.1); STACK_HTTP_PORT / STACK_HTTPS_PORT (default: free ports).
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../stack"))
from stacklib import Client, catalog_instances, etcd_leader, free_port, wait_for, websocket_echo  # noqa: E402

RUN = os.environ.get("STACK_RUN") or os.path.join(os.path.dirname(__file__), "../../stack/run.sh")
ETCD = "--etcd" in sys.argv[1:]
NET = os.environ.get("STACK_NET", "127.0.9")
STACK_DIR = tempfile.mkdtemp(prefix="autopilot-stack-test-")
ENV = dict(os.environ, STACK_DIR=STACK_DIR, STACK_NET=NET)
for var in ("STACK_HTTP_PORT", "STACK_HTTPS_PORT", "STACK_STASH_PORT", "STACK_PROMETHEUS_PORT", "STACK_TELEMETRY_PORT",
            "STACK_ETCD_CLIENT_PORT", "STACK_ETCD_PEER_PORT"):
    ENV[var] = os.environ.get(var) or str(free_port())
failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def run(*args, timeout=90):
    return subprocess.run([RUN, *args], env=ENV, capture_output=True, text=True, timeout=timeout)


def status():
    out = run("status", "--json")
    return json.loads(out.stdout)


CATALOG_ARGS = ["--discovery-dir", os.path.join(STACK_DIR, "catalog")]  # status --json says which


def catalog_addresses(service):
    autopilot = os.environ.get("AUTOPILOT_BIN", os.path.join(os.path.dirname(RUN), "../build/src/autopilot"))
    # A failed read (etcd electing a leader says "no leader" for a second) is
    # asked again: it says nothing about the service.
    for _ in range(10):
        out = subprocess.run([autopilot, "catalog", "service", service, *CATALOG_ARGS], capture_output=True, text=True)
        if out.returncode == 0:
            break
        time.sleep(0.3)
    try:
        return [i["address"] for i in json.loads(out.stdout)]
    except ValueError:
        return []


class Load:
    """Requests through both proxies in a thread, from 40 source /24s (so
    ip_hash spreads them over the app instances), one after the other;
    `run(action, after)` runs `action` under it and counts the failures."""

    def __init__(self, c, proxies):
        self.c, self.proxies = c, proxies
        self.errors, self.count, self.done = [], 0, threading.Event()

    def _load(self):
        k = 0
        while not self.done.is_set():
            k = k % 40 + 1
            for p in self.proxies:
                try:
                    code = self.c.request(p["https"], "/", source=f"127.{k}.0.1")[0]
                    if code != 200:
                        self.errors.append(code)
                except Exception as e:  # noqa: BLE001
                    self.errors.append(repr(e))
                self.count += 1

    def run(self, action, after):
        self.errors, self.count = [], 0
        self.done.clear()
        th = threading.Thread(target=self._load)
        th.start()
        try:
            time.sleep(0.5)
            result = action()
            time.sleep(after)
        finally:
            self.done.set()
            th.join()
        return result


def registrations():
    """Every instance in the catalog, as (service, id), sorted; None when the catalog does not answer."""
    autopilot = os.environ.get("AUTOPILOT_BIN", os.path.join(os.path.dirname(RUN), "../build/src/autopilot"))
    return catalog_instances(autopilot, CATALOG_ARGS)


def reloads():
    """nginx reloads so far, from both proxies' logs."""
    n = 0
    for d in os.listdir(STACK_DIR):
        if d.startswith("proxy-"):
            with open(os.path.join(STACK_DIR, d, "autopilot.log"), errors="replace") as f:
                n += sum("signal process started" in line for line in f)
    return n


def kill_etcd_leader(c, tiers):
    """kill -9 of the etcd leader's container: for 6 s (twice the instances'
    TTL) every tier stays healthy, the catalog keeps the same instances, and
    requests through both proxies succeed; then it is started again and
    rejoins (`run.sh start`)."""
    leader = etcd_leader(tiers["discovery"])
    check(leader is not None, f"the etcd leader: {leader}")
    if not leader:
        return
    before = {t: sorted((i["name"], i.get("role", "")) for i in tiers[t]) for t in tiers if t != "discovery"}
    apps = sorted(catalog_addresses("app"))
    out = run("kill", leader)
    check(out.returncode == 0, f"kill -9 of {leader}, the etcd leader")
    changes, failures_seen, t = [], [], time.monotonic()
    while time.monotonic() - t < 6:
        st = status()["tiers"]
        now = {t: sorted((i["name"], i.get("role", "")) for i in st[t]) for t in st if t != "discovery"}
        unhealthy = [i["name"] for t in st if t != "discovery" for i in st[t] if not i["healthy"]]
        if now != before or unhealthy:
            changes.append((round(time.monotonic() - t, 1), unhealthy))
        if sorted(catalog_addresses("app")) != apps:
            changes.append((round(time.monotonic() - t, 1), "app set", catalog_addresses("app")))
        for p in st["proxy"]:
            try:
                code = c.request(p["https"], "/")[0]
            except Exception as e:  # noqa: BLE001
                code = repr(e)
            if code != 200:
                failures_seen.append(code)
        time.sleep(0.3)
    check(not changes and not failures_seen,
          f"the etcd leader killed: nothing changes for 6 s (changes {changes[:3]}, failed requests {failures_seen[:3]})")
    live = [m for m in status()["tiers"]["discovery"] if m["healthy"]]
    check(len(live) == 2, f"two etcd members left, healthy: {[m['name'] for m in live]}")
    t = time.monotonic()
    out = run("start", leader)
    check(out.returncode == 0, f"{leader} started again, healthy ({time.monotonic() - t:.1f} s) {out.stderr.strip()}")


def etcd_faults(c, tiers):
    """Under load: a follower stopped and started again; then every member
    killed for 6 s (twice the instances' TTL) and started again. No request
    fails, no proxy reloads, and every registration is there afterwards."""
    started = time.monotonic()
    load = Load(c, tiers["proxy"])
    members = [m["name"] for m in tiers["discovery"]]
    before = wait_for(registrations, 10, 0.5)
    check(bool(before), f"the catalog before: {len(before or [])} instances")
    r0 = reloads()

    leader = etcd_leader(status()["tiers"]["discovery"])
    follower = [m for m in members if m != leader][0]

    def restart_follower():  # a graceful stop this time: `stop` keeps a member's data dir
        run("stop", follower)
        time.sleep(2)
        return run("start", follower)

    out = load.run(restart_follower, 1)
    check(out.returncode == 0 and not load.errors and load.count > 20,
          f"{follower} (a follower) stopped, started again with its data and healthy: {load.count} requests, "
          f"failures {load.errors[:5]} {out.stderr.strip()}")

    def outage():
        run("kill", *members)
        time.sleep(6)
        t = time.monotonic()
        out = run("start", *members)
        check(out.returncode == 0, f"every etcd member started again, healthy ({time.monotonic() - t:.1f} s) "
                                   f"{out.stderr.strip()}")
        return time.monotonic()

    back = load.run(outage, 1)
    check(not load.errors and load.count > 20,
          f"every etcd member down for 6 s: {load.count} requests, failures {load.errors[:5]}")
    again = wait_for(lambda: registrations() == before, 15, 0.5)
    now = registrations()
    check(again, f"every instance registered again ({time.monotonic() - back:.1f} s after the cluster was back; "
                 f"missing {sorted(set(before or []) - set(now or []))[:5]})")
    check(reloads() == r0, f"no proxy reloaded: the upstream set never changed ({reloads() - r0} reloads; "
                           f"the etcd faults took {time.monotonic() - started:.1f} s)")


def main():
    try:
        test()
    finally:
        if failures:  # what the containers logged, before down removes it
            for d in sorted(os.listdir(STACK_DIR)):
                log = os.path.join(STACK_DIR, d, "autopilot.log")
                if os.path.exists(log):  # less the health checks' own lines
                    lines = [l for l in open(log, errors="replace") if " check." not in l]
                    print(f"--- {d}/autopilot.log (end)\n" + "".join(lines[-150:]))
        out = run("down")
        check(out.returncode == 0, "down exits 0 " + out.stderr.strip())
        marker = "AUTOPILOT_STACK=" + STACK_DIR
        left = []
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    if marker.encode() in open(f"/proc/{p}/environ", "rb").read().split(b"\0"):
                        left.append(p)
                except OSError:
                    pass
        check(not left, f"down: no process of the stack left {left}")
        listening = subprocess.run(["ss", "-Htln"], capture_output=True, text=True).stdout
        check(f" {NET}." not in listening, f"down: nothing listens on {NET}.x")
        check(not os.path.exists(STACK_DIR), "down: the state dir is gone")
    if failures:
        print(f"{len(failures)} check(s) failed:", *failures, sep="\n  ")
        sys.exit(1)
    print("all checks passed")


def test():
    t0 = time.monotonic()
    out = run("up", *(["--etcd"] if ETCD else []))
    if not check(out.returncode == 0, f"up exits 0 ({time.monotonic() - t0:.1f} s) {out.stderr.strip()}"):
        print(out.stdout, out.stderr)
        return
    st = status()
    CATALOG_ARGS[:] = st["catalog_args"]
    tiers = st["tiers"]
    check(len(tiers["proxy"]) == 2 and len(tiers["app"]) == 2 and len(tiers["redis"]) == 3, "tiers: 2 proxies, 2 apps, 3 redis")
    check(len(tiers["config"]) == 1 and len(tiers["monitoring"]) == 1 and tiers["discovery"],
          "tiers: 1 config, 1 monitoring, discovery")
    check(all(i["healthy"] for t in tiers for i in tiers[t]), "every tier healthy")
    check(all(i["sentinel_ready"] for i in tiers["redis"]), "every sentinel knows every member")
    roles = sorted(i["role"] for i in tiers["redis"])
    check(roles == ["master", "replica", "replica"], f"one redis master, two replicas {roles}")
    c = Client(st["ca"])
    paths = st["paths"]

    # The config tier: the proxies' certificate and key came from the stash
    # (the image's own certificate is not signed by the stack's CA, so the
    # https checks below fail without it), which wants its token.
    certs = [p["certificate"] for p in tiers["proxy"]]
    check(certs == ["stash /ssl/ssl.crt"] * 2, f"the proxies' certificates came from the stash {certs}")
    stash = tiers["config"][0]
    code = c.request(stash["url"], "/ssl/ssl.key")[0]
    check(code == 401, f"the stash refuses the key without the token: {code}")

    # The monitoring tier: Prometheus scrapes every autopilot of the stack,
    # found through the catalog's `containerpilot` service.
    prometheus = tiers["monitoring"][0]
    want = sorted(f"{i['address']}:{st['telemetry_port']}" for t in tiers if t != "discovery" for i in tiers[t])
    if st["mode"] == "etcd":
        want = sorted(want + [f"{i['address']}:{st['telemetry_port']}" for i in tiers["discovery"]])
    seen = []

    def all_targets_up():
        code, _, body = c.request(prometheus["url"], "/api/v1/targets?state=active")
        if code != 200:
            return False
        active = json.loads(body)["data"]["activeTargets"]
        seen[:] = sorted(f"{t['labels']['instance']} {t['health']}" for t in active)
        return seen == [f"{w} up" for w in want]

    t = time.monotonic()
    check(wait_for(all_targets_up, 20, 0.5),
          f"Prometheus scrapes every autopilot, all up ({len(want)}, {time.monotonic() - t:.1f} s): {seen}")
    if ETCD:
        check([i["kind"] for i in tiers["discovery"]] == ["etcd"] * 3, "discovery: 3 etcd members")
        kill_etcd_leader(c, tiers)
        etcd_faults(c, tiers)

    for p in tiers["proxy"]:
        code, headers, body = c.request(p["https"], "/")
        check(code == 200 and "x-instance" in headers and "via https" in body,
              f"https through {p['name']} with the stack's CA: {code} {body.strip()}")
        code, headers, _ = c.request(p["http"], "/some/page?x=1")
        check(code == 301 and headers.get("location", "").startswith("https://") and
              headers["location"].endswith("/some/page?x=1"), f"http on {p['name']}: 301 to {headers.get('location')}")

    proxy = tiers["proxy"][0]
    seen = {c.request(proxy["https"], "/")[1].get("x-instance") for _ in range(20)}
    check(len(seen) == 1, f"affinity: one client, one instance over 20 requests {seen}")

    host, port = proxy["https"].split("://")[1].split(":")
    msgs = [f"hello {i}" for i in range(5)]
    try:
        answers = websocket_echo(c.ctx, host, int(port), paths["websocket"], msgs)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        answers = [repr(e)]
    check(answers == msgs, f"websocket echo through TLS {answers}")
    code, _, body = c.request(proxy["https"], "/count")
    check(code == 200 and int(body.split()[-1]) >= 5, f"websocket messages counted in Redis: {body.strip()}")

    first = c.request(proxy["https"], paths["static"])[1].get("x-proxy-cache")
    code, headers, body = c.request(proxy["https"], paths["static"])
    check(code == 200 and headers.get("x-proxy-cache") == "HIT" and "public" in headers.get("cache-control", ""),
          f"static file: {first} then {headers.get('x-proxy-cache')}")
    bypass = c.request(proxy["https"], paths["static"], headers={"Cache-Control": "no-cache"})[1].get("x-proxy-cache")
    check(bypass == "BYPASS", f"the client's Cache-Control bypasses the cache: {bypass}")

    check(c.request(proxy["https"], "/health")[0] == 200, "/health answers 127.0.0.1")
    check(c.request(proxy["https"], "/health", source="127.0.0.5")[0] == 403, "/health refused to 127.0.0.5")

    code, headers, body = c.request(proxy["https"], paths["session"], method="POST", body="v1")
    cookie = headers.get("set-cookie", "").split(";")[0]
    code2, _, body2 = c.request(proxy["https"], paths["session"], headers={"Cookie": cookie})
    check(code == 200 and cookie.startswith("sid=") and code2 == 200 and " hits 2 value v1 " in body2,
          f"session in Redis: {body.strip()} / {body2.strip()}")

    # Scale to 3: the new instance serves (clients from other /24s hash elsewhere).
    t = time.monotonic()
    out = run("scale", "app=3")
    check(out.returncode == 0, f"scale app=3 ({time.monotonic() - t:.1f} s) {out.stderr.strip()}")
    new = [a for a in status()["tiers"]["app"] if a["name"] == "app-3"]
    check(new and new[0]["healthy"], "app-3 healthy")
    t = time.monotonic()

    def served_by_new():
        for k in range(1, 60):
            h = c.request(proxy["https"], "/", source=f"127.{k}.0.1")[1].get("x-instance", "")
            if h.startswith("app-3 "):
                return True
        return False

    check(wait_for(served_by_new, 5), f"app-3 serves through the proxy ({time.monotonic() - t:.2f} s after scale)")

    # Graceful stop of the instance serving the steady client: no failed request.
    victim = c.request(proxy["https"], "/")[1]["x-instance"].split()[0]
    load = Load(c, tiers["proxy"])
    out = load.run(lambda: run("stop", victim), 1)
    check(out.returncode == 0 and not load.errors and load.count > 20,
          f"graceful stop of {victim}: {load.count} requests, failures {load.errors[:5]}")
    check(victim not in [a["name"] for a in status()["tiers"]["app"]], f"{victim} gone from the status")

    # kill -9 of an app container: nginx retries GETs on another instance; the
    # catalog drops it within its TTL (3 s).
    victim = c.request(proxy["https"], "/")[1]["x-instance"].split()[0]
    address = [a["address"] for a in status()["tiers"]["app"] if a["name"] == victim][0]
    t = time.monotonic()
    out = load.run(lambda: run("kill", victim), 1)
    check(out.returncode == 0 and not load.errors and load.count > 20,
          f"kill -9 of {victim}: {load.count} requests, failures {load.errors[:5]}")
    gone = wait_for(lambda: address not in catalog_addresses("app"), 5)
    check(gone, f"{victim} out of the catalog within its TTL ({time.monotonic() - t:.1f} s after the kill)")

    # kill -9 of the Redis master: a replica takes over and registers as `redis`.
    master = [r for r in status()["tiers"]["redis"] if r["role"] == "master"][0]
    t = time.monotonic()
    out = run("kill", master["name"])
    check(out.returncode == 0, f"kill -9 {master['name']} (the master, {master['address']})")

    def promoted():
        addresses = catalog_addresses("redis")
        return addresses if len(addresses) == 1 and addresses[0] != master["address"] else None

    new_master = wait_for(promoted, 30, 0.2)
    check(bool(new_master), f"a replica promoted and registered as redis: {new_master} "
                            f"({time.monotonic() - t:.1f} s)")

    def session_ok():
        code, _, body = c.request(proxy["https"], paths["session"], method="POST", body="v2",
                                  headers={"Cookie": cookie})
        return body if code == 200 and new_master and f"master {new_master[0]}:6379" in body else None

    body = wait_for(session_ok, 15, 0.2)
    check(bool(body), f"/session writes succeed on the new master ({time.monotonic() - t:.1f} s after the kill): "
                      f"{(body or '').strip()}")

    # kill -9 of the new master's redis-server alone: autopilot restarts it,
    # the sentinels have failed over meanwhile, and it comes back a replica.
    # First the tier settles: every live member registered as its role, and
    # every live sentinel naming the new master (its failover has ended).
    def settled():
        live = [r for r in status()["tiers"]["redis"] if r["pid"]]
        return all(r["healthy"] and r["sentinel_master"] == new_master[0] for r in live)

    t = time.monotonic()
    check(bool(new_master) and wait_for(settled, 20, 0.3),
          f"the redis tier settles on the new master ({time.monotonic() - t:.1f} s)")
    master = {"address": new_master[0] if new_master else ""}
    name = [r["name"] for r in status()["tiers"]["redis"] if r["address"] == master["address"]][0]
    pid = subprocess.run(["pgrep", "-f", f"^redis-server {master['address']}:6379"], capture_output=True,
                         text=True).stdout.split()
    t = time.monotonic()
    check(len(pid) == 1 and subprocess.run(["kill", "-9", pid[0]]).returncode == 0,
          f"kill -9 of {name}'s redis-server ({pid})")
    new_master = wait_for(promoted, 30, 0.2)
    check(bool(new_master), f"the last replica promoted and registered as redis: {new_master} "
                            f"({time.monotonic() - t:.1f} s)")

    def rejoined():
        me = [r for r in status()["tiers"]["redis"] if r["name"] == name][0]
        return me["role"] == "replica" and me["healthy"]

    check(wait_for(rejoined, 30, 0.5), f"{name} restarted as a replica, registered as redis-replica "
                                       f"({time.monotonic() - t:.1f} s)")
    body = wait_for(session_ok, 15, 0.2)
    check(bool(body), f"/session writes succeed on the newest master: {(body or '').strip()}")


if __name__ == "__main__":
    main()
