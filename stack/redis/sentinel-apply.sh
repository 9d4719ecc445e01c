#!/bin/sh
# The sentinel template's command: a running sentinel that monitors nothing
# yet (it started before any master registered) is told the master the
# catalog names now. One that monitors already keeps its own view: after a
# failover Sentinel knows better than the catalog. Never fails: a sentinel
# that has not started reads the rendered file when it starts.
. "$(dirname "$0")/lib.sh"
rendered="$WORKDIR/sentinel.rendered.conf"
monitor=$(grep '^sentinel monitor ' "$rendered" 2>/dev/null)
[ -n "$monitor" ] || exit 0
# Not started yet (it starts after the first render, from sentinel.conf that
# sentinel-start.sh writes before reading the rendered file): nothing to do.
[ -f "$WORKDIR/sentinel.conf" ] || exit 0
i=0
until redis-cli -h "$IP" -p "$SENTINEL_PORT" PING >/dev/null 2>&1; do
  i=$((i + 1))
  [ $i -le 50 ] || exit 0
  sleep 0.1
done
[ -z "$(sentinel_master "$IP")" ] || exit 0
set -- $monitor
redis-cli -h "$IP" -p "$SENTINEL_PORT" SENTINEL MONITOR mymaster "$4" "$5" "$6" >/dev/null
grep '^sentinel ' "$rendered" | grep -v ' monitor ' | while read -r _ key _ value; do
  redis-cli -h "$IP" -p "$SENTINEL_PORT" SENTINEL SET mymaster "$key" "$value" >/dev/null
done
echo "sentinel now monitors $4:$5 (quorum $6)"
exit 0
