#include "health/exec_check.h"

#include <csignal>

#include <fmt/format.h>

namespace autopilot::health {

ExecCheck::ExecCheck(ExecCheckSpec spec, os::Processes& processes, os::Timers& timers, log::Log& log)
    : spec_(std::move(spec)), processes_(processes), timers_(timers), log_(log) {}

ExecCheck::~ExecCheck() { cancel(); }

void ExecCheck::run(Duration timeout, std::function<void(CheckResult)> done) {
  cancel();
  done_ = std::move(done);
  timed_out_ = false;
  std::uint64_t generation = ++generation_;
  auto pid_holder = std::make_shared<int>(0);
  os::SpawnSpec spec{spec_.argv, spec_.env ? spec_.env() : os::Environment{}, !spec_.raw_logging};
  os::SpawnCallbacks callbacks{
      // Output may still drain after a cancel; it is logged while we live.
      lifetime_.bind([this, pid_holder](std::string_view line) {
        log_.write(log::Level::kInfo, line, spec_.name, *pid_holder);
      }),
      lifetime_.bind([this, generation](os::ExitStatus status) {
        if (generation != generation_) return;
        pid_ = 0;
        if (timed_out_) return finish({false, "timed out"});
        if (!status.exec_error.empty()) return finish({false, status.exec_error});  // it never ran
        if (status.is_success()) return finish({true, ""});
        finish({false, status.signal ? fmt::format("killed by signal {}", status.signal)
                                     : fmt::format("exited with status {}", status.code)});
      })};
  auto pid = processes_.spawn(spec, std::move(callbacks));
  if (!pid) {
    std::string why = pid.error().message;
    timer_.after(Duration{0}, [this, why] { finish({false, why}); });
    return;
  }
  pid_ = *pid_holder = *pid;
  timer_.after(timeout, [this, timeout] {
    if (!pid_) return;
    timed_out_ = true;
    log_.warn(fmt::format("{}: timed out after {}; killing pid {}", spec_.name, format_duration(timeout), pid_));
    processes_.signal_group(pid_, SIGKILL);
  });
}

void ExecCheck::finish(CheckResult result) {
  timer_.cancel();
  ++generation_;
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(result));
}

void ExecCheck::cancel() {
  ++generation_;
  timer_.cancel();
  if (pid_) processes_.signal_group(pid_, SIGKILL);
  pid_ = 0;
  done_ = nullptr;
}

}  // namespace autopilot::health
