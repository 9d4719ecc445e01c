#!/bin/sh
# The Redis tier's redis-server job: elect, then exec redis-server.
#
# The election (redis-elect.sh) runs under the catalog's lock through
# `autopilot lock`, which works on the embedded catalog and on etcd alike. It
# runs detached (a child of autopilot, the subreaper, not of redis-server)
# because the master keeps the lock after redis-server has started, until
# the catalog lists it; this script waits for its decision (redis.conf),
# then execs redis-server. Gives up (and autopilot restarts the job) when
# the election ends without a decision or takes more than 65 s.
set -u
. "$(dirname "$0")/lib.sh"
conf="$WORKDIR/redis.conf"
rm -f "$conf" "$WORKDIR/election.pid"
( "$AUTOPILOT_BIN" lock redis-election $(catalog_flags) --ttl 15s --timeout 60s -- \
    sh "$(dirname "$0")/redis-elect.sh" </dev/null &
  echo $! > "$WORKDIR/election.pid" )
i=0
until [ -f "$conf" ]; do
  if ! kill -0 "$(cat "$WORKDIR/election.pid")" 2>/dev/null && [ ! -f "$conf" ]; then
    echo "election: ended without a decision"
    exit 1
  fi
  i=$((i + 1))
  if [ $i -gt 650 ]; then
    echo "election: no decision within 65 s"
    exit 1
  fi
  sleep 0.1
done
exec redis-server "$conf"
