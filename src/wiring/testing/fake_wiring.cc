#include "wiring/testing/fake_wiring.h"

#include <optional>
#include <utility>

#include <gtest/gtest.h>

namespace autopilot {

FakeWiring::FakeWiring(log::LogConfig log_config)
    : log(std::move(log_config)),
      bus([this](std::function<void()> drain) { timers.after(Duration::zero(), std::move(drain)); }) {}

Wiring FakeWiring::wiring(discovery::Catalog* other) {
  return Wiring{.loop = io,
                .timers = timers,
                .processes = processes,
                .files = files,
                .log = log,
                .bus = bus,
                .catalog = other,
                .metrics = &metrics,
                .operator_metrics = operator_metrics.get(),
                .env = env,
                .child_env = child_env};
}

metrics::OperatorMetrics& FakeWiring::enable_operator_metrics() {
  if (!operator_metrics) {
    auto m = metrics::OperatorMetrics::create(metrics);
    if (!m) ADD_FAILURE() << m.error().message;
    operator_metrics = std::move(*m);
    operator_metrics->wall_seconds = [] { return 1700000000.0; };
  }
  return *operator_metrics;
}

bool FakeWiring::run_until(const std::function<bool()>& done, Duration limit) {
  bool ok = timers.advance_until(done, limit);
  settle();
  return ok;
}

void FakeWiring::expect_ok(const std::function<void(discovery::Callback<void>)>& start) {
  std::optional<Result<void>> result;
  start([&](Result<void> r) { result = std::move(r); });
  settle();
  if (!result)
    ADD_FAILURE() << "the catalog did not answer";
  else if (!result->ok())
    ADD_FAILURE() << result->error().message;
}

}  // namespace autopilot
