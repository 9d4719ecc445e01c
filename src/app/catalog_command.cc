#include "app/catalog_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "app/linux_wiring.h"
#include "base/strings.h"
#include "discovery/catalog.h"
#include "discovery/discovery_config.h"
#include "discovery/etcd/client.h"
#include "discovery/instance_json.h"
#include "log/log.h"

namespace autopilot::app {
namespace {

constexpr int kFailed = 1;
constexpr int kBadInput = 2;
// A local catalog answers in milliseconds; this only bounds a stuck one.
constexpr std::chrono::seconds kAnswerTimeout{10};

void print_error(const std::string& message) { fmt::print(stderr, "autopilot: {}\n", message); }

}  // namespace

Result<discovery::DiscoveryConfig> choose_catalog(const std::string& discovery_dir, const std::string& etcd,
                                                  const std::string& config_flag, bool strict, const config::Env& env) {
  discovery::DiscoveryConfig chosen;
  if (!discovery_dir.empty() && !etcd.empty()) return make_error("give --discovery-dir or --etcd, not both");
  if (!etcd.empty()) {
    chosen.etcd.emplace();
    for (const auto& endpoint : split(etcd, ',')) {
      if (endpoint.empty()) continue;
      if (auto parsed = discovery::etcd::parse_endpoint(endpoint); !parsed)
        return make_error("--etcd: " + parsed.error().message);
      chosen.etcd->endpoints.push_back(endpoint);
    }
    if (chosen.etcd->endpoints.empty()) return make_error("--etcd: no endpoint given");
    return chosen;
  }
  if (!discovery_dir.empty()) {
    chosen.embedded_dir = discovery_dir;
    return chosen;
  }
  auto path = config::resolve_path(config_flag, env);
  if (!path) return chosen;  // no config given anywhere: the default catalog
  config::LoadOptions options;
  options.strict_env = strict;
  auto cfg = config::load(*path, env, options);
  if (!cfg) return cfg.error();
  return cfg->discovery;
}

Result<void> require_existing_catalog(const discovery::DiscoveryConfig& chosen, os::Files& files) {
  if (chosen.etcd) return {};
  const std::string& dir = chosen.embedded_dir;
  auto info = files.stat(dir);
  if (!info) return make_error(fmt::format("no catalog at {} ({})", dir, info.error().message));
  if (!*info) return make_error(fmt::format("no catalog at {} (directory does not exist)", dir));
  if ((*info)->kind != os::FileKind::kDirectory) return make_error(fmt::format("no catalog at {} (not a directory)", dir));
  return {};
}

namespace {

// Starts one catalog operation and runs the loop until its callback fires,
// or fails after kAnswerTimeout.
template <class T, class Start>
Result<T> await_answer(const Wiring& wiring, Start start) {
  boost::asio::io_context& io = wiring.loop;
  os::Timers& timers = wiring.timers;
  std::optional<Result<T>> answer;
  start([&](Result<T> r) {
    answer.emplace(std::move(r));
    io.stop();
  });
  auto deadline = timers.after(kAnswerTimeout, [&io] { io.stop(); });
  io.run();
  timers.cancel(deadline);
  if (!answer) return make_error(fmt::format("the catalog did not answer within {}s", kAnswerTimeout.count()));
  return std::move(*answer);
}

void print_json(const nlohmann::ordered_json& j) {
  // Records from other processes are validated but may still hold odd bytes:
  // replace invalid UTF-8 rather than fail.
  fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace

int run_catalog_command(const CatalogQuery& query, const config::Env& env) {
  if (query.kind == CatalogQuery::Kind::kService) {
    if (auto valid = discovery::validate_service_name(query.service); !valid) {
      print_error("catalog service: " + valid.error().message);
      return kBadInput;
    }
  }
  auto chosen = choose_catalog(query.discovery_dir, query.etcd, query.config_flag, query.strict, env);
  if (!chosen) {
    print_error(chosen.error().format());
    return kBadInput;
  }
  LinuxWiring os(log::LogConfig{log::Level::kWarn, log::Format::kDefault, "stderr"}, env);
  if (auto exists = require_existing_catalog(*chosen, os.files()); !exists) {
    print_error(exists.error().message);
    return kFailed;
  }
  if (auto opened = os.log().open(); !opened) {
    print_error(opened.error().message);
    return kFailed;
  }
  if (auto opened = os.open_catalog(*chosen); !opened) {
    print_error(fmt::format("opening the {}: {}", chosen->describe(), opened.error().message));
    return kFailed;
  }
  const Wiring wiring = os.wiring();
  discovery::Catalog& c = *wiring.catalog;

  if (query.kind == CatalogQuery::Kind::kServices) {
    auto services =
        await_answer<std::vector<discovery::ServiceSummary>>(wiring, [&](auto done) { c.services(std::move(done)); });
    if (!services) {
      print_error("listing services: " + services.error().message);
      return kFailed;
    }
    std::vector<std::string> names;
    for (const auto& service : *services) names.push_back(service.name);
    print_json(nlohmann::ordered_json(names));
    return 0;
  }

  auto instances = await_answer<std::vector<discovery::Instance>>(
      wiring, [&](auto done) { c.list(query.service, !query.all, std::move(done)); });
  if (!instances) {
    print_error(fmt::format("listing service {}: {}", query.service, instances.error().message));
    return kFailed;
  }
  std::sort(instances->begin(), instances->end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& i : *instances) out.push_back(discovery::instance_to_json<nlohmann::ordered_json>(i));
  print_json(out);
  return 0;
}

}  // namespace autopilot::app
