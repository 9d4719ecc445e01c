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
  timers_.emplace(id, Pending{std::max(deadline, now_), std::move(fire)});
  return id;
}

bool FakeTimers::fire_next(Clock::time_point until) {
  // Earliest deadline; on a tie the lowest id, which map order gives us
  // because min_element keeps the first of equal elements.
  auto next = std::min_element(timers_.begin(), timers_.end(),
                               [](const auto& a, const auto& b) { return a.second.deadline < b.second.deadline; });
  if (next == timers_.end() || next->second.deadline + lateness_ > until) return false;
  now_ = std::max(now_, next->second.deadline + lateness_);
  std::function<void()> fire = std::move(next->second.fire);
  timers_.erase(next);
  fire();
  return true;
}

void FakeTimers::advance(Duration by) {
  const Clock::time_point until = now_ + std::max(by, Duration::zero());
  while (fire_next(until)) {
  }
  now_ = std::max(now_, until);  // a callback may have advanced further itself
}

bool FakeTimers::advance_until(const std::function<bool()>& done, Duration limit) {
  const Clock::time_point until = now_ + std::max(limit, Duration::zero());
  for (;;) {
    if (done()) return true;
    if (!fire_next(until)) break;
  }
  now_ = std::max(now_, until);
  return done();
}

}  // namespace autopilot::os
