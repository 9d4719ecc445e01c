// STASHBOX__ environment overrides, as StashBox applies them through nconf:
// `STASHBOX__mounts__0__provider=file` sets mounts[0].provider. The first
// segment (STASHBOX) is dropped, `__` separates the rest, a segment of
// digits indexes an array, and the values "true", "false" and "null" become
// those JSON values (everything else stays a string; numbers are read from
// strings later). Objects merge key by key with the file's; any other value,
// a `mounts` list included, replaces the file's whole.
#pragma once

#include "base/result.h"
#include "json5/json5.h"
#include "stash/stash_config.h"

namespace autopilot::stash {

// Applies every STASHBOX__ variable of `env` to `doc`. Each value set (and
// each object or list created) gets the position {"$VARIABLE", 0, 0}, so a
// later error about it names the variable instead of a line of the file.
// Fails on a malformed name (an empty segment) or an index past 999.
Result<void> apply_env_overrides(json5::Document& doc, const Env& env);

}  // namespace autopilot::stash
