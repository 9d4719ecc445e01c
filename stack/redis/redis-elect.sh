#!/bin/sh
# The Redis tier's election, run by redis-start.sh under the catalog's lock
# `redis-election` (`autopilot lock`: on the embedded catalog a flock(2) on
# CATALOG/locks/redis-election.lock, on etcd a key bound to a lease), so
# members starting together decide one after the other. The other members
# are every address the catalog lists under `redis`, `redis-replica` or
# `redis-sentinel` (each member registers its sentinel, whatever its role).
# 1. A master another member's redis-server confirms: the one the sentinels
#    of the other members name, else the only member that says master.
# 2. None, and no other member's redis-server answers at all: the tier is
#    new (or was lost whole) and this member becomes its master. It keeps
#    the lock until the catalog lists it as `redis`, so a member starting
#    meanwhile finds it.
# 3. None, but another member answers (a replica): the tier has data and a
#    failover is under way (this member may be the master that crashed), or
#    a master is between checks. Waits for a master, at most ELECTION_WAIT_S
#    (default 30 s), then ends without a decision (redis-start.sh fails,
#    autopilot restarts it: a new election). Never an empty master: Sentinel
#    would make the replicas resync from it and the tier would lose its data.
# A catalog that can't be read also ends it without a decision: "no answer"
# is not "no master". Writes the decision as WORKDIR/redis.conf (atomically:
# redis-start.sh waits for it).
set -u
. "$(dirname "$0")/lib.sh"

# Sets master (a master another member's redis-server confirms, or nothing),
# named (the master the other members' sentinels name, or nothing) and
# answered (another member's redis-server answered); fails if the catalog
# can't be read.
look() {
  local redis replicas sentinels a role masters=""
  master="" named="" answered=""
  redis=$(catalog_addresses redis) && replicas=$(catalog_addresses redis-replica) &&
    sentinels=$(catalog_addresses redis-sentinel) || return 1
  for a in $(printf '%s\n' $redis $replicas $sentinels | grep -vx "$IP" | sort -u); do
    role=$(role_of "$a")
    [ -n "$role" ] && answered=1
    [ "$role" = master ] && masters="$masters $a"
  done
  for a in $sentinels; do
    [ "$a" = "$IP" ] && continue
    named=$(sentinel_master "$a")
    [ -n "$named" ] && break
  done
  if [ -n "$named" ] && [ "$named" != "$IP" ] && [ "$(role_of "$named")" = master ]; then
    master=$named
  elif [ "$(echo $masters | wc -w)" = 1 ]; then
    master=$(echo $masters)
  fi
}

wait_s=${ELECTION_WAIT_S:-30}
deadline=$(($(date +%s) + wait_s))
first=1
while :; do
  if ! look; then
    echo "election: the catalog can't be read: no decision"
    exit 1
  fi
  [ -n "$master" ] || [ -z "$answered" ] && break
  [ -n "$first" ] && echo "election: other members answer but none is a confirmed master (the sentinels name" \
    "'$named'): waiting for one"
  first=""
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "election: no master within $wait_s s: no decision"
    exit 1
  fi
  sleep 0.1
done

conf="$WORKDIR/redis.conf"
cat > "$conf.tmp" <<CONF
# Written by stack/redis/redis-elect.sh at each start of redis-server.
bind $BIND
bind-source-addr $IP
replica-announce-ip $IP
port $REDIS_PORT
dir $WORKDIR
protected-mode no
daemonize no
logfile ""
save ""
appendonly no
CONF
if [ -n "$master" ]; then
  echo "election: replica of $master"
  echo "replicaof $master $REDIS_PORT" >> "$conf.tmp"
  mv "$conf.tmp" "$conf"
  exit 0
fi
echo "election: no other member answers: this member ($IP) is the master"
mv "$conf.tmp" "$conf"
# Keeps the lock until the catalog lists us (redis-start.sh starts
# redis-server meanwhile; its health check registers it), at most 15 s.
i=0
while [ $i -lt 150 ]; do
  catalog_addresses redis | grep -qx "$IP" && exit 0
  sleep 0.1
  i=$((i + 1))
done
exit 0
