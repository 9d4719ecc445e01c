// make_check: the probe a job's `health` block asks for.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "health/check.h"
#include "health/health_config.h"
#include "log/log.h"
#include "os/processes.h"
#include "os/timers.h"

namespace autopilot::health {

struct CheckDeps {
  boost::asio::io_context& io;
  os::Processes& processes;
  os::Timers& timers;
  log::Log& log;
  std::function<os::Environment()> child_env;
};

// Null for a heartbeat-only block (no exec, http or tcp). The config was
// validated at load time, so the targets parse.
std::unique_ptr<Check> make_check(const HealthConfig& config, const std::string& job, const CheckDeps& deps);

}  // namespace autopilot::health
