// LinuxWiring: the real dependencies of one command (`run`, `render`,
// `catalog`): the loop, the Linux timers, processes and files, the log, the
// bus and, once opened, the catalog, owned here and handed to the areas as
// one Wiring (wiring/wiring.h). Each command builds one, opens the log and
// the catalog it needs, and builds its areas from wiring().
//
// Declare it before everything built from its Wiring: it must outlive them.
// Destroying it closes the catalog first, then the rest in reverse order.
// Loop thread only.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "base/result.h"
#include "config/config.h"
#include "discovery/catalog.h"
#include "discovery/discovery_config.h"
#include "metrics/operator_metrics.h"
#include "events/bus.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "os/environment.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"
#include "os/linux/linux_processes.h"
#include "wiring/wiring.h"

namespace autopilot::app {

// `env` as a child's environment, NAME=value entries.
os::Environment environment_of(const config::Env& env);

class LinuxWiring {
 public:
  // `env`: autopilot's own environment (the templates' `env`), which must
  // outlive this; children get it too until set_child_env says otherwise.
  // The log is built from `logging` and not opened: the caller opens it and
  // reports a failure its own way.
  LinuxWiring(const log::LogConfig& logging, const config::Env& env);
  LinuxWiring(const LinuxWiring&) = delete;
  LinuxWiring& operator=(const LinuxWiring&) = delete;

  // Opens the catalog `config` names; the error is open_catalog's, for the
  // caller to phrase. The Wiring's catalog is null until then.
  Result<void> open_catalog(const discovery::DiscoveryConfig& config);
  // The catalog the areas use: the metered one once operator metrics are on.
  discovery::Catalog* catalog() const { return metered_ ? metered_.get() : catalog_.get(); }

  // Registers the operator metrics (metrics/operator_metrics.h) and meters
  // the catalog, if open; call before building areas from wiring(). For
  // telemetry only: without it nothing is counted.
  Result<void> enable_operator_metrics();

  // What every child gets from now on.
  void set_child_env(os::Environment env) {
    child_env_ = std::move(env);
    child_env_of_now_ = nullptr;
  }
  // Or computed at each spawn (a v2 config's children see the app's pid).
  void set_child_env(std::function<os::Environment()> of_now) { child_env_of_now_ = std::move(of_now); }

  // The one place the shared dependencies are named for the areas.
  Wiring wiring();

  boost::asio::io_context& loop() { return loop_; }
  log::Log& log() { return log_; }
  os::LinuxProcesses& processes() { return processes_; }
  os::AsioTimers& timers() { return timers_; }
  os::LinuxFiles& files() { return files_; }
  events::Bus& bus() { return bus_; }
  metrics::Registry& metrics() { return metrics_; }

 private:
  const config::Env& env_;
  boost::asio::io_context loop_;
  log::Log log_;
  os::LinuxProcesses processes_;
  os::AsioTimers timers_;
  os::LinuxFiles files_;
  events::Bus bus_;
  metrics::Registry metrics_;
  os::Environment child_env_;
  std::function<os::Environment()> child_env_of_now_;
  std::unique_ptr<metrics::OperatorMetrics> operator_metrics_;
  // Last: destroyed first, while everything it uses is still there (the
  // metered wrapper before the catalog it wraps).
  std::unique_ptr<discovery::Catalog> catalog_;
  std::unique_ptr<discovery::Catalog> metered_;
};

}  // namespace autopilot::app
