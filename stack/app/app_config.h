// The demo app's Redis endpoints: a file rendered by autopilot from the
// catalog (one `redis HOST:PORT` line per candidate master; `#` comments),
// else the REDIS_ADDR environment variable (HOST:PORT, comma separated).
#pragma once

#include <string>
#include <vector>

#include "redis_client.h"

namespace stack {

// Parses the file's text; lines that are not `redis HOST[:PORT]` are skipped.
std::vector<Endpoint> parse_endpoints_file(const std::string& text);
// Parses "HOST[:PORT],HOST[:PORT]".
std::vector<Endpoint> parse_endpoints_list(const std::string& list);

}  // namespace stack
