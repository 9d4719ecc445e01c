#include "app/linux_wiring.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

#include "discovery/metered_catalog.h"

namespace autopilot::app {

os::Environment environment_of(const config::Env& env) {
  std::vector<std::string> entries;
  for (const auto& [k, v] : env) entries.push_back(k + "=" + v);
  return os::Environment(std::move(entries));
}

LinuxWiring::LinuxWiring(const log::LogConfig& logging, const config::Env& env)
    : env_(env),
      log_(logging),
      processes_(loop_),
      timers_(loop_),
      files_(loop_),
      bus_([this](std::function<void()> f) { boost::asio::post(loop_, std::move(f)); }),
      child_env_(environment_of(env)) {}

Result<void> LinuxWiring::open_catalog(const discovery::DiscoveryConfig& config) {
  auto catalog = discovery::open_catalog(config, loop_, timers_, files_, log_);
  if (!catalog) return catalog.error();
  catalog_ = std::move(*catalog);
  return {};
}

Result<void> LinuxWiring::enable_operator_metrics() {
  if (operator_metrics_) return {};
  auto m = metrics::OperatorMetrics::create(metrics_);
  if (!m) return m.error();
  operator_metrics_ = std::move(*m);
  if (catalog_) metered_ = std::make_unique<discovery::MeteredCatalog>(*catalog_, *operator_metrics_, timers_);
  return {};
}

Wiring LinuxWiring::wiring() {
  return Wiring{.loop = loop_,
                .timers = timers_,
                .processes = processes_,
                .files = files_,
                .log = log_,
                .bus = bus_,
                .catalog = catalog(),
                .metrics = &metrics_,
                .operator_metrics = operator_metrics_.get(),
                .env = [this](const std::string& name) -> std::optional<std::string> {
                  auto it = env_.find(name);
                  if (it == env_.end()) return std::nullopt;
                  return it->second;
                },
                .child_env = [this] { return child_env_of_now_ ? child_env_of_now_() : child_env_; }};
}

}  // namespace autopilot::app
