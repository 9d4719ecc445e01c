#include "health/health_config.h"

#include "decode/command.h"
#include "decode/decoder.h"
#include "health/endpoint.h"

namespace autopilot::health {
namespace {

using decode::Decoder;
using decode::Node;

Result<Duration> positive_duration(const Decoder& d, const Node& n) {
  auto v = d.duration(n, true);
  if (!v) return v.error();
  if (v->count() <= 0) return d.error(n, "must be > 0");
  if (*v < std::chrono::milliseconds(1)) return d.error(n, "cannot be less than 1ms");
  return *v;
}

Result<void> decode_http(const Decoder& d, const Node& n, HealthConfig& c) {
  static const std::vector<std::string> kHttpKeys{"url", "status"};
  Node url = n;
  if (n->is_object()) {
    if (auto r = d.only_keys(n, kHttpKeys); !r) return r.error();
    auto u = d.field(n, "url");
    if (!u) return d.error(n, "needs a 'url'");
    url = *u;
    if (auto status = d.field(n, "status")) {
      auto s = d.integer(*status);
      if (!s) return s.error();
      if (*s < 100 || *s > 599) return d.error(*status, "must be an HTTP status code (100..599)");
      c.status = static_cast<int>(*s);
    }
  } else if (!n->is_string()) {
    return d.error(n, "must be a URL string or an object {url, status}");
  }
  auto s = d.string(url);
  if (!s) return s.error();
  if (auto target = parse_http_target(*s, c.status ? std::optional<int>(c.status) : std::nullopt); !target) return d.error(url, target.error().message);
  c.url = *s;
  return {};
}

}  // namespace

Result<HealthConfig> decode_health(const Decoder& d, const Node& n) {
  static const std::vector<std::string> kKeys{"exec", "http", "tcp", "interval", "ttl", "timeout", "logging"};
  static const std::vector<std::string> kLoggingKeys{"raw"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  HealthConfig c;
  int probes = 0;
  for (const char* key : {"exec", "http", "tcp"}) probes += d.field(n, key) ? 1 : 0;
  if (probes > 1) return d.error(n, "can have only one of 'exec', 'http' or 'tcp'");
  if (auto exec = d.field(n, "exec")) {
    auto argv = decode::command(d, *exec);
    if (!argv) return argv.error();
    c.kind = Kind::kExec;
    c.exec = std::move(*argv);
  }
  if (auto http = d.field(n, "http")) {
    c.kind = Kind::kHttp;
    if (auto r = decode_http(d, *http, c); !r) return r.error();
  }
  if (auto tcp = d.field(n, "tcp")) {
    auto s = d.string(*tcp);
    if (!s) return s.error();
    if (auto target = parse_tcp_target(*s); !target) return d.error(*tcp, target.error().message);
    c.kind = Kind::kTcp;
    c.address = *s;
  }
  auto interval = d.field(n, "interval");
  if (!interval) return d.error(n, "needs an 'interval' (seconds between checks, e.g. 5)");
  auto i = positive_duration(d, *interval);
  if (!i) return i.error();
  c.interval = *i;
  auto ttl = d.field(n, "ttl");
  if (!ttl) return d.error(n, "needs a 'ttl' (seconds a passing check keeps the instance alive, e.g. 10)");
  auto t = positive_duration(d, *ttl);
  if (!t) return t.error();
  if (*t <= c.interval)
    return d.error(*ttl, "must be longer than the interval (" + format_duration(c.interval) +
                             "), or the record expires between two checks");
  c.ttl = *t;
  c.timeout = c.interval;
  if (auto timeout = d.field(n, "timeout")) {
    auto v = positive_duration(d, *timeout);
    if (!v) return v.error();
    c.timeout = *v;
  }
  if (auto logging = d.field(n, "logging")) {
    if (auto r = d.only_keys(*logging, kLoggingKeys); !r) return r.error();
    if (auto raw = d.field(*logging, "raw")) {
      auto b = d.boolean(*raw);
      if (!b) return b.error();
      c.raw_logging = *b;
    }
  }
  return c;
}

}  // namespace autopilot::health
