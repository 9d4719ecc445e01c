#!/usr/bin/env python3
"""The reference stack, narrated (README's first command ends here).

    stack/demo.py            (after a build; scripts/demo.sh does both)

Brings the stack up on the embedded catalog (stack/run.sh up), then shows
what self-organization buys, each step with what it measured: requests
through both proxies over TLS, the 301 from http, session affinity, a
WebSocket round trip, a cache HIT, scaling the app tier to 3 and back, a
kill -9 of an app instance, a failover of the Redis master; every change
reaching nginx through the catalog without anyone telling it. Then `down`,
and a check that nothing is left running. Exits non-zero if a step did not
do what it says.

Environment: STACK_NET (default 127.0.1), STACK_HTTP_PORT / STACK_HTTPS_PORT
(default 8080 / 8443 when free, else free ports), AUTOPILOT_BIN, DEMO_APP.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from stacklib import Client, free_port, wait_for, websocket_echo  # noqa: E402

RUN = os.path.join(HERE, "run.sh")
STACK_DIR = tempfile.mkdtemp(prefix="autopilot-demo-")
failed = []


def port_or_free(wanted):
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", wanted))
            return wanted
        except OSError:
            return free_port()


ENV = dict(os.environ, STACK_DIR=STACK_DIR,
           STACK_HTTP_PORT=os.environ.get("STACK_HTTP_PORT") or str(port_or_free(8080)),
           STACK_HTTPS_PORT=os.environ.get("STACK_HTTPS_PORT") or str(port_or_free(8443)))


def say(title):
    print(f"\n== {title}", flush=True)


def show(ok, what):
    print(("   " if ok else " ! ") + what, flush=True)
    if not ok:
        failed.append(what)
    return ok


def run(*args, timeout=120):
    return subprocess.run([RUN, *args], env=ENV, capture_output=True, text=True, timeout=timeout)


def status():
    return json.loads(run("status", "--json").stdout)


def catalog_addresses(service):
    autopilot = os.environ.get("AUTOPILOT_BIN", os.path.join(HERE, "../build/src/autopilot"))
    out = subprocess.run([autopilot, "catalog", "service", service, "--discovery-dir",
                          os.path.join(STACK_DIR, "catalog")], capture_output=True, text=True)
    try:
        return [i["address"] for i in json.loads(out.stdout)]
    except ValueError:
        return []


def instance(client, proxy, source="127.0.0.1"):
    """The app instance (its name) that answers `source` through `proxy`."""
    return client.request(proxy["https"], "/", source=source)[1].get("x-instance", "?").split()[0]


def demo():
    say("Up: 2 nginx proxies, 2 app instances, 3 Redis (+ Sentinel), a config server, Prometheus; each under its own autopilot")
    print("   They start in any order; nobody tells anyone where the others are: they meet in the catalog")
    print(f"   (the embedded one, a shared directory: {STACK_DIR}/catalog).")
    t = time.monotonic()
    out = run("up")
    if not show(out.returncode == 0, f"every tier healthy after {time.monotonic() - t:.1f} s"):
        print(out.stderr)
        return
    st = status()
    tiers = st["tiers"]
    for tier in ("proxy", "app", "redis", "config", "monitoring"):
        for i in tiers.get(tier, []):
            extra = f", {i['role']}" if tier == "redis" else ""
            if tier == "proxy" and i.get("certificate"):
                extra = f", certificate from {i['certificate']}"
            if tier == "monitoring" and "targets_up" in i:
                extra = f", scraping {i['targets_up']} autopilots"
            print(f"   {i['name']:12} {i['address']:12} healthy={str(i['healthy']).lower()}{extra}")
    c = Client(st["ca"])
    paths = st["paths"]
    proxy = tiers["proxy"][0]

    say("HTTPS through both proxies (the stack's throwaway CA), plain HTTP redirected")
    for p in tiers["proxy"]:
        code, headers, body = c.request(p["https"], "/")
        show(code == 200, f"{p['https']}/ -> {code}, answered by {headers.get('x-instance', '?')}")
        code, headers, _ = c.request(p["http"], "/page")
        show(code == 301, f"{p['http']}/page -> {code} Location: {headers.get('location')}")

    say("Session affinity (ip_hash): one client stays on one instance; other clients spread")
    seen = [instance(c, proxy) for _ in range(20)]
    show(len(set(seen)) == 1, f"20 requests from 127.0.0.1 -> {sorted(set(seen))}")
    spread = {instance(c, proxy, f"127.{k}.0.1") for k in range(1, 30)}
    show(len(spread) == len(tiers["app"]), f"29 clients from other networks -> {sorted(spread)}")

    say("WebSocket through TLS, each message counted in Redis")
    host, port = proxy["https"].split("://")[1].split(":")
    msgs = ["hello", "autopilot"]
    try:
        answers = websocket_echo(c.ctx, host, int(port), paths["websocket"], msgs)
    except Exception as e:  # noqa: BLE001 - shown as a failed step
        answers = [repr(e)]
    show(answers == msgs, f"sent {msgs}, echoed {answers}")
    show(True, "Redis count: " + c.request(proxy["https"], "/count")[2].strip())

    say("Static file cached by nginx")
    first = c.request(proxy["https"], paths["static"])[1].get("x-proxy-cache")
    second = c.request(proxy["https"], paths["static"])[1].get("x-proxy-cache")
    show(second == "HIT", f"{paths['static']}: first {first}, then {second}")

    say("Scale the app tier to 3: the proxies find the new instance in the catalog")
    t = time.monotonic()
    out = run("scale", "app=3")
    show(out.returncode == 0, f"app-3 healthy after {time.monotonic() - t:.1f} s")
    t = time.monotonic()

    def served_by(name, proxies):  # some client reaches `name` through each of `proxies`
        return all(any(instance(c, p, f"127.{k}.0.1") == name for k in range(1, 40)) for p in proxies)

    def served_anywhere(name):
        return any(served_by(name, [p]) for p in tiers["proxy"])

    show(wait_for(lambda: served_by("app-3", tiers["proxy"]), 10), f"both nginx route to app-3 {time.monotonic() - t:.2f} s later "
                                                   "(re-rendered upstreams, reloaded)")
    t = time.monotonic()
    out = run("scale", "app=2")
    show(out.returncode == 0 and not served_anywhere("app-3"),
         f"back to 2 ({time.monotonic() - t:.1f} s, a graceful stop: deregistered, drained, stopped)")

    say("kill -9 of an app instance, its autopilot included: nobody deregisters it")
    victim = instance(c, proxy)
    t = time.monotonic()
    run("kill", victim)
    codes = [c.request(proxy["https"], "/")[0] for _ in range(10)]
    show(all(code == 200 for code in codes), f"{victim} killed; the next 10 GETs: {sorted(set(codes))} "
                                             "(nginx retries an idempotent request on the other instance)")
    address = [a["address"] for a in status()["tiers"]["app"] if a["name"] == victim][0]
    show(wait_for(lambda: address not in catalog_addresses("app"), 10, 0.2), f"its record expired from the catalog {time.monotonic() - t:.1f} s after "
                                     "the kill (its TTL), and nginx's upstreams followed")
    run("scale", "app=2")  # replaces it

    say("Redis master killed: Sentinel fails over, the catalog follows, the apps reconnect")
    master = [r for r in status()["tiers"]["redis"] if r["role"] == "master"][0]
    code, headers, _ = c.request(proxy["https"], paths["session"], method="POST", body="before")
    cookie = headers.get("set-cookie", "").split(";")[0]
    t = time.monotonic()
    run("kill", master["name"])
    show(True, f"killed {master['name']} ({master['address']}, the master)")

    def new_master():
        for r in status()["tiers"]["redis"]:
            if r["role"] == "master" and r["healthy"] and r["address"] != master["address"]:
                return r
        return None

    m = wait_for(new_master, 40, 0.3)
    show(bool(m), f"{m['name'] if m else 'nobody'} promoted and registered as `redis` "
                  f"{time.monotonic() - t:.1f} s after the kill")

    def write_ok():
        code, _, body = c.request(proxy["https"], paths["session"], method="POST", body="after",
                                  headers={"Cookie": cookie})
        return body.strip() if code == 200 and m and m["address"] in body else None

    body = wait_for(write_ok, 20, 0.2)
    show(bool(body), f"/session writes succeed again {time.monotonic() - t:.1f} s after the kill: {body}")


def main():
    try:
        demo()
    finally:
        say("Down: every autopilot deregisters and stops its processes")
        out = run("down")
        show(out.returncode == 0, "down exits 0 " + out.stderr.strip())
        marker = ("AUTOPILOT_STACK=" + STACK_DIR).encode()
        left = []
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    if marker in open(f"/proc/{p}/environ", "rb").read().split(b"\0"):
                        left.append(p)
                except OSError:
                    pass
        show(not left, f"processes of the stack left: {len(left)}")
        show(not os.path.exists(STACK_DIR), "state dir removed")
    if failed:
        print(f"\n{len(failed)} step(s) did not do what they say:", *failed, sep="\n  ")
        sys.exit(1)
    print("\nThe demo ran every step.")


if __name__ == "__main__":
    main()
