// ControlServer: ContainerPilot's control socket, HTTP/1.1 on a unix stream
// socket (mode 0600) served on the loop (net/http_server.h):
//
//   POST /v3/reload                 reload the config, as SIGHUP does
//   POST /v3/maintenance/enable     every registered service leaves the
//   POST /v3/maintenance/disable      healthy lists / comes back
//   POST /v3/environ   {"K":"v"}    later children (and the next reload's
//                                   config render) see K=v; null sets ""
//   POST /v3/metric    {"m":1.5}    counter adds, gauge sets, histogram and
//                                   summary observe; numbers or strings
//   any  /v3/ping                   200, liveness only
//   GET  /v3/status                 telemetry's /status JSON (our extension)
//
// Success is 200 with the body "\n", as ContainerPilot answers. A body that
// is not what the endpoint takes (bad JSON, a wrong type, an unknown or
// ill-used metric) is 422 with {"error": "..."} and changes nothing (a
// metric request is checked whole before anything is set); a refused reload
// is 500 with the same shape. Wrong method 405 (with Allow), other paths
// 404, bodies over kBodyLimit 413. Requests to the known paths are counted in
// containerpilot_control_http_requests{code,path} when the Wiring has a
// metrics registry.
//
// Knows nothing of jobs, the config or telemetry: what each endpoint does is
// a function in ControlOptions. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "control/control_config.h"
#include "metrics/registry.h"
#include "net/http_server.h"
#include "wiring/wiring.h"

namespace autopilot::control {

struct ControlOptions {
  // Reloads the config now; the error says why it was refused.
  std::function<Result<void>()> reload = {};
  std::function<void(bool enable)> set_maintenance = {};
  // Adds the variables to what later children get.
  std::function<void(const std::map<std::string, std::string>&)> putenv = {};
  // The /status JSON.
  std::function<std::string()> status_json = {};
  // The metrics /v3/metric may update: the config's telemetry.metrics (the
  // built-in ones are not the user's to set). Looked up in wiring.metrics.
  std::vector<std::string> user_metrics = {};
};

class ControlServer {
 public:
  static constexpr size_t kBodyLimit = 1024 * 1024;

  ControlServer(ControlConfig config, const Wiring& wiring, ControlOptions options);
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Registers the request counter and listens on config.socket; the error
  // is the listen's (net/socket_path.h says what is refused).
  Result<void> start();
  // Closes the socket and removes its file.
  void stop() { server_.stop(); }
  const ControlConfig& config() const { return config_; }

  // What a request gets (the server's handler).
  net::HttpResponse handle(const net::HttpRequest& request);

 private:
  net::HttpResponse route(const net::HttpRequest& request);
  net::HttpResponse put_env(const std::string& body);
  net::HttpResponse put_metrics(const std::string& body);

  ControlConfig config_;
  Wiring wiring_;
  ControlOptions options_;
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  net::HttpServer server_;
};

}  // namespace autopilot::control
