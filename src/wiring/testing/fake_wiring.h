// FakeWiring: the shared dependencies on fakes, for the tests of the areas
// above discovery/ (jobs, watches, render): FakeTimers, FakeProcesses,
// FakeFiles and an in-memory catalog on those timers, a log, and a bus
// drained by a zero-delay timer, with the Wiring naming them. Catalog
// answers, watch deliveries and events all happen as the test advances time;
// nothing waits on the wall clock. The io_context is only named: nothing runs
// on it. Test-only (library autopilot_wiring_testing).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "discovery/catalog.h"
#include "discovery/memory/memory_catalog.h"
#include "events/bus.h"
#include "metrics/operator_metrics.h"
#include "metrics/registry.h"
#include "log/log.h"
#include "os/environment.h"
#include "os/fake/fake_files.h"
#include "os/fake/fake_processes.h"
#include "os/fake/fake_timers.h"
#include "wiring/wiring.h"

namespace autopilot {

class FakeWiring {
 public:
  // Errors only, to stderr: a test reads what it checks from its fakes.
  explicit FakeWiring(log::LogConfig log_config = {log::Level::kError, log::Format::kDefault, "stderr"});
  FakeWiring(const FakeWiring&) = delete;
  FakeWiring& operator=(const FakeWiring&) = delete;

  // The Wiring of these fakes, with the in-memory catalog.
  Wiring wiring() { return wiring(&catalog); }
  // The same with another catalog (null: none, as a config without one).
  Wiring wiring(discovery::Catalog* other);

  // Runs what is due now: catalog answers, watch deliveries, bus events.
  void settle() { timers.advance(Duration::zero()); }
  // Advances time until `done()` (checked after every timer), at most
  // `limit`, then runs what that timer left due now (say, the bus's events).
  bool run_until(const std::function<bool()>& done, Duration limit = std::chrono::seconds(5));
  // Makes a catalog call, settles, and expects it to have succeeded (a test
  // failure otherwise, also when it did not answer).
  void expect_ok(const std::function<void(discovery::Callback<void>)>& start);

  boost::asio::io_context io;
  os::FakeTimers timers;
  os::FakeProcesses processes;
  os::FakeFiles files{timers};
  log::Log log;
  events::Bus bus;
  metrics::Registry metrics;
  // Registers the operator metrics in `metrics` and hands them to the areas
  // (as telemetry does); before, the Wiring has none.
  metrics::OperatorMetrics& enable_operator_metrics();
  std::unique_ptr<metrics::OperatorMetrics> operator_metrics;
  discovery::MemoryCatalog catalog{timers};
  // The Wiring's two environments (empty: none).
  std::function<std::optional<std::string>(const std::string&)> env;
  std::function<os::Environment()> child_env;
};

}  // namespace autopilot
