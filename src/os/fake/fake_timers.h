// FakeTimers: a hand-driven clock for tests. Linked into tests only.
#pragma once

#include <functional>
#include <map>

#include "os/timers.h"

namespace autopilot::os {

// now() starts at a fixed, arbitrary epoch and moves only in advance().
// after() never fires inline; a timer fires during the advance() that reaches
// its deadline (plus the lateness, if set), with now() equal to that moment
// while it runs.
class FakeTimers : public Timers {
 public:
  FakeTimers();

  Clock::time_point now() const override { return now_; }
  Id after(Duration delay, std::function<void()> fire) override;
  Id at(Clock::time_point deadline, std::function<void()> fire) override;
  void cancel(Id id) override { timers_.erase(id); }
  bool is_pending(Id id) const override { return timers_.count(id) != 0; }

  // Moves time forward by `by` (>= 0), firing every timer due by then in
  // deadline order, ties in creation order. Timers created or cancelled by
  // those callbacks count too, when their deadline falls within the window.
  // advance(Duration::zero()) fires the timers due now.
  void advance(Duration by);

  // Advances time as advance() does, but stops as soon as `done()` holds; it
  // is checked before any timer fires and after each one. Returns done(). On
  // success now() is the moment the last timer fired (so a test can check
  // how long something took); otherwise time has moved by `limit`. The
  // fake-time counterpart of os::run_until (os/linux/loop_testing.h). Keep
  // done() a plain check: one that advances time itself fires the timers due
  // now before this call can stop at them.
  bool advance_until(const std::function<bool()>& done, Duration limit);

  // Timers created and not yet fired or cancelled.
  size_t pending() const { return timers_.size(); }

  // Every timer fires this long after its deadline from now on, as a real
  // loop's timers do when it is busy or coalesces them (default zero).
  void set_lateness(Duration lateness) { lateness_ = lateness; }

 private:
  struct Pending {
    Clock::time_point deadline;
    std::function<void()> fire;
  };

  // Fires the earliest timer due by `until`; false when there is none.
  bool fire_next(Clock::time_point until);

  Clock::time_point now_;
  Id next_id_ = 1;
  Duration lateness_{0};
  std::map<Id, Pending> timers_;  // ids grow, so map order is creation order
};

}  // namespace autopilot::os
