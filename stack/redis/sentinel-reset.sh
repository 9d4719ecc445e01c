#!/bin/sh
# On the redis-server job's `stopping`: a leaving replica makes the other
# sentinels forget it (SENTINEL RESET). A leaving master does not: the
# sentinels must still know its replicas to fail over.
. "$(dirname "$0")/lib.sh"
[ "$(local_role)" = "master" ] && exit 0
for s in $(catalog_addresses redis-sentinel); do
  [ "$s" = "$IP" ] && continue
  redis-cli -h "$s" -p "$SENTINEL_PORT" SENTINEL RESET mymaster >/dev/null 2>&1
done
exit 0
