// ExecCheck: ContainerPilot's health check, a command whose exit status 0
// means healthy. Its output is logged under `check.<job>` (or passed through
// raw); a run longer than the timeout has its process group SIGKILLed and
// counts as a failure.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/lifetime.h"
#include "health/check.h"
#include "log/log.h"
#include "os/processes.h"
#include "os/timers.h"

namespace autopilot::health {

struct ExecCheckSpec {
  std::string name;  // "check.<job>": the log name
  std::vector<std::string> argv;
  bool raw_logging = false;
  std::function<os::Environment()> env;  // the child's environment
};

class ExecCheck : public Check {
 public:
  ExecCheck(ExecCheckSpec spec, os::Processes& processes, os::Timers& timers, log::Log& log);
  ~ExecCheck() override;

  void run(Duration timeout, std::function<void(CheckResult)> done) override;
  void cancel() override;

 private:
  void finish(CheckResult result);

  ExecCheckSpec spec_;
  os::Processes& processes_;
  os::Timers& timers_;
  log::Log& log_;
  std::function<void(CheckResult)> done_;
  int pid_ = 0;
  bool timed_out_ = false;
  os::Timer timer_{timers_};  // the run's deadline, or its spawn failure delivered from the loop
  // Bumped by every run and cancel, so the exit of an abandoned run is ignored.
  std::uint64_t generation_ = 0;
  Lifetime lifetime_;  // last: ends the process callbacks, which outlive us
};

}  // namespace autopilot::health
