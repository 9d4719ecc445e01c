// Job: one supervised job, a state machine driven by bus events, process
// exits and timers (ContainerPilot v3 semantics, with its defects D2, D5, D7,
// D8 fixed). Runs on the loop; never blocks.
//
//   state       input                  action -> next
//   kWaiting    start event / tick     run exec -> kRunning
//   (held)      start event            remember it; run when no longer held
//   (paused)    tick                   skip
// A start is held while the gate is shut (JobConfig::gate) or while the job
// is paused for maintenance (JobConfig::pauses_in_maintenance).
//   kWaiting    when.timeout           publish timerExpired; stop -> kStopping
//   kWaiting    shutdown (not a hook)  stop -> kStopping
//   kRunning    start event (each)     remember one pending start (coalesced)
//   kRunning    tick (periodic)        skip, the previous run is still going
//   kRunning    exit, restarts left    -> kBackoff (0, 100ms, 200ms ... 5s)
//   kRunning    exit, pending start    run exec -> kRunning
//   kRunning    exit, can start again  -> kWaiting (each, periodic)
//   kRunning    exit, nothing left     stop -> kStopping
//   kRunning    exec timeout           SIGKILL the process group
//   kRunning    shutdown / stop()      stop -> kStopping
//   kBackoff    delay elapsed          run exec -> kRunning
//   kBackoff    shutdown / stop()      stop -> kStopping
//   kStopping   withdrawn              wait for stop hooks
//   kStopping   hooks done / timeout   SIGTERM the group; SIGKILL after stopTimeout
//                                      (kill at once: SIGKILL, no SIGTERM)
//   kStopping   exit                   publish stopped -> kDone (once withdrawn)
//
// A stop publishes `stopping`, withdraws the job from the catalog (deregister,
// then the drain delay; see service.h), waits (at most stopTimeout) for the
// jobs that hook this job's `stopping` to finish, then terminates the
// process. A job with `health` or `port` owns a Service that runs its checks
// and keeps its record from its first start until it is done.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/lifetime.h"
#include "discovery/catalog.h"
#include "events/bus.h"
#include "health/check.h"
#include "jobs/job_config.h"
#include "jobs/service.h"
#include "log/log.h"
#include "os/processes.h"
#include "os/timers.h"
#include "wiring/wiring.h"

namespace autopilot::jobs {

enum class State { kWaiting, kRunning, kBackoff, kStopping, kDone };
std::string_view state_name(State s);

// The jobs area's own settings; the shared dependencies come from the Wiring.
struct JobOptions {
  // Negative: kill at once (see is_kill_at_once).
  Duration default_stop_timeout{std::chrono::seconds(5)};
  // Names of jobs, still able to run, whose start event is this job's
  // `stopping`: a stop waits for them. The Supervisor fills it in.
  std::function<std::vector<std::string>(const std::string& job)> stop_hooks = {};
};

class Job {
 public:
  Job(JobConfig config, const Wiring& wiring, JobOptions options);
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  void handle(const events::Event& event);
  // Global shutdown: no more restarts; stop now unless this job is a stop
  // hook (it then runs once more, when its event comes).
  void begin_shutdown();
  // Stops the job whatever it is doing (reload removed it, or nothing can
  // start it any more).
  void stop();

  const JobConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  State state() const { return state_; }
  bool is_done() const { return state_ == State::kDone; }
  // A hook on another job's stopping/stopped event.
  bool is_stop_hook() const;
  int pid() const { return pid_; }
  // The status of the last run, if the job ran.
  std::optional<os::ExitStatus> last_exit() const { return last_exit_; }
  // Whether the job failed without running: exec error or when.timeout.
  bool failed_to_start() const { return failed_to_start_; }
  int runs() const { return runs_; }
  // Checks and registration; null for a job without `health` or `port`.
  const Service* service() const { return service_.get(); }

  // Called once when the job reaches kDone.
  std::function<void()> on_done;

 private:
  bool matches_start(const events::Event& e) const;
  void on_start_event();
  bool is_holding() const { return !gate_open_ || is_paused_; }
  // Runs the held start event, if any, once nothing holds it any more.
  void release_held_start();
  // Arms the timer of a periodic job's next tick (each tick arms the next).
  void schedule_tick();
  void run();
  void on_exit(int pid, os::ExitStatus status);
  void keep_sensor_output(std::string_view line);
  void record_sensor();
  void after_exit();
  void start_failed(const std::string& why);
  void schedule_restart();
  void on_hook_event(const events::Event& e);
  void await_hooks();
  void terminate();
  void finish();
  void arm_when_timeout();
  void cancel_all_timers();
  Duration stop_timeout() const;
  // How long the withdraw and the stop hooks may hold the stop.
  Duration wait_limit() const;
  void publish(events::Code code) { wiring_.bus.publish({code, events::Source::job(config_.name)}); }

  JobConfig config_;
  Wiring wiring_;
  JobOptions options_;
  State state_ = State::kWaiting;
  int restarts_left_;
  bool shutting_down_ = false;
  bool started_once_ = false;
  bool pending_start_ = false;
  bool gate_open_;                // see JobConfig::gate
  bool is_paused_ = false;        // in maintenance, see JobConfig::pauses_in_maintenance
  bool has_held_start_ = false;   // a start event came while held
  bool failed_to_start_ = false;
  int pid_ = 0;
  int runs_ = 0;
  int quick_failures_ = 0;
  os::Clock::time_point run_started_{};
  std::optional<os::ExitStatus> last_exit_;
  std::string sensor_output_;  // a sensor's output of its current run (config_.sensor_metric)
  std::set<std::string> waiting_hooks_;
  std::unique_ptr<Service> service_;
  bool withdrawing_ = false;
  os::Clock::time_point next_tick_{};  // a periodic job's next deadline
  os::Timer when_timer_{wiring_.timers}, tick_timer_{wiring_.timers}, exec_timer_{wiring_.timers},
      backoff_timer_{wiring_.timers}, stop_timer_{wiring_.timers}, kill_timer_{wiring_.timers};
  // Last: ends the process and withdraw callbacks, which outlive the job.
  Lifetime lifetime_;
};

}  // namespace autopilot::jobs
