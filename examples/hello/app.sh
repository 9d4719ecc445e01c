#!/bin/sh
# A stand-in app: reads its config, counts "requests", stops cleanly on SIGTERM.
trap 'echo "app: got SIGTERM, closing"; exit 0' TERM
echo "app: started with config: $(cat "$HELLO_CONF")"
n=0
while :; do
  n=$((n + 1))
  echo "$n" > /tmp/hello-autopilot.count
  sleep 0.25
done
