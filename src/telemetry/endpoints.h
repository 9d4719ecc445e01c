// What telemetry's endpoint answers (Telemetry::handle), apart from its
// server and its catalog registration:
//   GET /metrics  every metric of the registry, Prometheus text 0.0.4, or
//                 OpenMetrics 1.0.0 when the Accept header asks for it
//   GET /status   ContainerPilot's JSON (status_json)
// Other methods 405 (with Allow), other paths 404. Pure: the fuzz target
// (fuzz/http_fuzz.cc) drives it without a server.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "metrics/registry.h"
#include "net/http_server.h"

namespace autopilot::telemetry {

using net::HttpRequest;
using net::HttpResponse;

struct StatusReport {
  struct Job {
    std::string name, status;  // status: healthy, unhealthy, maintenance, unknown
  };
  struct Service {
    std::string name, address;
    int port = 0;
    std::string status;
  };
  std::vector<Job> jobs;          // jobs without a port
  std::vector<Service> services;  // jobs with a port
  std::vector<std::string> watches;
};

// /status as JSON.
std::string status_json(const std::string& version, const StatusReport& report);

// The answer to `request`; `status` (may be empty) gives /status its report.
HttpResponse answer(const HttpRequest& request, metrics::Registry& registry, const std::string& version,
                    const std::function<StatusReport()>& status);

}  // namespace autopilot::telemetry
