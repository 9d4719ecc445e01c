#include "metrics/operator_metrics.h"

#include <chrono>

namespace autopilot::metrics {
namespace {

template <class F>
Result<void> take(Result<F*> r, F*& into) {
  if (!r) return r.error();
  into = *r;
  return {};
}

}  // namespace

Result<std::unique_ptr<OperatorMetrics>> OperatorMetrics::create(Registry& r) {
  auto m = std::make_unique<OperatorMetrics>();
  m->wall_seconds = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  for (auto ok : {
           take(r.counter("autopilot_job_starts_total", "processes started, by job", {"job"}), m->job_starts),
           take(r.counter("autopilot_job_exits_total",
                          "processes ended, by job and status (success, failure, signal, not_started)",
                          {"job", "status"}),
                m->job_exits),
           take(r.counter("autopilot_job_restarts_total", "restarts scheduled after an exit, by job", {"job"}),
                m->job_restarts),
           take(r.counter("autopilot_health_checks_total", "health checks run, by job and result (healthy, unhealthy)",
                          {"job", "result"}),
                m->health_checks),
           take(r.histogram("autopilot_health_check_duration_seconds", "how long health checks took, by job",
                            {"job"}),
                m->health_check_duration),
           take(r.counter("autopilot_catalog_requests_total", "catalog operations issued, by operation",
                          {"operation"}),
                m->catalog_requests),
           take(r.counter("autopilot_catalog_errors_total", "catalog operations that failed, by operation",
                          {"operation"}),
                m->catalog_errors),
           take(r.histogram("autopilot_catalog_request_duration_seconds",
                            "how long catalog operations took to answer, by operation", {"operation"}),
                m->catalog_duration),
           take(r.counter("autopilot_watch_deliveries_total", "updates the catalog delivered to each watch",
                          {"watch"}),
                m->watch_deliveries),
           take(r.counter("autopilot_template_renders_total",
                          "template passes, by template and result (written, unchanged, check_failed, "
                          "command_failed, error)",
                          {"template", "result"}),
                m->template_renders),
           take(r.histogram("autopilot_template_render_duration_seconds",
                            "how long executing each template took", {"template"}),
                m->template_render_duration),
           take(r.counter("autopilot_template_command_failures_total",
                          "template commands that failed or timed out, by template", {"template"}),
                m->template_command_failures),
           take(r.gauge("autopilot_template_last_success_timestamp_seconds",
                        "when each template last rendered successfully, in seconds since the epoch", {"template"}),
                m->template_last_success),
       }) {
    if (!ok) return ok.error();
  }
  return m;
}

}  // namespace autopilot::metrics
