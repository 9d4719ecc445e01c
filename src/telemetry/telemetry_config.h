// TelemetryConfig: the config's `telemetry` block (ContainerPilot v3):
//
//   "telemetry": {
//     "port": 9090, "interfaces": ["eth0", "inet"], "tags": ["dev"],
//     "metrics": [{"namespace": "app", "subsystem": "db", "name": "queries",
//                  "help": "queries run", "type": "counter"}]
//   }
//
// `port` (default 9090) is where /metrics and /status are served, on the one
// address `interfaces` picks (net/interfaces.h; ContainerPilot's default
// specs). When a catalog is open, the endpoint registers there as service
// `name` (ours; default ContainerPilot's fixed `containerpilot`, so existing
// Prometheus configs keep working) with `tags`, always healthy, TTL 15 s,
// heartbeat every 5 s. Each of `metrics` is a
// user metric whose name is the non-empty parts of namespace, subsystem and
// name joined by `_`; `type` is counter, gauge, histogram or summary.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "jobs/job_config.h"
#include "metrics/metric.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::telemetry {

struct MetricConfig {
  std::string name;  // full name: namespace_subsystem_name
  std::string help;
  metrics::Type type = metrics::Type::kCounter;

  bool operator==(const MetricConfig&) const = default;
};

inline constexpr const char* kDefaultServiceName = "containerpilot";

struct TelemetryConfig {
  int port = 9090;
  std::string service_name = kDefaultServiceName;  // `name`
  std::vector<std::string> interfaces;  // empty: ContainerPilot's default specs
  std::vector<std::string> tags;
  std::vector<MetricConfig> metrics;
  std::string address;  // resolved from `interfaces` when the config is loaded
  std::string node;     // this host's name, for the registration's instance id

  bool operator==(const TelemetryConfig&) const = default;
};

// Decodes and checks the block, and picks its address among the machine's.
Result<TelemetryConfig> decode_telemetry(const decode::Decoder& d, const decode::Node& n);

// The registration as a job without a process (ContainerPilot's
// ToJobConfig): named service_name, at address:port with the tags, a
// heartbeat-only health block (interval 5 s, TTL 15 s).
jobs::JobConfig registration_job(const TelemetryConfig& config);

// The names of the built-in metrics, which a user metric may not take.
bool is_builtin_metric_name(const std::string& name);

}  // namespace autopilot::telemetry
