#include "jobs/job.h"

#include <csignal>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "health/checks.h"
#include "metrics/record.h"

namespace autopilot::jobs {
namespace {

using namespace std::chrono_literals;
using events::Code;

constexpr Duration kMaxBackoff = 5s;
constexpr Duration kQuickRun = 1s;
constexpr size_t kSensorOutputLimit = 4096;  // a run shorter than this that fails counts towards backoff
// Bounds the withdraw and stop-hook waits of a job that is killed at once
// (it has no grace to lend them): ContainerPilot v2's default stopTimeout.
constexpr Duration kKillAtOnceWaitLimit = 5s;

std::string describe_exit(const os::ExitStatus& s) {
  if (s.signal) return fmt::format("was killed by signal {} ({})", s.signal, strsignal(s.signal));
  return fmt::format("exited with status {}", s.code);
}

}  // namespace

std::string_view state_name(State s) {
  switch (s) {
    case State::kWaiting: return "waiting";
    case State::kRunning: return "running";
    case State::kBackoff: return "backoff";
    case State::kStopping: return "stopping";
    case State::kDone: return "done";
  }
  return "?";
}

Job::Job(JobConfig config, const Wiring& wiring, JobOptions options)
    : config_(std::move(config)),
      wiring_(wiring),
      options_(std::move(options)),
      restarts_left_(config_.restarts),
      gate_open_(!config_.gate) {
  if (config_.health || config_.service.is_registered()) {
    service_ = std::make_unique<Service>(config_, wiring_,
                                         config_.health ? health::make_check(*config_.health, name(), wiring_) : nullptr);
  }
}

Job::~Job() {
  cancel_all_timers();
  service_.reset();
}

void Job::cancel_all_timers() {
  for (auto* timer : {&when_timer_, &tick_timer_, &exec_timer_, &backoff_timer_, &stop_timer_, &kill_timer_})
    timer->cancel();
}

bool Job::is_stop_hook() const {
  const auto& w = config_.when;
  if (w.is_periodic() || w.is_signal()) return false;
  // D14: ContainerPilot accepts `once: "shutdown"` but never fires it.
  if (w.source.is_global()) return w.event == Code::kShutdown;
  return w.event == Code::kStopping || w.event == Code::kStopped;
}

bool Job::matches_start(const events::Event& e) const {
  const auto& w = config_.when;
  if (w.is_periodic()) return e.code == Code::kStartup && e.source.is_global();
  if (w.is_signal()) return e.code == Code::kSignal && e.source == w.source;
  return e.code == w.event && e.source == w.source;
}

void Job::handle(const events::Event& e) {
  if (state_ == State::kDone) return;
  if (state_ == State::kStopping) {
    on_hook_event(e);
    return;
  }
  if (e.code == Code::kStartup && e.source.is_global()) arm_when_timeout();
  if (service_ && e.source.is_global()) {
    if (e.code == Code::kEnterMaintenance) service_->enter_maintenance();
    if (e.code == Code::kExitMaintenance) service_->exit_maintenance();
  }
  if (config_.pauses_in_maintenance && e.source.is_global()) {
    if (e.code == Code::kEnterMaintenance) is_paused_ = true;
    if (e.code == Code::kExitMaintenance) {
      is_paused_ = false;
      release_held_start();
    }
  }
  if (!gate_open_ && e == *config_.gate) {
    gate_open_ = true;
    release_held_start();
  }
  if (!matches_start(e)) return;
  if (!is_holding()) return on_start_event();
  has_held_start_ = true;
}

void Job::release_held_start() {
  if (!is_holding() && std::exchange(has_held_start_, false)) on_start_event();
}

void Job::arm_when_timeout() {
  if (config_.when.timeout.count() <= 0 || when_timer_.is_pending()) return;
  when_timer_.after(config_.when.timeout, [this] {
    if (state_ != State::kWaiting || started_once_) return;
    wiring_.log.error(fmt::format("job {}: timed out after {} waiting for {} from {}; giving up", name(),
                               format_duration(config_.when.timeout), events::when_name(config_.when.event),
                               config_.when.source.str()));
    failed_to_start_ = true;
    publish(Code::kTimerExpired);
    stop();
  });
}

void Job::on_start_event() {
  const auto& w = config_.when;
  bool repeats = w.each || w.is_signal();
  if (shutting_down_ && !is_stop_hook()) return;
  if (started_once_ && !repeats && !w.is_periodic()) return;
  switch (state_) {
    case State::kWaiting:
      when_timer_.cancel();
      if (w.is_periodic()) {
        next_tick_ = wiring_.timers.now();
        schedule_tick();
      }
      run();
      break;
    case State::kRunning:
      if (repeats) pending_start_ = true;  // D7: queue one more run instead of blocking
      break;
    default:
      break;
  }
}

// A fixed rate, as Go's time.Ticker: the next tick is the last one plus the
// interval, so runs do not drift later and jobs of one period stay in step
// (their timers then fire in one wakeup). Ticks missed while the loop was away
// are dropped, not run in a burst.
void Job::schedule_tick() {
  next_tick_ += config_.when.interval;
  if (next_tick_ < wiring_.timers.now()) next_tick_ = wiring_.timers.now() + config_.when.interval;
  tick_timer_.at(next_tick_, [this] {
    if (state_ == State::kRunning) {
      wiring_.log.warn(fmt::format("job {}: still running at its next interval; skipping this run", name()));
    } else if (state_ == State::kWaiting && is_paused_) {
      // v2 skips a poller's action in maintenance; the ticks go on.
      wiring_.log.writef(log::Level::kDebug, "job {}: in maintenance; skipping this run", name());
    } else if (state_ == State::kWaiting) {
      if (restarts_left_ == 0) return stop();
      if (restarts_left_ > 0) --restarts_left_;
      run();
    }
    if (state_ != State::kDone && state_ != State::kStopping) schedule_tick();
  });
}

void Job::run() {
  ++runs_;
  started_once_ = true;
  state_ = State::kRunning;
  if (config_.exec.empty()) {  // a job without a process just stays running
    if (service_) service_->start();
    return;
  }
  sensor_output_.clear();
  os::SpawnSpec spec{config_.exec, wiring_.child_env ? wiring_.child_env() : os::Environment{},
                     !config_.raw_logging};
  // A sensor's value is its stdout, as v2 read it; its stderr stays ours.
  spec.capture_stderr = config_.sensor_metric.empty();
  auto pid_holder = std::make_shared<int>(0);
  os::SpawnCallbacks callbacks{
      lifetime_.bind([this, pid_holder](std::string_view line) {
        if (!config_.sensor_metric.empty()) return keep_sensor_output(line);
        wiring_.log.write(log::Level::kInfo, line, name(), *pid_holder);
      }),
      lifetime_.bind([this, pid_holder](os::ExitStatus status) { on_exit(*pid_holder, status); })};
  auto pid = wiring_.processes.spawn(spec, std::move(callbacks));
  if (!pid) {
    start_failed(pid.error().message);
    after_exit();
    return;
  }
  *pid_holder = *pid;
  pid_ = *pid;
  if (auto* m = wiring_.operator_metrics) m->job_starts->with({name()}).inc();
  failed_to_start_ = false;
  run_started_ = wiring_.timers.now();
  wiring_.log.writef(log::Level::kDebug, "job {}: started {} (pid {})", name(), config_.exec[0], pid_);
  if (service_) service_->start();
  if (config_.timeout.count() > 0) {
    exec_timer_.after(config_.timeout, [this] {
      if (!pid_) return;
      wiring_.log.warn(fmt::format("job {}: timeout after {}; killing pid {}", name(),
                                format_duration(config_.timeout), pid_));
      wiring_.processes.signal_group(pid_, SIGKILL);
    });
  }
}

// The program could not be started: at spawn(), or when its exec failed
// after spawn() had returned (os::ExitStatus::exec_error).
void Job::start_failed(const std::string& why) {
  wiring_.log.error(fmt::format("job {}: {}", name(), why));
  failed_to_start_ = true;
  last_exit_ = os::ExitStatus{127, 0};
  if (auto* m = wiring_.operator_metrics) m->job_exits->with({name(), metrics::kExitNotStarted}).inc();
  wiring_.bus.publish({Code::kError, events::Source::error(why)});
  publish(Code::kExitFailed);
  ++quick_failures_;
}

void Job::on_exit(int pid, os::ExitStatus status) {
  if (pid != pid_) return;
  pid_ = 0;
  exec_timer_.cancel();
  if (!status.exec_error.empty()) {
    start_failed(status.exec_error);
  } else {
    last_exit_ = status;
    if (auto* m = wiring_.operator_metrics) {
      const char* label = status.signal ? metrics::kExitSignal
                          : status.code ? metrics::kExitFailure
                                        : metrics::kExitSuccess;
      m->job_exits->with({name(), label}).inc();
    }
    // A periodic job's successful runs are routine; log them only at debug.
    auto level = !status.is_success()          ? log::Level::kWarn
                 : config_.when.is_periodic() ? log::Level::kDebug
                                               : log::Level::kInfo;
    wiring_.log.writef(level, "job {}: pid {} {}", name(), pid, describe_exit(status));
    if (!config_.sensor_metric.empty() && status.is_success()) record_sensor();
    publish(status.is_success() ? Code::kExitSuccess : Code::kExitFailed);
    bool quick = wiring_.timers.now() - run_started_ < kQuickRun;
    quick_failures_ = (!status.is_success() && quick) ? quick_failures_ + 1 : 0;
  }
  if (state_ == State::kStopping) {
    if (withdrawing_) return;  // finishes once the catalog is done with us
    return finish();
  }
  after_exit();
}

// A sensor's output is one number; more than kSensorOutputLimit is not.
void Job::keep_sensor_output(std::string_view line) {
  if (sensor_output_.size() > kSensorOutputLimit) return;
  sensor_output_.append(line);
  sensor_output_ += '\n';
}

void Job::record_sensor() {
  auto value = metrics::parse_sample(sensor_output_);
  if (!value) {
    std::string shown = sensor_output_.substr(0, 80);
    while (!shown.empty() && shown.back() == '\n') shown.pop_back();
    wiring_.log.warn(fmt::format("job {}: sensor output \"{}\" is not one number; {} not recorded", name(), shown,
                                 config_.sensor_metric));
    return;
  }
  if (!wiring_.metrics) return;
  if (auto r = metrics::record_value(*wiring_.metrics, config_.sensor_metric, *value); !r)
    wiring_.log.warn(fmt::format("job {}: sensor value {} not recorded: {}", name(), *value, r.error().message));
}

void Job::after_exit() {
  const auto& w = config_.when;
  if (shutting_down_) return stop();
  if (w.is_periodic()) {
    state_ = State::kWaiting;
    return;
  }
  if (restarts_left_ != 0) return schedule_restart();
  if (pending_start_) {
    pending_start_ = false;
    return run();
  }
  if (w.each || w.is_signal()) {
    state_ = State::kWaiting;
    return;
  }
  stop();
}

void Job::schedule_restart() {
  if (restarts_left_ > 0) --restarts_left_;
  if (auto* m = wiring_.operator_metrics) m->job_restarts->with({name()}).inc();
  // D8: ContainerPilot restarts at once, forever, so a crash loop burns a
  // core. The first restart is immediate; repeated quick failures back off.
  Duration delay{0};
  if (quick_failures_ > 1) delay = std::min<Duration>(100ms * (1 << std::min(quick_failures_ - 2, 10)), kMaxBackoff);
  wiring_.log.info(fmt::format("job {}: restarting in {} ({} restarts left)", name(), format_duration(delay),
                            restarts_left_ == kUnlimited ? std::string("unlimited") : std::to_string(restarts_left_)));
  state_ = State::kBackoff;
  backoff_timer_.after(delay, [this] {
    if (state_ == State::kBackoff) run();
  });
}

void Job::begin_shutdown() {
  shutting_down_ = true;
  restarts_left_ = 0;
  pending_start_ = false;
  if (is_stop_hook() && state_ == State::kWaiting) return;  // runs once more, on its event
  if (is_stop_hook() && state_ == State::kRunning) return;  // let the hook finish its work
  stop();
}

void Job::stop() {
  if (state_ == State::kDone || state_ == State::kStopping) return;
  for (auto* timer : {&when_timer_, &tick_timer_, &backoff_timer_}) timer->cancel();
  state_ = State::kStopping;
  publish(Code::kStopping);
  if (!service_) return await_hooks();
  withdrawing_ = true;
  service_->withdraw(wait_limit(), lifetime_.bind([this] {
    if (!withdrawing_) return;
    withdrawing_ = false;
    if (state_ == State::kStopping) await_hooks();
  }));
}

void Job::await_hooks() {
  std::vector<std::string> hooks = options_.stop_hooks ? options_.stop_hooks(name()) : std::vector<std::string>{};
  if (hooks.empty()) return terminate();
  waiting_hooks_ = {hooks.begin(), hooks.end()};
  // D2: ContainerPilot's per-job stopTimeout never ends this wait; ours does.
  stop_timer_.after(wait_limit(), [this] {
    wiring_.log.warn(fmt::format("job {}: stop hooks still running after {}; stopping anyway", name(),
                              format_duration(wait_limit())));
    terminate();
  });
}

void Job::on_hook_event(const events::Event& e) {
  if (waiting_hooks_.empty() || e.source.kind() != events::SourceKind::kJob || !waiting_hooks_.count(e.source.name()))
    return;
  if (e.code != Code::kStopped && e.code != Code::kExitSuccess && e.code != Code::kExitFailed) return;
  waiting_hooks_.erase(e.source.name());
  if (waiting_hooks_.empty()) terminate();
}

void Job::terminate() {
  stop_timer_.cancel();
  waiting_hooks_.clear();
  if (!pid_) return finish();
  if (is_kill_at_once(stop_timeout())) {  // ContainerPilot v2's `stopTimeout: -1`: no SIGTERM, no grace
    wiring_.log.writef(log::Level::kDebug, "job {}: killing pid {} at once", name(), pid_);
    wiring_.processes.signal_group(pid_, SIGKILL);
    return;
  }
  wiring_.processes.signal_group(pid_, SIGTERM);
  kill_timer_.after(stop_timeout(), [this] {
    if (!pid_) return;
    wiring_.log.warn(fmt::format("job {}: pid {} still running {} after SIGTERM; sending SIGKILL", name(), pid_,
                              format_duration(stop_timeout())));
    wiring_.processes.signal_group(pid_, SIGKILL);
  });
}

void Job::finish() {
  cancel_all_timers();
  withdrawing_ = false;
  if (service_) service_->halt();
  state_ = State::kDone;
  publish(Code::kStopped);
  wiring_.log.writef(log::Level::kDebug, "job {}: stopped", name());
  if (on_done) on_done();
}

Duration Job::stop_timeout() const {
  return config_.stop_timeout.count() > 0 ? config_.stop_timeout : options_.default_stop_timeout;
}

Duration Job::wait_limit() const {
  return is_kill_at_once(stop_timeout()) ? kKillAtOnceWaitLimit : stop_timeout();
}

}  // namespace autopilot::jobs
