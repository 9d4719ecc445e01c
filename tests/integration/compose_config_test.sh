#!/bin/sh
# stack/compose.yaml is valid for Debian's docker-compose (`config` needs no
# engine) and has the seed's topology: proxy x2, app x2, redis x3, config x1,
# monitoring x1, the catalog on a shared named volume, and etcd x3 (the
# discovery tier of --etcd, which needs no catalog volume).
set -eu
compose="${1:?usage: compose_config_test.sh stack/compose.yaml}"
out=$(cd "$(dirname "$compose")" && docker-compose -f "$compose" -p compose-config-test config)
services=$(cd "$(dirname "$compose")" && docker-compose -f "$compose" -p compose-config-test config --services | sort | tr '\n' ' ')
want="app-1 app-2 config-1 discovery-1 discovery-2 discovery-3 monitoring-1 proxy-1 proxy-2 redis-1 redis-2 redis-3 "
[ "$services" = "$want" ] || { echo "FAIL services: '$services', want '$want'"; exit 1; }
mounts=$(printf '%s\n' "$out" | grep -c -- '- catalog:/var/lib/autopilot/catalog' || true)
[ "$mounts" = 9 ] || { echo "FAIL the catalog volume is mounted $mounts times, want 9"; exit 1; }
echo "ok    docker-compose config: $services; the catalog volume in each but the etcd members"
