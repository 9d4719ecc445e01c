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
  std::uint64_t generation = ++*generation_;
  std::weak_ptr<std::uint64_t> weak = generation_;
  auto current = [weak, generation] {
    auto g = weak.lock();
    return g && *g == generation;
  };
  auto pid_holder = std::make_shared<int>(0);
  os::SpawnSpec spec{spec_.argv, spec_.env ? spec_.env() : os::Environment{}, !spec_.raw_logging};
  os::SpawnCallbacks callbacks{
      [this, weak, pid_holder](std::string_view line) {
        // Output may still drain after a cancel; it is logged while we live.
        if (!weak.expired()) log_.write(log::Level::kInfo, line, spec_.name, *pid_holder);
      },
      [this, current](os::ExitStatus status) {
        if (!current()) return;
        pid_ = 0;
        if (timed_out_) return finish({false, "timed out"});
        if (!status.exec_error.empty()) return finish({false, status.exec_error});  // it never ran
        if (status.is_success()) return finish({true, ""});
        finish({false, status.signal ? fmt::format("killed by signal {}", status.signal)
                                     : fmt::format("exited with status {}", status.code)});
      }};
  auto pid = processes_.spawn(spec, std::move(callbacks));
  if (!pid) {
    std::string why = pid.error().message;
    timer_ = timers_.after(Duration{0}, [this, current, why] {
      timer_ = 0;
      if (current()) finish({false, why});
    });
    return;
  }
  pid_ = *pid_holder = *pid;
  timer_ = timers_.after(timeout, [this, current, timeout] {
    timer_ = 0;
    if (!current() || !pid_) return;
    timed_out_ = true;
    log_.warn(fmt::format("{}: timed out after {}; killing pid {}", spec_.name, format_duration(timeout), pid_));
    processes_.signal_group(pid_, SIGKILL);
  });
}

void ExecCheck::finish(CheckResult result) {
  if (timer_) timers_.cancel(timer_);
  timer_ = 0;
  ++*generation_;
  auto done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(result));
}

void ExecCheck::cancel() {
  ++*generation_;
  if (timer_) timers_.cancel(timer_);
  timer_ = 0;
  if (pid_) processes_.signal_group(pid_, SIGKILL);
  pid_ = 0;
  done_ = nullptr;
}

}  // namespace autopilot::health
