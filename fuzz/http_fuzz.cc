// libFuzzer target for the HTTP requests autopilot answers: the control
// socket (src/control), telemetry's /metrics and /status (src/telemetry,
// its handler without the server: telemetry/endpoints.h)
// and `autopilot stash` (src/stash). The first byte picks the server, the
// rest is what a client sends: it goes through Beast's request parser with
// that server's limits, then into the server's handler as the session
// builds the request (net/http_server.cc, one for all three). The
// smaller parsers behind them are reachable on their own too:
//   0 control   1 telemetry   2 stash (file, env and kv mounts, a token)
//   3 metrics::parse_sample and the Accept negotiation of /metrics
//   4 stash's request path and If-None-Match matching
// Every request must be answered with a status (no crash, throw or hang).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "control/control_server.h"
#include "discovery/memory/memory_catalog.h"
#include "events/bus.h"
#include "log/log.h"
#include "metrics/record.h"
#include "metrics/registry.h"
#include "os/fake/fake_files.h"
#include "os/fake/fake_processes.h"
#include "os/fake/fake_timers.h"
#include "stash/request_path.h"
#include "stash/stash.h"
#include "telemetry/endpoints.h"

using namespace autopilot;
namespace http = boost::beast::http;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The servers, built once on fakes (nothing listens; handle() is called).
struct Servers {
  Servers() {
    for (auto r : {metrics.counter("app_jobs_total", "jobs").ok(), metrics.gauge("app_queue", "queue").ok(),
                   metrics.histogram("app_latency", "latency").ok(), metrics.summary("app_size", "size").ok(),
                   metrics.counter("app_labelled", "labelled", {"code"}).ok()}) {
      check(r);
    }
    Wiring wiring{.loop = io, .timers = timers, .processes = processes, .files = files, .log = log, .bus = bus,
                  .metrics = &metrics};
    control::ControlOptions options{
        .reload = [this]() -> Result<void> {
          if (++reloads % 2) return make_error("refused");
          return {};
        },
        .set_maintenance = [](bool) {},
        .putenv = [](const std::map<std::string, std::string>&) {},
        .status_json = [] { return std::string(R"({"Version":"v"})"); },
        .user_metrics = {"app_jobs_total", "app_queue", "app_latency", "app_size", "app_labelled", "app_missing"}};
    control_server = std::make_unique<control::ControlServer>(
        control::ControlConfig{.socket = dir + "/control.sock", .is_given = true}, wiring, std::move(options));
    std::filesystem::create_directories(dir + "/files/sub");
    std::ofstream(dir + "/files/a.txt") << "hello\n";
    std::ofstream(dir + "/files/sub/b.pem") << "-----BEGIN-----\n";
    std::filesystem::create_symlink("/etc/passwd", dir + "/files/link");
    catalog.put("app/config", "v1", [](Result<discovery::Index>) {});
    catalog.put("app/sub/x", "v2", [](Result<discovery::Index>) {});
    timers.advance(Duration::zero());
    stash::StashConfig config;
    config.mounts = {
        {.mount = "/", .provider = stash::ProviderKind::kFile, .base_path = dir + "/files"},
        {.mount = "/secret", .provider = stash::ProviderKind::kEnv, .var = "SECRET", .value = "s3cr3t",
         .token = "tok"},
        {.mount = "/unset", .provider = stash::ProviderKind::kEnv, .var = "UNSET"},
        {.mount = "/kv", .provider = stash::ProviderKind::kKv, .prefix = "app/"},
        {.mount = "/private", .provider = stash::ProviderKind::kFile, .base_path = dir + "/files/sub",
         .token = "tok"}};
    auto made = stash::Stash::make(config, io, &catalog, log);
    check(made.ok());
    stash = std::move(*made);
  }
  ~Servers() { std::filesystem::remove_all(dir); }

  std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path() / ("http_fuzz." + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
  }();
  boost::asio::io_context io;
  os::FakeTimers timers;
  os::FakeProcesses processes;
  os::FakeFiles files{timers};
  log::Log log{log::LogConfig{log::Level::kError, log::Format::kDefault, "stderr"}};
  events::Bus bus{[this](std::function<void()> drain) { timers.after(Duration::zero(), std::move(drain)); }};
  metrics::Registry metrics;
  discovery::MemoryCatalog catalog{timers};
  int reloads = 0;
  std::unique_ptr<control::ControlServer> control_server;
  telemetry::StatusReport status = [] {
    telemetry::StatusReport r;
    r.jobs.push_back({"job", "healthy"});
    r.services.push_back({"web", "10.0.0.1", 80, "unhealthy"});
    r.watches.push_back("db");
    return r;
  }();
  std::unique_ptr<stash::Stash> stash;
};

Servers& servers() {
  static Servers* s = new Servers();  // never destroyed: the temp dir is removed at exit below
  return *s;
}

// The request `text` holds, as Beast's parser reads it with these limits;
// nullopt when the parser refuses it or the input ends before the request.
std::optional<http::request<http::string_body>> parse(std::string_view text, size_t header_limit,
                                                      size_t body_limit) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(header_limit));
  parser.body_limit(body_limit);
  parser.eager(true);
  boost::beast::error_code ec;
  // Every turn consumes input or ends: a put that takes nothing (the header
  // is not complete, the input is used up, or a body waits for more) is the
  // client closing the connection.
  while (!parser.is_done()) {
    size_t n = text.empty() ? 0 : parser.put(boost::asio::buffer(text.data(), text.size()), ec);
    text.remove_prefix(n);
    if (ec && ec != http::error::need_more) return std::nullopt;
    ec = {};
    if (n == 0) {
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return std::nullopt;
    }
  }
  return parser.release();
}

// As net/http_server.cc's session builds the request.
net::HttpRequest to_request(http::request<http::string_body>& req) {
  net::HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  request.path = request.target.substr(0, request.target.find('?'));
  request.accept = std::string(req[http::field::accept]);
  request.authorization = std::string(req[http::field::authorization]);
  request.if_none_match = std::string(req[http::field::if_none_match]);
  request.body = std::move(req.body());
  return request;
}

void check_response(const net::HttpResponse& r) { check(r.status >= 200 && r.status <= 599); }

void control_request(std::string_view text) {
  auto req = parse(text, net::HttpLimits{}.header_bytes, control::ControlServer::kBodyLimit);
  if (!req) return;
  check_response(servers().control_server->handle(to_request(*req)));
}

void telemetry_request(std::string_view text) {
  auto req = parse(text, net::HttpLimits{}.header_bytes, net::HttpLimits{}.body_bytes);
  if (!req) return;
  auto& s = servers();
  check_response(telemetry::answer(to_request(*req), s.metrics, "fuzz", [&] { return s.status; }));
}

// Every method reaches stash's handler (it answers 405 itself).
void stash_request(std::string_view text) {
  auto req = parse(text, stash::kServerLimits.header_bytes, stash::kServerLimits.body_bytes);
  if (!req) return;
  auto& s = servers();
  std::optional<int> status;
  s.stash->handle(to_request(*req), [&](net::HttpResponse r) { status = r.status; });
  s.timers.advance(Duration::zero());  // the kv mount's catalog answers
  s.io.poll();
  s.io.restart();
  check(status && *status >= 200 && *status <= 599);  // every request is answered
}

void values(std::string_view text) {
  auto sample = metrics::parse_sample(text);
  (void)sample;
  (void)metrics::negotiate_format(text);
}

void paths(std::string_view text) {
  auto nul = text.find('\0');
  auto target = text.substr(0, nul);
  if (auto path = stash::parse_request_path(target)) {
    for (const auto& segment : path->segments) check(!segment.empty() && segment != "." && segment != "..");
    (void)path->text();
  }
  if (nul != std::string_view::npos) (void)stash::etag_matches(text.substr(nul + 1), "\"abc\"");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  servers();
  std::atexit([] { std::filesystem::remove_all(servers().dir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (bytes[0] % 5) {
    case 0: control_request(text); break;
    case 1: telemetry_request(text); break;
    case 2: stash_request(text); break;
    case 3: values(text); break;
    default: paths(text); break;
  }
  return 0;
}
