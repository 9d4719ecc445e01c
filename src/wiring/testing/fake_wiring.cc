#include "wiring/testing/fake_wiring.h"

#include <utility>

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
                .env = env,
                .child_env = child_env};
}

bool FakeWiring::run_until(const std::function<bool()>& done, Duration limit) {
  bool ok = timers.advance_until(done, limit);
  settle();
  return ok;
}

}  // namespace autopilot
