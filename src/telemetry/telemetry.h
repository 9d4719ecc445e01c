// Telemetry: ContainerPilot's telemetry endpoint. Serves, on the address and
// port of the config's `telemetry` block:
//   GET /metrics  every metric of the Wiring's registry, Prometheus text 0.0.4,
//                 or OpenMetrics 1.0.0 when the Accept header asks for it
//   GET /status   {"Version","Jobs":[{Name,Status}],"Services":[{Name,Address,
//                 Port,Status}],"Watches":[name]} (ContainerPilot's shape)
// Other methods get 405, other paths 404. It registers the user metrics of
// the block and the built-in ones: containerpilot_events{code,source}
// (counted from the bus), containerpilot_watch_instances{service},
// autopilot_build_info{version} and the process metrics, the last three
// computed when scraped. Knows nothing of jobs or watches: what /status and
// the watch gauge show comes from the functions in TelemetryOptions.
//
// With a catalog in the Wiring, start() also registers the endpoint there
// (config.service_name, ContainerPilot's `containerpilot` by default) through
// a jobs::Service with a heartbeat-only health block, so it is always
// healthy, heartbeated every 5 s with a 15 s TTL and registered again if it
// expires; withdraw() deregisters it at shutdown. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/duration.h"
#include "events/bus.h"
#include "jobs/service.h"
#include "net/http_server.h"
#include "telemetry/endpoints.h"
#include "telemetry/telemetry_config.h"
#include "wiring/wiring.h"

namespace autopilot::telemetry {

struct TelemetryOptions {
  std::string version;
  std::function<StatusReport()> status = {};
  // Instances each watched service had when last seen.
  std::function<std::vector<std::pair<std::string, size_t>>()> watch_instances = {};
};

class Telemetry {
 public:
  // The Wiring's metrics registry must be set.
  Telemetry(TelemetryConfig config, const Wiring& wiring, TelemetryOptions options);
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // Registers the metrics, starts counting events and listens. Fails on a
  // metric that cannot be registered or an address that cannot be listened on.
  Result<void> start();
  int port() const { return server_.port(); }
  // Deregisters the endpoint (giving up after `limit`), then calls `done`
  // (at once when it is not registered).
  void withdraw(Duration limit, std::function<void()> done);
  // The catalog registration, or null without a catalog.
  const jobs::Service* registration() const { return registration_.get(); }
  const TelemetryConfig& config() const { return config_; }

  // What a request gets (the server's handler).
  HttpResponse handle(const HttpRequest& request);

 private:
  Result<void> register_metrics();

  TelemetryConfig config_;
  Wiring wiring_;
  TelemetryOptions options_;
  net::HttpServer server_;
  events::Bus::SubscriptionId subscription_ = 0;
  std::unique_ptr<jobs::Service> registration_;
};

}  // namespace autopilot::telemetry
