// HealthConfig: a job's `health` block (ContainerPilot v3, plus http and tcp
// probes that need no curl or nc in the image).
//
//   "health": {
//     "exec": "pgrep nginx",                          // or
//     "http": "http://127.0.0.1:8080/health",         // or {"url": ..., "status": 204}
//     "tcp": "127.0.0.1:6379",                        // at most one of the three
//     "interval": 5, "ttl": 10, "timeout": "2s", "logging": {"raw": false}
//   }
//
// With none of exec/http/tcp every interval counts as a pass (a heartbeat).
// interval and ttl are seconds (ContainerPilot) or Go durations ("500ms");
// ttl must be longer than interval, or the record would expire between two
// heartbeats. timeout defaults to interval.
#pragma once

#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::health {

enum class Kind { kHeartbeat, kExec, kHttp, kTcp };

struct HealthConfig {
  Kind kind = Kind::kHeartbeat;
  std::vector<std::string> exec;  // kExec
  std::string url;                // kHttp
  int status = 0;                 // kHttp: the expected status; 0 = any 2xx
  std::string address;            // kTcp: HOST:PORT
  Duration interval{0};
  Duration ttl{0};
  Duration timeout{0};
  bool raw_logging = false;

  bool operator==(const HealthConfig&) const = default;
};

Result<HealthConfig> decode_health(const decode::Decoder& d, const decode::Node& n);

}  // namespace autopilot::health
