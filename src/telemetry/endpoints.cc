#include "telemetry/endpoints.h"

#include <nlohmann/json.hpp>

namespace autopilot::telemetry {

std::string status_json(const std::string& version, const StatusReport& report) {
  nlohmann::ordered_json j;
  j["Version"] = version;
  j["Jobs"] = nlohmann::ordered_json::array();
  for (const auto& job : report.jobs) j["Jobs"].push_back({{"Name", job.name}, {"Status", job.status}});
  j["Services"] = nlohmann::ordered_json::array();
  for (const auto& s : report.services)
    j["Services"].push_back({{"Name", s.name}, {"Address", s.address}, {"Port", s.port}, {"Status", s.status}});
  j["Watches"] = report.watches;
  // Replaced, not thrown on: a job name is the user's, and may not be UTF-8.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

HttpResponse answer(const HttpRequest& request, metrics::Registry& registry, const std::string& version,
                    const std::function<StatusReport()>& status) {
  if (request.path != "/metrics" && request.path != "/status") return HttpResponse::text(404, "404 page not found\n");
  if (request.method != "GET") {
    auto r = HttpResponse::text(405, "405 method not allowed\n");
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  if (request.path == "/metrics") {
    auto format = metrics::negotiate_format(request.accept);
    return HttpResponse::text(200, registry.expose(format),
                              format == metrics::Format::kOpenMetrics ? metrics::kOpenMetricsContentType
                                                                      : metrics::kTextContentType);
  }
  StatusReport report = status ? status() : StatusReport{};
  return HttpResponse::text(200, status_json(version, report), "application/json");
}

}  // namespace autopilot::telemetry
