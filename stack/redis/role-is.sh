#!/bin/sh
# role-is.sh ROLE: the health check of the `redis` (ROLE master) and
# `redis-replica` (ROLE slave) registrations. Exactly one passes at a time,
# so when Sentinel fails over, the registration moves with the role: the
# promoted member turns up as `redis`, the demoted one as `redis-replica`.
. "$(dirname "$0")/lib.sh"
role=$(local_role)
[ "$role" = "$1" ] || { echo "role is '${role:-unreachable}', not $1"; exit 1; }
