"""The measurements of bench/stack_bench.sh, on a reference stack that is up
(stack/run.sh, whose `status --json` names the instances). One subcommand a
run, results as one JSON object on stdout, progress on stderr:

  changes N     N changes of the app set: one app instance's maintenance
                toggled through its autopilot's control socket (enable,
                disable, ...); per change, the time until both proxies serve
                the new set
  failovers N   N kills (`run.sh kill`) of the Redis master's container; per
                failover, the time until `POST /session` succeeds again
                through each app instance; then `run.sh scale redis=3`
  resources S   S seconds of the stack's processes: CPU (utime+stime, and the
                children the autopilots reaped: checks, hooks, renders'
                commands) and memory (RSS, PSS), the autopilots (each
                container's PID 1) against the tiers' own processes

"Serving the new set" is read from the answers, not from nginx.conf: nginx's
ip_hash maps a client's /24 onto the upstream list, so a source address that
lands on the toggled instance while it is listed lands elsewhere once a
proxy has reloaded without it, and on it again once it is back. Every poll is
a new TLS connection (a kept-alive one would stay on an old worker). Clocks
are monotonic; every wait is bounded.
"""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stack"))
from stacklib import Client  # noqa: E402

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stack", "run.sh")
STACK_DIR = os.environ["STACK_DIR"]
CHANGE_TIMEOUT_S = 15
FAILOVER_TIMEOUT_S = 60
READY_TIMEOUT_S = 30
POLL_STEP_S = 0.005
STABLE_S = 0.25
WRITE_STEP_S = 0.05


def log(msg):
    print(f"stack_bench: {msg}", file=sys.stderr, flush=True)


def status():
    out = subprocess.run(["bash", RUN, "status", "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else None


def summary(xs):
    ms = [x * 1000 for x in xs]
    return {"count": len(ms), "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99),
            "min_ms": min(ms) if ms else None, "max_ms": max(ms) if ms else None,
            "values_ms": [round(x, 1) for x in ms]}


def answered_by(client, proxy, source, path="/", method="GET", body=None):
    """The instance that answered through `proxy` from `source`, or None."""
    try:
        code, headers, _ = client.request(proxy, path, method=method, body=body, source=source, timeout=2)
    except OSError:
        return None
    instance = headers.get("x-instance", "") if code == 200 else ""
    return instance.split(" ")[0] or None  # "app-2 (127.0.1.12:8000)"


def sources_for(client, proxies, instance, wanted=1):
    """Source addresses whose /24 both proxies send to `instance` now."""
    found = []
    for k in range(256):
        source = f"127.200.{k}.1"
        if all(answered_by(client, p, source) == instance for p in proxies):
            found.append(source)
            if len(found) == wanted:
                return found
    raise SystemExit(f"no source address lands on {instance} through every proxy")


def control(sock_path, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(sock_path)
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: control\r\nConnection: close\r\n"
                  b"Content-Length: 0\r\n\r\n")
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    finally:
        s.close()
    line = reply.split(b"\r\n", 1)[0].decode(errors="replace")
    if line.split()[1:2] not in (["200"], ["204"]):
        raise SystemExit(f"control {path}: {line}")


def wait_served(client, proxies, source, served_ok, t0):
    """Per proxy, seconds from t0 to the first of a run of answers to `source`
    that pass served_ok and last STABLE_S: right after a reload, a new
    connection can still reach an old worker (old set) for a moment, so one
    answer proves nothing."""
    since, polls = {p: None for p in proxies}, {p: 0 for p in proxies}

    def stable(p):
        return since[p] and polls[p] >= 3 and time.monotonic() - since[p] >= STABLE_S

    deadline = t0 + CHANGE_TIMEOUT_S
    while time.monotonic() < deadline:
        for p in proxies:
            at = time.monotonic()
            if served_ok(answered_by(client, p, source)):
                since[p] = since[p] or at
                polls[p] += 1
            else:
                since[p], polls[p] = None, 0
        if all(stable(p) for p in proxies):
            break
        time.sleep(POLL_STEP_S)
    return {p: since[p] - t0 for p in proxies if stable(p)}


def cmd_changes(n):
    st = status()
    client = Client(st["ca"])
    proxies = [p["https"] for p in st["tiers"]["proxy"]]
    target = st["tiers"]["app"][-1]["name"]
    sock = os.path.join(STACK_DIR, target, "autopilot.sock")
    source = sources_for(client, proxies, target)[0]
    log(f"{n} changes: {target}'s maintenance through {sock}; client {source} (lands on {target})")
    leave, join = [], []
    for i in range(n):
        entering = i % 2 == 0
        t0 = time.monotonic()
        control(sock, "/v3/maintenance/enable" if entering else "/v3/maintenance/disable")
        if entering:
            done = wait_served(client, proxies, source, lambda a: a is not None and a != target, t0)
        else:
            done = wait_served(client, proxies, source, lambda a: a == target, t0)
        if len(done) < len(proxies):
            if entering:
                control(sock, "/v3/maintenance/disable")
            raise SystemExit(f"change {i + 1}: not served by every proxy within {CHANGE_TIMEOUT_S} s: {done}")
        (leave if entering else join).append(max(done.values()))
        if (i + 1) % 20 == 0:
            log(f"  {i + 1}/{n} changes")
    if n % 2 == 1:
        control(sock, "/v3/maintenance/disable")
    return {"instance": target, "all": summary(leave + join), "leave": summary(leave), "join": summary(join)}


def write_ok(client, proxy, source):
    try:
        code, _, _ = client.request(proxy, "/session", method="POST", body="bench", source=source, timeout=5)
    except OSError:
        return False
    return code == 200


def first_writes(client, proxy, sources, t0):
    """Per source, seconds from t0 until a write from it is first acknowledged.
    A new write starts every WRITE_STEP_S while none has succeeded, without
    waiting for the ones in flight: the app holds a write up to 2 s for a
    master, and a 503 at the end of that wait must not hide a success
    meanwhile."""
    done, lock, threads = {}, threading.Lock(), []

    def one(source):
        if write_ok(client, proxy, source):
            at = time.monotonic() - t0
            with lock:
                done[source] = min(done.get(source, at), at)

    while time.monotonic() < t0 + FAILOVER_TIMEOUT_S:
        with lock:
            waiting = [s for s in sources if s not in done]
        if not waiting:
            break
        for s in waiting:
            threads.append(threading.Thread(target=one, args=(s,), daemon=True))
            threads[-1].start()
        time.sleep(WRITE_STEP_S)
    for t in threads:
        t.join(6)
    return done


def member_logs(*prefixes):
    """(container name, path) of each autopilot.log in the state dir whose
    container's name starts with one of `prefixes`."""
    for name in sorted(os.listdir(STACK_DIR)):
        path = os.path.join(STACK_DIR, name, "autopilot.log")
        if name.startswith(prefixes) and os.path.exists(path):
            yield name, path


def give_up(why):
    """Exits with `why`, keeping what tells why: `run.sh down` (stack_bench.sh's
    cleanup) removes the state dir, so the Redis members' and proxies' logs and
    the stack's status are copied to a new directory under /tmp first."""
    keep = tempfile.mkdtemp(prefix="stack-bench-failure.")
    for name, path in member_logs("redis-", "app-", "proxy-"):
        shutil.copy(path, os.path.join(keep, name + ".log"))
    with open(os.path.join(keep, "status.json"), "w") as f:
        f.write(subprocess.run(["bash", RUN, "status", "--json"], capture_output=True, text=True).stdout)
    raise SystemExit(f"{why} (logs and status kept in {keep})")


def cmd_failovers(n):
    st = status()
    client = Client(st["ca"])
    proxy = st["tiers"]["proxy"][0]["https"]
    # One client per app instance: a write "succeeds again" once it does through every app.
    sources = [sources_for(client, [proxy], a["name"])[0] for a in st["tiers"]["app"]]
    log(f"{n} failovers; writes through {proxy} from {', '.join(sources)} (one per app instance)")
    first, every, kills, restores, promoted = [], [], [], [], []
    for i in range(n):
        # One master and writes through every app: right after a failover a
        # member Sentinel has listed as a replica can still say master for a
        # few seconds (it converts it after its next INFO), so wait for it.
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            st = status()
            masters = [r["name"] for r in st["tiers"]["redis"] if r["role"] == "master"]
            if len(masters) == 1 and all(write_ok(client, proxy, s) for s in sources):
                break
            if time.monotonic() > deadline:
                give_up(f"failover {i + 1}: not ready within {READY_TIMEOUT_S} s (masters {masters})")
            time.sleep(0.5)
        t0, wall0 = time.monotonic(), time.time()
        subprocess.run(["bash", RUN, "kill", masters[0]], check=True, capture_output=True)
        kills.append(time.monotonic() - t0)
        done = first_writes(client, proxy, sources, t0)
        if len(done) < len(sources):
            give_up(f"failover {i + 1}: writes did not succeed within {FAILOVER_TIMEOUT_S} s: {done}")
        first.append(min(done.values()))
        every.append(max(done.values()))
        promoted.append(sentinel_promoted_after(wall0))
        t1 = time.monotonic()
        subprocess.run(["bash", RUN, "scale", "redis=3"], check=True, capture_output=True)
        restores.append(time.monotonic() - t1)
        sentinel = f"{promoted[-1] * 1000:.0f} ms" if promoted[-1] is not None else "not in the logs"
        log(f"  failover {i + 1}/{n}: killed {masters[0]}, Sentinel made a replica master after {sentinel}, writes again "
            f"after {every[-1] * 1000:.0f} ms (first app {first[-1] * 1000:.0f} ms); scale redis=3 took {restores[-1]:.1f} s")
    after = [w - p for w, p in zip(every, promoted) if p is not None]
    return {"writes_every_app": summary(every), "writes_first_app": summary(first), "kill_command": summary(kills),
            "restore_scale": summary(restores), "sentinel_promoted": summary([p for p in promoted if p is not None]),
            "writes_after_promotion": summary(after)}


def sentinel_promoted_after(wall0):
    """Seconds from wall0 (the kill) to the first `+failover-state-send-slaveof-noone`
    a surviving sentinel logged after it (the autopilots' log lines start with
    a UTC timestamp), or None: Sentinel's own failover time, up to the moment
    the chosen replica is made master and takes writes (its `+promoted-slave`
    comes only when a later INFO shows the new role, up to a second after,
    often after the apps' first acknowledged write)."""
    best = None
    for _, path in member_logs("redis-"):
        with open(path, errors="replace") as f:
            for line in f:
                if "+failover-state-send-slaveof-noone" not in line:
                    continue
                try:
                    at = datetime.datetime.strptime(line[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(
                        tzinfo=datetime.timezone.utc).timestamp()
                except ValueError:
                    continue
                if at > wall0 and (best is None or at < best):
                    best = at
    return best - wall0 if best is not None else None


# --- resources ---------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, comm, starttime, own ticks, reaped children's ticks) or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17, starttime 22.
    return (int(fields[1]), comm, int(fields[19]), int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]))


def memory_kb(pid):
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/smaps_rollup") as f:
            pss = next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
    except OSError:
        pass
    return rss, pss


def stack_processes():
    """{(pid, starttime): (kind, container, comm, own ticks, children's ticks)}: each
    container's autopilot is "autopilot"; its descendants (it is a subreaper)
    are "tier", named by their command."""
    roots = {}
    for name in os.listdir(STACK_DIR):
        try:
            with open(os.path.join(STACK_DIR, name, "autopilot.pid")) as f:
                roots[int(f.read().strip())] = name
        except (OSError, ValueError):
            continue
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            s = proc_stat(int(entry))
            if s:
                stats[int(entry)] = s
    out = {}
    for pid, (ppid, comm, start, own, kids) in stats.items():
        q, container = pid, None
        for _ in range(64):  # walk up to a container's autopilot
            if q in roots:
                container = roots[q]
                break
            if q not in stats or q <= 1:
                break
            q = stats[q][0]
        if container is None:
            continue
        kind = "autopilot" if pid in roots else "tier"
        out[(pid, start)] = (kind, container, comm, own, kids)
    return out


def cmd_resources(seconds):
    before = stack_processes()
    t0 = time.monotonic()
    mem_samples = []
    while time.monotonic() < t0 + seconds:
        sums = {"autopilot": [0, 0], "tier": [0, 0]}
        for (pid, _), (kind, *_rest) in stack_processes().items():
            rss, pss = memory_kb(pid)
            sums[kind][0] += rss
            sums[kind][1] += pss
        mem_samples.append(sums)
        time.sleep(1)
    after = stack_processes()
    elapsed = time.monotonic() - t0
    cpu = {"autopilot": 0, "autopilot_children": 0, "tier": 0}
    by_command, autopilot_by_tier = {}, {}
    for key, (kind, container, comm, own, kids) in after.items():
        if key not in before:
            continue  # short-lived (a check, a hook): counted when its parent reaps it
        d_own = own - before[key][3]
        d_kids = kids - before[key][4]
        if kind == "autopilot":
            cpu["autopilot"] += d_own
            cpu["autopilot_children"] += d_kids
            tier = container.split("-")[0]
            autopilot_by_tier[tier] = autopilot_by_tier.get(tier, 0) + d_own + d_kids
        else:
            cpu["tier"] += d_own + d_kids
            name = comm.split("/")[0]
            by_command[name] = by_command.get(name, 0) + d_own + d_kids
    count = {"autopilot": sum(1 for v in after.values() if v[0] == "autopilot"),
             "tier": sum(1 for k, v in after.items() if v[0] == "tier" and k in before)}

    def core_pct(ticks):
        return round(100 * ticks / CLK_TCK / elapsed, 2)

    def mean(kind, i):
        return round(sum(s[kind][i] for s in mem_samples) / len(mem_samples))

    total_cpu = sum(cpu.values())
    mem = {k: {"rss_kb": mean(k, 0), "pss_kb": mean(k, 1)} for k in ("autopilot", "tier")}
    return {
        "seconds": round(elapsed, 1), "processes": count,
        "cpu_core_pct": {k: core_pct(v) for k, v in cpu.items()},
        "cpu_share_pct": {
            "autopilot": round(100 * cpu["autopilot"] / total_cpu, 1) if total_cpu else None,
            "autopilot_with_children": round(100 * (cpu["autopilot"] + cpu["autopilot_children"]) / total_cpu, 1)
            if total_cpu else None},
        "tier_cpu_core_pct_by_command": {k: core_pct(v) for k, v in sorted(by_command.items(), key=lambda kv: -kv[1])},
        "autopilot_cpu_core_pct_by_tier": {k: core_pct(v) for k, v in sorted(autopilot_by_tier.items(),
                                                                             key=lambda kv: -kv[1])},
        "memory": mem,
        "memory_share_pct": {
            "rss": round(100 * mem["autopilot"]["rss_kb"] / (mem["autopilot"]["rss_kb"] + mem["tier"]["rss_kb"]), 1),
            "pss": round(100 * mem["autopilot"]["pss_kb"] / (mem["autopilot"]["pss_kb"] + mem["tier"]["pss_kb"]), 1)},
    }


def main():
    cmd, arg = sys.argv[1], int(sys.argv[2])
    result = {"changes": cmd_changes, "failovers": cmd_failovers, "resources": cmd_resources}[cmd](arg)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
