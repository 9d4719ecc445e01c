#include "telemetry/telemetry_config.h"

#include <unistd.h>

#include <map>

#include "decode/decoder.h"
#include "discovery/catalog.h"
#include "metrics/registry.h"
#include "net/interfaces.h"

namespace autopilot::telemetry {

using decode::Decoder;
using decode::Node;

namespace {

Result<metrics::Type> decode_type(const Decoder& d, const Node& n) {
  static const std::map<std::string, metrics::Type> kTypes{{"counter", metrics::Type::kCounter},
                                                           {"gauge", metrics::Type::kGauge},
                                                           {"histogram", metrics::Type::kHistogram},
                                                           {"summary", metrics::Type::kSummary}};
  auto s = d.string(n);
  if (!s) return s.error();
  auto it = kTypes.find(*s);
  if (it == kTypes.end())
    return d.error(n, "invalid metric type: \"" + *s + "\" (use counter, gauge, histogram or summary)");
  return it->second;
}

Result<MetricConfig> decode_metric(const Decoder& d, const Node& n) {
  static const std::vector<std::string> kKeys{"namespace", "subsystem", "name", "help", "type"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  MetricConfig m;
  for (const char* part : {"namespace", "subsystem", "name"}) {
    auto f = d.field(n, part);
    if (!f) continue;
    auto s = d.string(*f);
    if (!s) return s.error();
    if (s->empty()) continue;
    m.name += (m.name.empty() ? "" : "_") + *s;
  }
  Node where = d.field(n, "name").value_or(n);
  if (m.name.empty()) return d.error(n, "needs a 'name' (with an optional 'namespace' and 'subsystem')");
  if (!metrics::is_valid_metric_name(m.name))
    return d.error(where, "\"" + m.name + "\" is not a valid Prometheus metric name (letters, digits, _ and :, "
                                          "not starting with a digit)");
  if (is_builtin_metric_name(m.name)) return d.error(where, "\"" + m.name + "\" is the name of a built-in metric");
  if (auto help = d.field(n, "help")) {
    auto s = d.string(*help);
    if (!s) return s.error();
    m.help = *s;
  }
  auto type = d.field(n, "type");
  if (!type) return d.error(n, "needs a 'type': counter, gauge, histogram or summary");
  auto t = decode_type(d, *type);
  if (!t) return t.error();
  m.type = *t;
  return m;
}

Result<std::vector<MetricConfig>> decode_metrics(const Decoder& d, const Node& n) {
  if (auto r = d.require_array(n); !r) return r.error();
  std::vector<MetricConfig> out;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < n->size(); ++i) {
    Node e = d.element(n, i);
    auto m = decode_metric(d, e);
    if (!m) return m.error();
    if (auto [it, inserted] = seen.emplace(m->name, i); !inserted)
      return d.error(d.field(e, "name").value_or(e), "duplicate metric \"" + m->name + "\" (also metrics[" +
                                                         std::to_string(it->second) + "])");
    out.push_back(std::move(*m));
  }
  return out;
}

Result<std::vector<std::string>> decode_interfaces(const Decoder& d, const Node& n) {
  if (n->is_string()) return std::vector<std::string>{n->get<std::string>()};
  auto list = d.string_list(n);
  if (!list) return list.error();
  if (list->empty()) return d.error(n, "must name at least one interface spec");
  return list;
}

Result<std::string> resolve_address(const Decoder& d, const Node& where, const std::vector<std::string>& interfaces) {
  auto specs = net::parse_interface_specs(interfaces);
  if (!specs) return d.error(where, specs.error().message);
  auto system = net::system_addresses();
  if (!system) return d.error(where, system.error().message);
  auto address = net::select_address(*specs, *system);
  if (!address) return d.error(where, address.error().message);
  return *address;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

}  // namespace

jobs::JobConfig registration_job(const TelemetryConfig& config) {
  jobs::JobConfig job;
  job.name = config.service_name;
  health::HealthConfig health;
  health.interval = std::chrono::seconds(5);
  health.ttl = std::chrono::seconds(15);
  health.timeout = health.interval;
  job.health = health;
  job.service.port = config.port;
  job.service.tags = config.tags;
  job.service.interfaces = config.interfaces;
  job.service.address = config.address;
  job.service.node = config.node;
  return job;
}

bool is_builtin_metric_name(const std::string& name) {
  return name.starts_with("containerpilot_") || name.starts_with("autopilot_") || name.starts_with("process_");
}

Result<TelemetryConfig> decode_telemetry(const Decoder& d, const Node& n) {
  static const std::vector<std::string> kKeys{"name", "port", "interfaces", "tags", "metrics"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  TelemetryConfig t;
  if (auto port = d.field(n, "port")) {
    auto p = d.integer(*port);
    if (!p) return p.error();
    if (*p < 1 || *p > 65535) return d.error(*port, "must be a port number (1-65535)");
    t.port = static_cast<int>(*p);
  }
  if (auto name = d.field(n, "name")) {
    auto s = d.string(*name);
    if (!s) return s.error();
    if (auto r = discovery::validate_service_name(*s); !r) return d.error(*name, r.error().message);
    t.service_name = *s;
  }
  if (auto interfaces = d.field(n, "interfaces")) {
    auto list = decode_interfaces(d, *interfaces);
    if (!list) return list.error();
    t.interfaces = std::move(*list);
  }
  if (auto tags = d.field(n, "tags")) {
    auto list = d.string_list(*tags);
    if (!list) return list.error();
    t.tags = std::move(*list);
  }
  if (auto m = d.field(n, "metrics")) {
    auto list = decode_metrics(d, *m);
    if (!list) return list.error();
    t.metrics = std::move(*list);
  }
  Node where = d.field(n, "interfaces").value_or(n);
  auto address = resolve_address(d, where, t.interfaces);
  if (!address) return address.error();
  t.address = *address;
  t.node = host_name();
  if (auto r = discovery::validate_instance(jobs::instance_of(registration_job(t))); !r)
    return d.error(d.field(n, "tags").value_or(n), "the telemetry endpoint's registration is invalid: " +
                                                       r.error().message);
  return t;
}

}  // namespace autopilot::telemetry
