#!/bin/sh
# The Redis tier's election, run by redis-start.sh under the catalog's lock
# `redis-election` (`autopilot lock`: on the embedded catalog a flock(2) on
# CATALOG/locks/redis-election.lock, on etcd a key bound to a lease), so
# members starting together decide one after the other:
# 1. the sentinels of the other members, if any answer, know the master
#    (after a failover, the catalog catches up only at the next check);
# 2. else the catalog's healthy `redis` (master) instance;
# 3. else nobody is master: this member becomes it, and keeps the lock until
#    the catalog lists it as `redis`, so a member starting meanwhile finds it.
# A member restarting while the sentinels name a master that is itself (it
# crashed) or not a live master (a failover under way) waits for them, at
# most 30 s, then replicates the new master. Writes the decision as
# WORKDIR/redis.conf (atomically: redis-start.sh waits for it).
set -u
. "$(dirname "$0")/lib.sh"
# The sentinels' master, once it is another member that says it is master:
# while a failover is under way they may name a dead node, or this one.
i=0
while :; do
  master=$(sentinels_master)
  [ -z "$master" ] && break
  [ "$master" != "$IP" ] && [ "$(role_of "$master")" = master ] && break
  [ $i = 0 ] && echo "election: the sentinels name $master, not a live master yet: waiting for their failover"
  i=$((i + 1))
  if [ $i -ge 300 ]; then
    master=""
    break
  fi
  sleep 0.1
done
if [ -z "$master" ]; then
  for a in $(catalog_addresses redis); do
    [ "$a" != "$IP" ] && master="$a" && break
  done
fi

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
echo "election: no master anywhere: this member ($IP) is the master"
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
