#include "jobs/supervisor.h"

#include <algorithm>

#include <fmt/format.h>

#include "jobs/main_job.h"

namespace autopilot::jobs {

using events::Code;

Supervisor::Supervisor(const Wiring& wiring, JobOptions options, std::vector<JobConfig> configs,
                       std::string main_job)
    : wiring_(wiring), options_(std::move(options)), main_job_(std::move(main_job)) {
  options_.stop_hooks = [this](const std::string& name) { return live_stop_hooks(name); };
  for (auto& c : configs) add(std::move(c));
}

Supervisor::~Supervisor() {
  if (subscription_) wiring_.bus.unsubscribe(subscription_);
}

std::string Supervisor::default_main_job(const std::vector<JobConfig>& configs) {
  return choose_main_job(configs);
}

Job& Supervisor::add(JobConfig config) {
  auto job = std::make_unique<Job>(std::move(config), wiring_, options_);
  Job* raw = job.get();
  raw->on_done = [this, raw] { on_job_done(*raw); };
  jobs_.push_back(std::move(job));
  return *raw;
}

void Supervisor::start() {
  subscription_ = wiring_.bus.subscribe([this](const events::Event& e) { dispatch(e); });
  wiring_.bus.publish({Code::kStartup, events::Source::global()});
  if (jobs_.empty()) check_progress();
}

void Supervisor::dispatch(const events::Event& e) {
  prune_retired();
  if (wiring_.log.enabled(log::Level::kDebug)) wiring_.log.debug("event: " + events::describe(e));
  // Jobs may be added while we deliver (a reload's replacement starting);
  // they must not see this event, so deliver to a snapshot.
  std::vector<Job*> snapshot;
  for (auto& j : jobs_) snapshot.push_back(j.get());
  // Jobs a reload retired may still be stopping and waiting for their hooks.
  for (auto& j : retired_)
    if (!j->is_done()) snapshot.push_back(j.get());
  for (Job* j : snapshot) j->handle(e);
  check_progress();
}

std::vector<std::string> Supervisor::live_stop_hooks(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& j : jobs_) {
    const auto& w = j->config().when;
    if (j->is_done() || !j->is_stop_hook() || w.source != events::Source::job(name) || w.event != Code::kStopping) continue;
    if (j->config().exec.empty()) continue;
    out.push_back(j->name());
  }
  return out;
}

void Supervisor::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  wiring_.log.info("shutting down");
  wiring_.bus.publish({Code::kShutdown, events::Source::global()});
  std::vector<Job*> snapshot;
  for (auto& j : jobs_) snapshot.push_back(j.get());
  for (Job* j : snapshot) j->begin_shutdown();
  check_progress();
}

void Supervisor::on_job_done(Job& job) {
  if (job.failed_to_start()) any_failed_to_start_ = true;
  if (job.name() == main_job_ && !main_exit_code_) {
    main_exit_code_ = job.last_exit() ? job.last_exit()->shell_code() : (job.failed_to_start() ? 1 : 0);
    if (!shutting_down_) {
      wiring_.log.info(fmt::format("main job {} is done; shutting down", job.name()));
      shutdown();
    }
  }
  end_if_main_cannot_start(job);
}

void Supervisor::end_if_main_cannot_start(const Job& done) {
  if (main_exit_code_ || shutting_down_ || done.name() == main_job_) return;
  const Job* main = find(main_job_);
  if (!main || main->runs() > 0 || main->state() != State::kWaiting) return;
  const auto& w = main->config().when;
  if (w.each || w.source != events::Source::job(done.name()) || w.event != Code::kExitSuccess) return;
  if (!done.last_exit() && !done.failed_to_start()) return;  // it never ran (no exec)
  int code = done.last_exit() ? done.last_exit()->shell_code() : 1;
  if (code == 0 && !done.failed_to_start()) return;  // its exitSuccess is on the bus
  wiring_.log.error(fmt::format("main job {} can never start: {} failed (status {}); shutting down", main_job_,
                                done.name(), code));
  main_exit_code_ = code;
  shutdown();
}

void Supervisor::check_progress() {
  if (finished_) return;
  if (shutting_down_) {
    // Hooks that still wait for an event nobody can publish any more (every
    // other job is done) would wait forever: stop them.
    bool others_active = std::any_of(jobs_.begin(), jobs_.end(), [](const auto& j) {
      return !j->is_done() && !(j->is_stop_hook() && j->state() == State::kWaiting);
    });
    // Wait until the bus is idle: the `shutdown` event itself may still be
    // on its way to a hook.
    if (!others_active && wiring_.bus.pending() == 0) {
      for (auto& j : jobs_)
        if (!j->is_done()) j->stop();
    }
  }
  if (!all_done() || wiring_.bus.pending() > 0) return;
  finished_ = true;
  wiring_.bus.publish({Code::kStopped, events::Source::global()});
  if (on_all_done) on_all_done();
}

bool Supervisor::all_done() const {
  return std::all_of(jobs_.begin(), jobs_.end(), [](const auto& j) { return j->is_done(); });
}

int Supervisor::exit_code() const {
  // Only once the main job ran: a failed step before it keeps its own status.
  const Job* main = find(main_job_);
  const Job* j = exit_status_job.empty() ? nullptr : find(exit_status_job);
  if (j && j->last_exit() && main && main->runs() > 0) {
    if (int code = j->last_exit()->shell_code(); code != 0) return code;
  }
  if (main_exit_code_) return *main_exit_code_;
  return any_failed_to_start_ ? 1 : 0;
}

const Job* Supervisor::find(const std::string& name) const {
  for (const auto& j : jobs_)
    if (j->name() == name) return j.get();
  return nullptr;
}

std::vector<const Job*> Supervisor::jobs() const {
  std::vector<const Job*> out;
  for (const auto& j : jobs_) out.push_back(j.get());
  return out;
}

void Supervisor::reload(std::vector<JobConfig> configs, std::string main_job) {
  if (shutting_down_) return;
  prune_retired();
  main_job_ = std::move(main_job);
  std::vector<std::unique_ptr<Job>> old = std::move(jobs_);
  jobs_.clear();
  std::vector<JobConfig> to_start;
  std::vector<std::pair<Job*, JobConfig>> replacements;
  for (auto& c : configs) {
    auto it = std::find_if(old.begin(), old.end(), [&](const auto& j) { return j && j->name() == c.name; });
    if (it != old.end() && (*it)->config() == c) {
      // Unchanged: untouched, whether it runs, waits or is done (a pre-start
      // that finished does not run again).
      jobs_.push_back(std::move(*it));
      continue;
    }
    bool running = it != old.end() && !(*it)->is_done();
    if (running) {
      wiring_.log.info(fmt::format("reload: job {} changed; restarting it", c.name));
      replacements.emplace_back(it->get(), std::move(c));
    } else {
      wiring_.log.info(fmt::format("reload: starting job {}", c.name));
      to_start.push_back(std::move(c));
    }
    if (it != old.end()) retired_.push_back(std::move(*it));
  }
  std::vector<Job*> removed;
  for (auto& j : old) {
    if (!j) continue;
    if (!j->is_done()) {
      wiring_.log.info(fmt::format("reload: job {} removed; stopping it", j->name()));
      removed.push_back(j.get());
    }
    j->on_done = nullptr;
    retired_.push_back(std::move(j));
  }
  for (Job* j : removed) j->stop();
  const events::Event startup{Code::kStartup, events::Source::global()};
  for (auto& c : to_start) add(std::move(c)).handle(startup);
  for (auto& [previous, config] : replacements) {
    // The new definition starts once the old process is gone, so the two
    // never hold the same port or files at once.
    handovers_.emplace_back(previous, &add(std::move(config)));
    previous->on_done = [this, previous] { hand_over(*previous); };
    previous->stop();
  }
  check_progress();
}

void Supervisor::hand_over(const Job& previous) {
  auto it = std::find_if(handovers_.begin(), handovers_.end(), [&](const auto& h) { return h.first == &previous; });
  if (it == handovers_.end()) return;
  Job* fresh = it->second;
  handovers_.erase(it);
  fresh->handle({Code::kStartup, events::Source::global()});
}

// Called only from the bus and from reload(), never from inside a job's own
// callbacks, so no job is destroyed while one of its frames is on the stack.
void Supervisor::prune_retired() {
  // A new definition that is done already (a later reload replaced it too)
  // would ignore its start: forget it before it goes, and with it any
  // handover whose old job is gone.
  std::erase_if(handovers_, [](const auto& h) { return h.first->is_done() || h.second->is_done(); });
  std::erase_if(retired_, [](const auto& j) { return j->is_done(); });
}

}  // namespace autopilot::jobs
