#!/bin/sh
# The sentinel template's command: a running sentinel that monitors nothing
# yet (it started before any master registered) is told the master the
# catalog names now. One that monitors already keeps its own view: after a
# failover Sentinel knows better than the catalog. Never fails: a sentinel
# that is not up yet reads the rendered file when it starts.
. "$(dirname "$0")/lib.sh"
rendered="$WORKDIR/sentinel.rendered.conf"
monitor=$(grep '^sentinel monitor ' "$rendered" 2>/dev/null)
[ -n "$monitor" ] || exit 0
redis-cli -h "$IP" -p "$SENTINEL_PORT" PING >/dev/null 2>&1 || exit 0
[ -z "$(sentinel_master "$IP")" ] || exit 0
set -- $monitor
redis-cli -h "$IP" -p "$SENTINEL_PORT" SENTINEL MONITOR mymaster "$4" "$5" "$6" >/dev/null
grep '^sentinel ' "$rendered" | grep -v ' monitor ' | while read -r _ key _ value; do
  redis-cli -h "$IP" -p "$SENTINEL_PORT" SENTINEL SET mymaster "$key" "$value" >/dev/null
done
echo "sentinel now monitors $4:$5 (quorum $6)"
exit 0
