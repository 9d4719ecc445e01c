#include "control/control_server.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "metrics/record.h"

namespace autopilot::control {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using Json = nlohmann::json;

// ContainerPilot's paths; only these are counted (a label per path the
// client makes up would grow without bound).
const std::vector<std::string> kPaths{"/v3/reload",  "/v3/maintenance/enable", "/v3/maintenance/disable",
                                      "/v3/environ", "/v3/metric",             "/v3/ping",
                                      "/v3/status"};

HttpResponse ok() { return HttpResponse::text(200, "\n"); }

HttpResponse failure(int status, const std::string& message) {
  Json body{{"error", message}};
  return HttpResponse::text(status, body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n",
                            "application/json");
}

HttpResponse method_not_allowed(const char* allow) {
  auto r = HttpResponse::text(405, "405 method not allowed\n");
  r.headers.emplace_back("Allow", allow);
  return r;
}

// The body as one JSON object. nlohmann throws on bad input; this is the
// one place that calls it, so the exception ends here.
Result<Json> parse_object(const std::string& body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for a number beyond a double (1e999)
    std::string what = e.what();
    auto at = what.find("] ");  // drop nlohmann's "[json.exception.parse_error.101] "
    return make_error("invalid JSON: " + (at == std::string::npos ? what : what.substr(at + 2)));
  }
  if (!j.is_object()) return make_error("the body must be a JSON object, not " + std::string(j.type_name()));
  return j;
}

// ContainerPilot takes numbers and, from -putmetric, numbers in strings
// (trimmed, as Go's strconv.ParseFloat after strings.TrimSpace).
// A JSON number, or a string read as the sensors' output is (Go's
// ParseFloat after trimming, which is what ContainerPilot applies to
// `-putmetric` values): one rule for every way a value comes in.
std::optional<double> metric_value(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  return metrics::parse_sample(v.get_ref<const std::string&>());
}

}  // namespace

ControlServer::ControlServer(ControlConfig config, const Wiring& wiring, ControlOptions options)
    : config_(std::move(config)),
      wiring_(wiring),
      options_(std::move(options)),
      server_(wiring.loop, [this](const HttpRequest& r) { return handle(r); },
              net::HttpLimits{.header_bytes = 8 * 1024, .body_bytes = kBodyLimit, .connections = 16}) {}

Result<void> ControlServer::start() {
  if (wiring_.metrics) {
    // ContainerPilot's name and help, so existing dashboards keep working.
    auto f = wiring_.metrics->counter("containerpilot_control_http_requests",
                                      "count of requests to control socket, partitioned by path and HTTP code",
                                      {"code", "path"});
    if (!f) return f.error();
    requests_ = *f;
  }
  return server_.listen_unix(config_.socket);
}

HttpResponse ControlServer::handle(const HttpRequest& request) {
  HttpResponse r = route(request);
  if (requests_ && std::find(kPaths.begin(), kPaths.end(), request.path) != kPaths.end())
    requests_->with({std::to_string(r.status), request.path}).inc();
  return r;
}

HttpResponse ControlServer::route(const HttpRequest& request) {
  const std::string& path = request.path;
  if (path == "/v3/ping") return ok();  // any method, as ContainerPilot
  if (path == "/v3/status") {
    if (request.method != "GET") return method_not_allowed("GET");
    return HttpResponse::text(200, options_.status_json ? options_.status_json() : "{}", "application/json");
  }
  if (std::find(kPaths.begin(), kPaths.end(), path) == kPaths.end())
    return HttpResponse::text(404, "404 page not found\n");
  if (request.method != "POST") return method_not_allowed("POST");
  if (path == "/v3/environ") return put_env(request.body);
  if (path == "/v3/metric") return put_metrics(request.body);
  if (path == "/v3/reload") {
    wiring_.log.info("control: reloading the config");
    auto r = options_.reload ? options_.reload() : Result<void>{};
    return r ? ok() : failure(500, r.error().message);
  }
  bool enable = path == "/v3/maintenance/enable";
  if (options_.set_maintenance) options_.set_maintenance(enable);
  return ok();
}

HttpResponse ControlServer::put_env(const std::string& body) {
  auto j = parse_object(body);
  if (!j) return failure(422, j.error().message);
  std::map<std::string, std::string> vars;
  for (const auto& [name, value] : j->items()) {
    if (name.empty() || name.find_first_of(std::string("=\0", 2)) != std::string::npos)
      return failure(422, "\"" + name + "\" is not an environment variable name");
    if (!value.is_string() && !value.is_null())
      return failure(422, "the value of \"" + name + "\" must be a string, not " + value.type_name());
    std::string v = value.is_null() ? "" : value.get<std::string>();
    if (v.find('\0') != std::string::npos) return failure(422, "the value of \"" + name + "\" contains a NUL byte");
    vars[name] = std::move(v);
  }
  if (options_.putenv) options_.putenv(vars);
  return ok();
}

HttpResponse ControlServer::put_metrics(const std::string& body) {
  auto j = parse_object(body);
  if (!j) return failure(422, j.error().message);
  // Every update is checked before the first is made: a refused request
  // changes nothing.
  std::vector<std::pair<std::string, double>> updates;
  for (const auto& [name, value] : j->items()) {
    const auto& known = options_.user_metrics;
    metrics::FamilyBase* f = nullptr;
    if (wiring_.metrics && std::find(known.begin(), known.end(), name) != known.end())
      f = wiring_.metrics->find(name);
    if (!f || !f->label_names().empty())
      return failure(422, "unknown metric \"" + name + "\" (only the metrics of the config's telemetry block)");
    auto v = metric_value(value);
    if (!v) return failure(422, "the value of \"" + name + "\" must be a number, not " + value.dump());
    if (f->type() == metrics::Type::kCounter && !(*v >= 0))
      return failure(422, "counter \"" + name + "\" cannot decrease (adding " + metrics::format_value(*v) + ")");
    updates.emplace_back(name, *v);
  }
  // Checked above, so none of these fails.
  for (const auto& [name, v] : updates) (void)metrics::record_value(*wiring_.metrics, name, v);
  return ok();
}

}  // namespace autopilot::control
