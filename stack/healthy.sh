# Sourced by stack/run.sh and stack/containers/containers.sh: "is the whole
# stack healthy", read from the caller's own `status_json` (the contract of
# `run.sh status --json`, in either mode).

# Every instance healthy, every sentinel knowing every member, every proxy
# serving, and at least one instance at all.
all_healthy() {
  local json
  json=$(status_json)
  ! grep -q '"healthy":false' <<<"$json" && ! grep -q '"sentinel_ready":false' <<<"$json" &&
    ! grep -q '"serving":false' <<<"$json" && grep -q '"healthy":true' <<<"$json"
}

wait_healthy() {  # wait_healthy SECONDS
  local i
  for i in $(seq 1 $(($1 * 5))); do
    all_healthy && return 0
    sleep 0.2
  done
  return 1
}
