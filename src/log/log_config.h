// The `logging` block of the config, decoded into a LogConfig (log.h):
//
//   logging: { level: "INFO", format: "default", output: "stdout" }
//
// level is DEBUG, INFO, WARN (or WARNING) or ERROR (FATAL and PANIC, which
// ContainerPilot also accepts, mean ERROR), in any case; format is default,
// text or json; output is stdout, stderr or a file path. Absent fields keep
// LogConfig's defaults.
#pragma once

#include "base/result.h"
#include "decode/decoder.h"
#include "log/log.h"

namespace autopilot::log {

// Errors point at the offending key or value, e.g.
// `logging.level: "LOUD" is not a log level (DEBUG, INFO, WARN, ERROR)`.
Result<LogConfig> decode_logging(const decode::Decoder& d, const decode::Node& n);

}  // namespace autopilot::log
