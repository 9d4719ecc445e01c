// Supervisor: the set of jobs of one config, fed from the bus; shutdown
// order, reload by difference, and the container's exit status.
//
// The main job: `mainJob` in the config, or by default the job the config
// shows to be the long-running app (see main_job.h). When it is
// done, autopilot shuts down; its exit status is autopilot's (ContainerPilot
// always exits 0, defect D1). Without a main job autopilot exits 0 once every
// job is done, or 1 if a job failed to start. A main job waiting `once` for
// a job's exitSuccess can never start once that job is done and failed:
// autopilot then shuts down with that job's status (a failing preStart ends
// the container, as in ContainerPilot v2).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.h"

namespace autopilot::jobs {

class Supervisor {
 public:
  // `options.stop_hooks` is filled in by the supervisor.
  Supervisor(const Wiring& wiring, JobOptions options, std::vector<JobConfig> configs, std::string main_job);
  ~Supervisor();

  // Subscribes to the bus and publishes `startup`.
  void start();
  // Publishes `shutdown` and stops every job in order (idempotent).
  void shutdown();
  // Applies a new, already validated job list: unchanged jobs keep running
  // untouched, removed ones stop, changed ones stop and then start anew,
  // new ones start as if at startup.
  void reload(std::vector<JobConfig> configs, std::string main_job);

  bool is_shutting_down() const { return shutting_down_; }
  bool all_done() const;
  // Called once when every job is done.
  std::function<void()> on_all_done;

  int exit_code() const;
  // A job whose failure, after the main job ran, gives autopilot its exit
  // status instead of the main job's (ContainerPilot v2's postStop).
  std::string exit_status_job;
  const Job* find(const std::string& name) const;
  std::vector<const Job*> jobs() const;
  // The main job's name ("" when none).
  const std::string& main_job() const { return main_job_; }

  static std::string default_main_job(const std::vector<JobConfig>& configs);

  // Jobs a reload replaced or removed that are still held; each is released
  // at the first event or reload after it is done.
  size_t retired_for_test() const { return retired_.size(); }

 private:
  Job& add(JobConfig config);
  void dispatch(const events::Event& e);
  void on_job_done(Job& job);
  void end_if_main_cannot_start(const Job& done);
  void check_progress();
  void hand_over(const Job& previous);
  void prune_retired();
  std::vector<std::string> live_stop_hooks(const std::string& name) const;

  Wiring wiring_;
  JobOptions options_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<std::unique_ptr<Job>> retired_;  // replaced or removed by a reload; kept until done
  // A replaced job and its new definition, which starts once the old one is done.
  std::vector<std::pair<const Job*, Job*>> handovers_;
  std::string main_job_;
  std::optional<int> main_exit_code_;
  events::Bus::SubscriptionId subscription_ = 0;
  bool shutting_down_ = false;
  bool finished_ = false;
  bool any_failed_to_start_ = false;
};

}  // namespace autopilot::jobs
