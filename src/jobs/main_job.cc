#include "jobs/main_job.h"

#include <algorithm>
#include <optional>
#include <tuple>

namespace autopilot::jobs {
namespace {

using events::Code;

// Matches Job::is_stop_hook: such a job runs when another one ends.
bool is_hook(const WhenConfig& w) {
  if (w.is_periodic() || w.is_signal()) return false;
  if (w.source.is_global()) return w.event == Code::kShutdown;
  return w.event == Code::kStopping || w.event == Code::kStopped;
}

bool can_be_main(const JobConfig& job) {
  const auto& w = job.when;
  return !job.exec.empty() && !w.is_periodic() && !w.is_signal() && !w.each && !is_hook(w);
}

// Whether `waiter` starts on an event of job `name`, or only after one
// (`when.after`) (hooks excluded: they run as that job ends, so they say
// nothing about how long it runs).
bool waits_on(const JobConfig& waiter, const std::string& name, std::optional<Code> event = std::nullopt) {
  const auto& gate = waiter.gate;
  if (gate && gate->source == events::Source::job(name) && (!event || gate->code == *event)) return true;
  const auto& w = waiter.when;
  if (w.is_periodic() || is_hook(w) || w.source != events::Source::job(name)) return false;
  return !event || w.event == *event;
}

bool starts_on_progress(const WhenConfig& w) {
  return w.source.is_global() || w.event == Code::kExitSuccess || w.event == Code::kStatusHealthy;
}

}  // namespace

std::string choose_main_job(const std::vector<JobConfig>& configs) {
  auto waited_on = [&](const JobConfig& job, std::optional<Code> event = std::nullopt) {
    return std::any_of(configs.begin(), configs.end(),
                       [&](const JobConfig& o) { return &o != &job && waits_on(o, job.name, event); });
  };
  // Lower ranks first; ties keep the file order.
  std::optional<std::tuple<bool, bool, bool, bool, size_t>> best;
  std::string name;
  for (size_t i = 0; i < configs.size(); ++i) {
    const JobConfig& job = configs[i];
    if (!can_be_main(job) || waited_on(job, Code::kExitSuccess)) continue;
    std::tuple rank{!job.service.is_registered(), !starts_on_progress(job.when), waited_on(job),
                    job.when.source.is_global(), i};
    if (!best || rank < *best) {
      best = rank;
      name = job.name;
    }
  }
  return name;
}

}  // namespace autopilot::jobs
