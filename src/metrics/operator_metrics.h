// OperatorMetrics: what autopilot itself does, for an operator: jobs
// started, exited and restarted, health-check results and latency, catalog
// requests, errors and latency, watch deliveries and template renders.
// Created in the Wiring's registry only when telemetry is on; every area
// reaches it through Wiring::operator_metrics and counts only when that
// pointer is set, so without telemetry a hook costs one pointer check.
// Names follow Prometheus' conventions (autopilot_ prefix, counters _total,
// durations in _seconds). Label values (job, watch and template names,
// catalog operations) are escaped by the registry's writers. Loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/result.h"
#include "metrics/registry.h"

namespace autopilot::metrics {

struct OperatorMetrics {
  Family<Counter>* job_starts = nullptr;             // autopilot_job_starts_total{job}
  Family<Counter>* job_exits = nullptr;              // autopilot_job_exits_total{job,status}
  Family<Counter>* job_restarts = nullptr;           // autopilot_job_restarts_total{job}
  Family<Counter>* health_checks = nullptr;          // autopilot_health_checks_total{job,result}
  Family<Histogram>* health_check_duration = nullptr;  // autopilot_health_check_duration_seconds{job}
  Family<Counter>* catalog_requests = nullptr;       // autopilot_catalog_requests_total{operation}
  Family<Counter>* catalog_errors = nullptr;         // autopilot_catalog_errors_total{operation}
  Family<Histogram>* catalog_duration = nullptr;     // autopilot_catalog_request_duration_seconds{operation}
  Family<Counter>* watch_deliveries = nullptr;       // autopilot_watch_deliveries_total{watch}
  Family<Counter>* template_renders = nullptr;       // autopilot_template_renders_total{template,result}
  Family<Histogram>* template_render_duration = nullptr;  // autopilot_template_render_duration_seconds{template}
  Family<Counter>* template_command_failures = nullptr;   // autopilot_template_command_failures_total{template}
  Family<Gauge>* template_last_success = nullptr;  // autopilot_template_last_success_timestamp_seconds{template}
  // The wall clock for timestamps, in seconds since the epoch (tests replace it).
  std::function<double()> wall_seconds;

  // Registers every family in `registry`; fails when a name is taken.
  static Result<std::unique_ptr<OperatorMetrics>> create(Registry& registry);
};

// A job exit's `status` label: "success", "failure" (non-zero exit code),
// "signal" (killed by one) or "not_started" (the program could not be run).
inline constexpr const char* kExitSuccess = "success";
inline constexpr const char* kExitFailure = "failure";
inline constexpr const char* kExitSignal = "signal";
inline constexpr const char* kExitNotStarted = "not_started";

// Seconds between two steady-clock points, for the latency histograms.
template <class TimePoint>
double seconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace autopilot::metrics
