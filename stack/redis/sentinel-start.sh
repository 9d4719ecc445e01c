#!/bin/sh
# The Redis tier's redis-sentinel job. Sentinel rewrites its own config, so
# it starts from a fresh copy: the base settings plus what the catalog said
# at the last render (sentinel.rendered.conf), if a master was known then.
set -u
. "$(dirname "$0")/lib.sh"
conf="$WORKDIR/sentinel.conf"
cat > "$conf" <<CONF
# Written by stack/redis/sentinel-start.sh at each start; then rewritten by Sentinel.
bind $BIND
bind-source-addr $IP
sentinel announce-ip $IP
port $SENTINEL_PORT
dir $WORKDIR
protected-mode no
daemonize no
logfile ""
CONF
[ -f "$WORKDIR/sentinel.rendered.conf" ] && grep '^sentinel ' "$WORKDIR/sentinel.rendered.conf" >> "$conf"
exec redis-sentinel "$conf"
