// Timers: the clock seam. Everything above os/ that waits goes through this,
// so tests can drive time by hand (os/fake/fake_timers.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

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
  // Armed, and neither fired (it is not pending while its callback runs) nor
  // cancelled.
  virtual bool is_pending(Id id) const = 0;
};

// Timer: a timer owned by one object, the form to use above os/ (the lifetime
// rule, docs/design.md): destroying the Timer, or arming it again, cancels
// what it holds, so no timer fires into a dead owner and its callback needs
// no guard. Its Timers must outlive it. Movable: the pending timer moves with
// it, and the moved-from Timer holds nothing.
class Timer {
 public:
  explicit Timer(Timers& timers) : timers_(&timers) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  Timer(Timer&& other) noexcept : timers_(other.timers_), id_(std::exchange(other.id_, 0)) {}
  Timer& operator=(Timer&& other) noexcept {
    if (this != &other) {
      cancel();
      timers_ = other.timers_;
      id_ = std::exchange(other.id_, 0);
    }
    return *this;
  }

  // Cancel what is pending, then arm (Timers::after and Timers::at). May be
  // called from the timer's own callback, to arm the next round.
  void after(Duration delay, std::function<void()> fire) {
    cancel();
    id_ = timers_->after(delay, std::move(fire));
  }
  void at(Clock::time_point deadline, std::function<void()> fire) {
    cancel();
    id_ = timers_->at(deadline, std::move(fire));
  }
  void cancel() {
    if (id_ != 0) timers_->cancel(std::exchange(id_, 0));
  }
  bool is_pending() const { return id_ != 0 && timers_->is_pending(id_); }

 private:
  Timers* timers_;
  Timers::Id id_ = 0;
};

}  // namespace autopilot::os
