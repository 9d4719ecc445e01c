// Check: one health probe of a job's app. A check runs on the loop, never
// blocks, and reports once per run. Kinds: exec (a command; exit 0 =
// healthy, as ContainerPilot), http (GET a URL in-process, no curl), tcp
// (a connect). The job decides when to run checks and what a result means
// (health/monitor.h); a Check only probes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/duration.h"

namespace autopilot::health {

struct CheckResult {
  bool healthy = false;
  // Why, for the log: "HTTP 503", "connection refused", "timed out after 2s",
  // "exited with status 1". Empty when healthy and nothing to say.
  std::string detail;
};

class Check {
 public:
  virtual ~Check() = default;
  // Starts one probe; `done` runs on the loop exactly once, never inline,
  // unless cancel() or destruction comes first (then never). A probe that
  // takes longer than `timeout` is abandoned and reported unhealthy. At most
  // one probe runs at a time: run() while one runs is a caller error.
  virtual void run(Duration timeout, std::function<void(CheckResult)> done) = 0;
  // Abandons the running probe, if any; its `done` never runs.
  virtual void cancel() = 0;
};

}  // namespace autopilot::health
