// JobConfig: one entry of the config's `jobs` list, as ContainerPilot v3
// defines it, decoded and validated: the process (`exec`, `when`, restarts,
// timeouts), its health check (`health`, see health/health_config.h) and its
// registration in the catalog (`port`, `tags`, `interfaces`,
// `initial_status`, `consul`), plus keys of our own: `id`, `meta` and
// `drain` (see ServiceConfig), and `when.after` (see JobConfig::gate).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "discovery/catalog.h"
#include "events/event.h"
#include "health/health_config.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::jobs {

inline constexpr int kUnlimited = -1;

// A negative stop timeout (the top-level `stopTimeout: -1`, as ContainerPilot
// v2 spells it) means no grace: the process group gets SIGKILL at once,
// without a SIGTERM first.
inline constexpr bool is_kill_at_once(Duration stop_timeout) { return stop_timeout.count() < 0; }

struct WhenConfig {
  // Exactly one of: interval > 0 (periodic), or (source, event) with `each`
  // telling whether every match starts the job or only the first.
  Duration interval{0};
  events::Source source = events::Source::global();
  events::Code event = events::Code::kStartup;
  bool each = false;
  Duration timeout{0};  // 0: wait forever for the start event

  bool is_periodic() const { return interval.count() > 0; }
  bool is_signal() const { return source.is_signal(); }
  bool operator==(const WhenConfig&) const = default;
};

// How a job with a `port` appears in the catalog.
//
// Instance id: `id` when given (templated from the environment like the rest
// of the config), else `<name>-<hostname>-<address>:<port>`. It is unique per
// container (two containers cannot share an address and port) and stable
// across restarts, so a restarted container replaces its own old record
// instead of leaving a twin. (ContainerPilot's `<name>-<hostname>` collides
// when several autopilots share a hostname, as on one host with --net=host.)
struct ServiceConfig {
  int port = 0;  // 0: not registered
  std::string id;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::vector<std::string> interfaces;  // empty: ContainerPilot's default ["eth0:inet", "inet"]
  std::optional<discovery::Status> initial_status;
  // After deregistering on stop, wait this long before signalling the app,
  // so proxies that watched the catalog stop sending it traffic first.
  Duration drain{0};
  // Filled in by config/ once the interfaces are resolved.
  std::string address;
  std::string node;  // this host's name

  bool is_registered() const { return port > 0; }
};

struct JobConfig {
  std::string name;
  std::vector<std::string> exec;  // empty: no process (a job that only holds state)
  bool raw_logging = false;
  WhenConfig when;                // default: once on startup from global
  Duration timeout{0};            // SIGKILL the run after this (0: none); periodic default: interval
  Duration stop_timeout{0};       // 0: use the top-level stopTimeout
  int restarts = 0;               // kUnlimited, or how many restarts are left at start
  std::optional<health::HealthConfig> health;
  ServiceConfig service;
  // `when.after: {source, once}`, our key (ContainerPilot v3 cannot combine
  // a start event or an interval with a second event, CP#416). The job's
  // start events and ticks count only once this event has been seen; a
  // start event seen before starts the job when it comes. The v2 translation
  // sets it: v2 starts tasks and backends after preStart succeeded.
  std::optional<events::Event> gate;
  // Also v2 only: in maintenance the job's ticks are skipped and a start
  // event is held until maintenance ends, as v2 skipped every poller's action
  // (tasks, backends) while in maintenance.
  bool pauses_in_maintenance = false;
  // v2 only too (v3 has no sensors): the metric a telemetry sensor sets. The
  // job's output is kept instead of logged, and after a successful run its
  // text, trimmed, must be one number, which is recorded in this metric
  // (counter: added, gauge: set, histogram and summary: observed); anything
  // else is dropped with a warning, as v2 did.
  std::string sensor_metric;
  // Canonical text of the job's config, compared on reload to decide whether
  // the job changed.
  std::string fingerprint;

  bool operator==(const JobConfig& o) const { return fingerprint == o.fingerprint; }
};

// Splits an exec string the way ContainerPilot does: on single spaces, no
// shell, no quoting (a double space makes an empty argument, which is refused).
std::vector<std::string> split_exec(const std::string& exec);

// The instance a job with a port registers (status left to the caller).
discovery::Instance instance_of(const JobConfig& job);

// Decodes `jobs` (a list). Names must be unique and non-blank.
Result<std::vector<JobConfig>> decode_jobs(const decode::Decoder& d, const decode::Node& jobs);

// Cross-checks between jobs: `when.source` names an existing job (or global,
// a signal, check.X, watch.X of a configured watch, template.X of a
// configured template), and no cycle of jobs that each wait for another's
// event (none could ever start).
// `known` lists the watches and templates (its jobs are taken from `configs`).
Result<void> check_job_graph(const decode::Decoder& d, const decode::Node& jobs,
                             const std::vector<JobConfig>& configs, events::KnownSources known = {});

}  // namespace autopilot::jobs
