#!/usr/bin/env python3
"""The reference stack's Redis election (stack/redis/redis-elect.sh) on its
own, with real redis-servers and the real embedded catalog: the decisions
that keep a tier's data.

    redis_election_test.py   (ctest: redis_election; AUTOPILOT_BIN set by ctest)

A master's redis-server that crashed is restarted by its autopilot, and its
election runs while a replica holds the data and Sentinel has not promoted
it yet (or no sentinel answers). It must not decide "master": an empty
master would make Sentinel resync the replicas from it, and the tier would
lose its data. Checked here:
  1. the crashed master, a live replica, no master anywhere: no decision;
  2. the replica promoted: the crashed master becomes its replica;
  3. the catalog can't be read: no decision ("no answer" is not "no master");
  4. no other member answers at all (a new tier): this member is the master.
Members on 127.0.62.x (NET) port 6379, as in the stack; an autopilot
registers them in a catalog under a temp dir; everything is stopped by PID.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../stack"))
from stacklib import wait_for  # noqa: E402

AUTOPILOT = os.environ["AUTOPILOT_BIN"]
ELECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../stack/redis/redis-elect.sh")
NET = os.environ.get("ELECTION_NET", "127.0.62")
MASTER, REPLICA, NEW = f"{NET}.2", f"{NET}.3", f"{NET}.4"
TMP = tempfile.mkdtemp(prefix="autopilot-election-test-")
CATALOG = os.path.join(TMP, "catalog")
failures, procs = [], []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def start(*argv, **kw):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, **kw)
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        p.wait(10)


def redis(address, *args):
    out = subprocess.run(["redis-cli", "-h", address, "-p", "6379", "--raw", *args],
                         capture_output=True, text=True, timeout=5)
    return out.stdout.strip()


def redis_server(address, *extra):
    d = os.path.join(TMP, address)
    os.makedirs(d, exist_ok=True)
    p = start("redis-server", "--bind", address, "--port", "6379", "--dir", d, "--save", "", "--appendonly", "no",
              "--protected-mode", "no", *extra)
    check(wait_for(lambda: redis(address, "PING") == "PONG", 10), f"redis-server on {address} answers")
    return p


def listed(service):
    out = subprocess.run([AUTOPILOT, "catalog", "service", service, "--discovery-dir", CATALOG],
                         capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else ""


def elect(ip, catalog=CATALOG):
    """Runs the election as member `ip`: (exit code, output, redis.conf or None)."""
    workdir = os.path.join(TMP, "member-" + ip)
    os.makedirs(workdir, exist_ok=True)
    conf = os.path.join(workdir, "redis.conf")
    if os.path.exists(conf):
        os.remove(conf)
    env = dict(os.environ, IP=ip, WORKDIR=workdir, CATALOG=catalog, AUTOPILOT_BIN=AUTOPILOT, ELECTION_WAIT_S="2")
    env.pop("ETCD_ENDPOINTS", None)
    out = subprocess.run(["sh", ELECT], env=env, capture_output=True, text=True, timeout=60)
    text = open(conf).read() if os.path.exists(conf) else None
    return out.returncode, out.stdout + out.stderr, text


def main():
    os.makedirs(CATALOG)
    # The replica's registration (as in the stack: its role check passed)
    # and the new member's `redis` one (so that its election, once master,
    # finds itself listed and lets go at once). Checks that always pass.
    config = os.path.join(TMP, "register.json5")
    with open(config, "w") as f:
        f.write(f"""{{
  discovery: {{ embedded: {{ dir: "{CATALOG}" }} }},
  jobs: [
    {{ name: "redis-replica", port: 6379, interfaces: ["static:{REPLICA}"],
       health: {{ exec: ["true"], interval: 1, ttl: 30 }} }},
    {{ name: "redis", port: 6379, interfaces: ["static:{NEW}"],
       health: {{ exec: ["true"], interval: 1, ttl: 30 }} }},
  ],
}}
""")
    start(AUTOPILOT, "-config", config, cwd=TMP)
    check(wait_for(lambda: REPLICA in listed("redis-replica") and NEW in listed("redis"), 15),
          "the catalog lists the replica and the new member")

    master = redis_server(MASTER)
    replica = redis_server(REPLICA, "--replicaof", MASTER, "6379")
    redis(MASTER, "SET", "session", "kept")
    check(redis(MASTER, "WAIT", "1", "5000") == "1", "a write acknowledged by the replica")
    stop(master)

    code, out, conf = elect(MASTER)
    check(code != 0 and conf is None and "no decision" in out,
          f"1. the crashed master, with a live replica and no master: no decision (exit {code}, conf {conf!r}) {out!r}")

    redis(REPLICA, "REPLICAOF", "NO", "ONE")  # what Sentinel's failover does
    code, out, conf = elect(MASTER)
    check(code == 0 and conf is not None and f"replicaof {REPLICA} 6379" in conf,
          f"2. the replica promoted: the crashed master replicates it (exit {code}) {out!r}")

    code, out, conf = elect(MASTER, catalog=os.path.join(TMP, "no-such-catalog"))
    check(code != 0 and conf is None and "no decision" in out,
          f"3. the catalog can't be read: no decision (exit {code}, conf {conf!r}) {out!r}")

    stop(replica)
    code, out, conf = elect(NEW)
    check(code == 0 and conf is not None and "replicaof" not in conf,
          f"4. no other member answers: the new member is the master (exit {code}) {out!r}")
    check(redis(REPLICA, "PING") == "" and redis(MASTER, "PING") == "", "no redis-server left answering")


try:
    main()
finally:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            stop(p)
    shutil.rmtree(TMP, ignore_errors=True)
if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all checks passed")
