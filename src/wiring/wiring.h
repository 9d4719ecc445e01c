// Wiring: the shared dependencies of every area above discovery/, named, in
// one struct built once per command (by app/linux_wiring.h, for `run`,
// `render` and `catalog`) or per test (wiring/testing/fake_wiring.h: fakes). Each area takes what it needs
// from it plus a small options struct of its own tunables, so a new shared
// dependency (a metrics registry, a control server) is one field here and one
// line where the wiring is built, not an edit to every area's constructor.
//
// Everything referenced outlives what is built from it: the owner declares
// these before the jobs, watches and renderers that copy the Wiring.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "discovery/catalog.h"
#include "events/bus.h"
#include "log/log.h"
#include "metrics/operator_metrics.h"
#include "metrics/registry.h"
#include "os/environment.h"
#include "os/files.h"
#include "os/processes.h"
#include "os/timers.h"

namespace autopilot {

struct Wiring {
  boost::asio::io_context& loop;
  os::Timers& timers;
  os::Processes& processes;
  // Reads, atomic writes and directory watches (templates, the embedded catalog's records).
  os::Files& files;
  log::Log& log;
  events::Bus& bus;
  // Where jobs register and watches and templates look; null when the config
  // needs no catalog (then nothing that needs one is built).
  discovery::Catalog* catalog = nullptr;
  // Where metrics are counted and read for /metrics (null: nothing counts).
  metrics::Registry* metrics = nullptr;
  // autopilot's own metrics (jobs, checks, catalog, watches, templates): set
  // only when telemetry is on; null, every hook is one pointer check.
  metrics::OperatorMetrics* operator_metrics = nullptr;
  // Autopilot's own environment, for the templates' `env` (null: empty).
  std::function<std::optional<std::string>(const std::string&)> env = {};
  // The environment every child gets (null: empty).
  std::function<os::Environment()> child_env = {};
};

}  // namespace autopilot
