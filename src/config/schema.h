// Which ContainerPilot schema a config file is written in, read from its
// top-level keys: v2 (`services`, `backends`, `preStart`, `coprocesses`,
// `tasks`, `etcd`, `telemetry.sensors`, ...) or v3 (`jobs`, `watches`,
// `discovery`, ...). Keys both share (`consul`, `logging`, `stopTimeout`,
// `telemetry` without sensors) say nothing; a file with neither kind is v3.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "decode/decoder.h"

namespace autopilot::config {

enum class Schema { kV3, kV2 };

struct SchemaReading {
  Schema schema = Schema::kV3;
  std::string because;  // the first key that decided it ("" when nothing did)

  // "read as a ContainerPilot v2 config because of `services`"
  std::string note() const;
};

// A file mixing v2 and v3 keys is an error naming one key of each, placed at
// the v3 one.
Result<SchemaReading> detect_schema(const decode::Decoder& d);

// In a file that nothing marks as either schema, a top-level key outside
// `v3_keys` that is close to a v2-only key is refused with that key as the
// suggestion (`servces` is a misspelled v2 config, not an unknown v3 key).
Result<void> check_unmarked_keys(const decode::Decoder& d, const std::vector<std::string>& v3_keys);

}  // namespace autopilot::config
