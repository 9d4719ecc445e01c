#include "telemetry/telemetry.h"

#include "events/event.h"
#include "metrics/registry.h"
#include "telemetry/process_metrics.h"

namespace autopilot::telemetry {
namespace {

Result<void> register_user_metric(metrics::Registry& r, const MetricConfig& m) {
  switch (m.type) {
    case metrics::Type::kCounter: if (auto f = r.counter(m.name, m.help); !f) return f.error(); break;
    case metrics::Type::kGauge: if (auto f = r.gauge(m.name, m.help); !f) return f.error(); break;
    case metrics::Type::kHistogram: if (auto f = r.histogram(m.name, m.help); !f) return f.error(); break;
    case metrics::Type::kSummary: if (auto f = r.summary(m.name, m.help); !f) return f.error(); break;
  }
  return {};
}

}  // namespace

Telemetry::Telemetry(TelemetryConfig config, const Wiring& wiring, TelemetryOptions options)
    : config_(std::move(config)),
      wiring_(wiring),
      options_(std::move(options)),
      server_(wiring.loop, [this](const HttpRequest& r) { return handle(r); }) {}

Telemetry::~Telemetry() {
  if (subscription_) wiring_.bus.unsubscribe(subscription_);
}

Result<void> Telemetry::register_metrics() {
  auto& r = *wiring_.metrics;
  // ContainerPilot's names, so existing dashboards and alerts keep working.
  auto events = r.counter("containerpilot_events", "count of ContainerPilot events, partitioned by type and source",
                          {"code", "source"});
  if (!events) return events.error();
  subscription_ = wiring_.bus.subscribe([f = *events](const events::Event& e) {
    f->with({std::string(events::code_name(e.code)), e.source.str()}).inc();
  });
  auto instances = r.gauge("containerpilot_watch_instances",
                           "gauge of instances found for each ContainerPilot watch, partitioned by service",
                           {"service"});
  if (!instances) return instances.error();
  auto build = r.gauge("autopilot_build_info", "autopilot's version; the value is always 1", {"version"});
  if (!build) return build.error();
  (*build)->with({options_.version}).set(1);
  if (auto p = add_process_metrics(r); !p) return p.error();
  r.on_scrape([this, f = *instances] {
    f->clear();
    if (!options_.watch_instances) return;
    for (const auto& [service, n] : options_.watch_instances()) f->with({service}).set(static_cast<double>(n));
  });
  for (const auto& m : config_.metrics)
    if (auto ok = register_user_metric(r, m); !ok) return ok.error();
  return {};
}

Result<void> Telemetry::start() {
  if (auto r = register_metrics(); !r) return r.error();
  if (auto r = server_.listen(config_.address, config_.port); !r) return r;
  if (wiring_.catalog) {
    // The port actually listened on (port 0 in tests picks one).
    TelemetryConfig c = config_;
    c.port = server_.port();
    registration_ = std::make_unique<jobs::Service>(registration_job(c), wiring_, nullptr);
    registration_->start();
  }
  return {};
}

void Telemetry::withdraw(Duration limit, std::function<void()> done) {
  if (!registration_) {
    if (done) done();
    return;
  }
  registration_->withdraw(limit, std::move(done));
}

HttpResponse Telemetry::handle(const HttpRequest& request) {
  return answer(request, *wiring_.metrics, options_.version, options_.status);
}

}  // namespace autopilot::telemetry
