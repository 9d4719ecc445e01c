// Timers: the clock seam. Everything above os/ that waits goes through this,
// so tests can drive time by hand (os/fake/fake_timers.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace autopilot::os {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::nanoseconds;

class Timers {
 public:
  using Id = std::uint64_t;
  virtual ~Timers() = default;

  virtual Clock::time_point now() const = 0;
  // Calls `fire` on the loop once `delay` has passed. Never calls it inline.
  virtual Id after(Duration delay, std::function<void()> fire) = 0;
  // The same at an absolute time (now if it has passed): a ticker that adds
  // its period to its last deadline never drifts.
  virtual Id at(Clock::time_point deadline, std::function<void()> fire) = 0;
  // Cancels a pending timer; a no-op when it already fired or was cancelled.
  virtual void cancel(Id id) = 0;
};

}  // namespace autopilot::os
