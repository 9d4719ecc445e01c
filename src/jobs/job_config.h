// JobConfig: one entry of the config's `jobs` list, as ContainerPilot v3
// defines it, decoded and validated. Health checks and registration (`port`,
// `health`, `tags`, `interfaces`, `initial_status`) belong to the discovery
// area (issue #5) and are refused here until it lands.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "events/event.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::jobs {

inline constexpr int kUnlimited = -1;

struct WhenConfig {
  // Exactly one of: interval > 0 (periodic), or (source, event) with `each`
  // telling whether every match starts the job or only the first.
  Duration interval{0};
  std::string source;  // "global", a job name, "SIGHUP", "SIGUSR2", "watch.X", ...
  events::Code event = events::Code::kStartup;
  bool each = false;
  Duration timeout{0};  // 0: wait forever for the start event

  bool is_periodic() const { return interval.count() > 0; }
  bool is_signal() const { return source == "SIGHUP" || source == "SIGUSR2"; }
  bool operator==(const WhenConfig&) const = default;
};

struct JobConfig {
  std::string name;
  std::vector<std::string> exec;  // empty: no process (a job that only holds state)
  bool raw_logging = false;
  WhenConfig when;                // default: once on startup from global
  Duration timeout{0};            // SIGKILL the run after this (0: none); periodic default: interval
  Duration stop_timeout{0};       // 0: use the top-level stopTimeout
  int restarts = 0;               // kUnlimited, or how many restarts are left at start
  // Canonical text of the job's config, compared on reload to decide whether
  // the job changed.
  std::string fingerprint;

  bool operator==(const JobConfig& o) const { return fingerprint == o.fingerprint; }
};

// Splits an exec string the way ContainerPilot does: on single spaces, no
// shell, no quoting (a double space makes an empty argument, which is refused).
std::vector<std::string> split_exec(const std::string& exec);

// Decodes `jobs` (a list). Names must be unique and non-blank.
Result<std::vector<JobConfig>> decode_jobs(const decode::Decoder& d, const decode::Node& jobs);

// Cross-checks between jobs: `when.source` names an existing job (or global,
// a signal, watch.X / check.X), and no cycle of jobs that each wait for
// another's event (none could ever start).
Result<void> check_job_graph(const decode::Decoder& d, const decode::Node& jobs,
                             const std::vector<JobConfig>& configs, const std::vector<std::string>& watch_names);

}  // namespace autopilot::jobs
