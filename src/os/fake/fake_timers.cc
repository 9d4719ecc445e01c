#include "os/fake/fake_timers.h"

#include <algorithm>
#include <utility>

namespace autopilot::os {

// Far from zero, so code that subtracts durations from now() stays positive.
FakeTimers::FakeTimers() : now_(Clock::time_point(std::chrono::hours(24 * 1000))) {}

Timers::Id FakeTimers::after(Duration delay, std::function<void()> fire) {
  return at(now_ + std::max(delay, Duration::zero()), std::move(fire));
}

Timers::Id FakeTimers::at(Clock::time_point deadline, std::function<void()> fire) {
  Id id = next_id_++;
  timers_.emplace(id, Timer{std::max(deadline, now_), std::move(fire)});
  return id;
}

void FakeTimers::advance(Duration by) {
  const Clock::time_point until = now_ + std::max(by, Duration::zero());
  for (;;) {
    // Earliest deadline; on a tie the lowest id, which map order gives us
    // because min_element keeps the first of equal elements.
    auto next = std::min_element(timers_.begin(), timers_.end(),
                                 [](const auto& a, const auto& b) { return a.second.deadline < b.second.deadline; });
    if (next == timers_.end() || next->second.deadline + lateness_ > until) break;
    now_ = std::max(now_, next->second.deadline + lateness_);
    std::function<void()> fire = std::move(next->second.fire);
    timers_.erase(next);
    fire();
  }
  now_ = until;
}

}  // namespace autopilot::os
