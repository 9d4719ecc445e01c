#!/bin/sh
# stack/compose.yaml is valid for Debian's docker-compose (`config` needs no
# engine) and has the seed's topology: proxy x2, app x2, redis x3, the
# catalog on a shared named volume.
set -eu
compose="${1:?usage: compose_config_test.sh stack/compose.yaml}"
out=$(cd "$(dirname "$compose")" && docker-compose -f "$compose" -p compose-config-test config)
services=$(cd "$(dirname "$compose")" && docker-compose -f "$compose" -p compose-config-test config --services | sort | tr '\n' ' ')
want="app-1 app-2 proxy-1 proxy-2 redis-1 redis-2 redis-3 "
[ "$services" = "$want" ] || { echo "FAIL services: '$services', want '$want'"; exit 1; }
mounts=$(printf '%s\n' "$out" | grep -c -- '- catalog:/var/lib/autopilot/catalog' || true)
[ "$mounts" = 7 ] || { echo "FAIL the catalog volume is mounted $mounts times, want 7"; exit 1; }
echo "ok    docker-compose config: $services; the catalog volume in each"
