// Small whole-file helpers for config and template files (not for the
// catalog, whose files have their own atomic rules in discovery/embedded).
#pragma once

#include <string>

#include "base/result.h"

namespace autopilot {

// The whole file; the error says "open PATH: <strerror>".
Result<std::string> read_file(const std::string& path);

}  // namespace autopilot
