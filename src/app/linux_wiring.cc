#include "app/linux_wiring.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>

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

Wiring LinuxWiring::wiring() {
  return Wiring{.loop = loop_,
                .timers = timers_,
                .processes = processes_,
                .files = files_,
                .log = log_,
                .bus = bus_,
                .catalog = catalog_.get(),
                .env = [this](const std::string& name) -> std::optional<std::string> {
                  auto it = env_.find(name);
                  if (it == env_.end()) return std::nullopt;
                  return it->second;
                },
                .child_env = [this] { return child_env_; }};
}

}  // namespace autopilot::app
