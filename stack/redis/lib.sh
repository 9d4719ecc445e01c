# Shared by the Redis tier's scripts (sourced). Environment from stack/run.sh:
# IP (this member's address), WORKDIR, CATALOG or ETCD_ENDPOINTS, AUTOPILOT_BIN; in a container
# (stack/redis/Dockerfile) IP is unset: this member's address is eth0's, and
# the servers also listen on 127.0.0.1 for autopilot's local checks.
if [ -n "${IP:-}" ]; then
  BIND="$IP"
else
  IP=$(hostname -I | cut -d' ' -f1)
  BIND="$IP 127.0.0.1"
fi
REDIS_PORT=6379
SENTINEL_PORT=26379

# The flags that name the stack's catalog to `autopilot catalog` and `lock`.
catalog_flags() {
  if [ -n "${ETCD_ENDPOINTS:-}" ]; then echo --etcd "$ETCD_ENDPOINTS"; else echo --discovery-dir "$CATALOG"; fi
}

# The addresses of SERVICE's healthy instances in the catalog, one a line.
# A read that fails (etcd electing a leader says "no leader" for about a
# second) is asked again, at most 3 s, rather than taken for "none".
catalog_addresses() {
  local out i=0
  while ! out=$("$AUTOPILOT_BIN" catalog service "$1" $(catalog_flags) 2>/dev/null); do
    i=$((i + 1))
    [ $i -lt 10 ] || return 1
    sleep 0.3
  done
  printf '%s\n' "$out" | grep -o '"address": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'
}

# Every redis-cli call is bounded: a member that is gone may not refuse the
# connection (a container's address with no container behind it).
# The master the sentinel at $1 knows, or nothing.
sentinel_master() {
  timeout 2 redis-cli -h "$1" -p "$SENTINEL_PORT" --raw SENTINEL get-master-addr-by-name mymaster 2>/dev/null | head -1
}

# The role the redis-server at $1 reports: master, slave, or nothing.
role_of() {
  timeout 2 redis-cli -h "$1" -p "$REDIS_PORT" --raw ROLE 2>/dev/null | head -1
}

# The role this member's redis-server reports: master, slave, or nothing.
local_role() {
  timeout 2 redis-cli -h "$IP" -p "$REDIS_PORT" --raw ROLE 2>/dev/null | head -1
}
