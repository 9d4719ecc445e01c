// AsioTimers: Timers on a Boost.Asio io_context (steady_timer underneath).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>

#include "os/timers.h"

namespace autopilot::os {

// Timer coalescing, as the kernel's timer slack does for sleeps: a deadline
// `delay` away is rounded up to a multiple of delay / kCoalesceDivisor (at
// most kMaxCoalesce) of the steady clock, so timers of the same period that
// fall due within that window (ten periodic jobs of 1 s, health checks) fire
// in one wakeup instead of one each. A timer may fire that much later (4 ms
// for 1 s, 0.08 ms for 20 ms), never earlier.
inline constexpr int kCoalesceDivisor = 256;
inline constexpr Duration kMaxCoalesce = std::chrono::milliseconds(4);
Clock::time_point coalesce(Clock::time_point deadline, Duration delay);

// Every callback runs on the io_context's thread, from io_context::run, never
// inline from after(). After cancel(id) returns, that callback never runs,
// even if its deadline had already passed and its completion was queued.
// Not thread-safe: call it from the loop's thread only. Pending timers are
// dropped, unfired, when AsioTimers is destroyed.
class AsioTimers : public Timers {
 public:
  explicit AsioTimers(boost::asio::io_context& io);
  ~AsioTimers() override;

  Clock::time_point now() const override;
  Id after(Duration delay, std::function<void()> fire) override;
  void cancel(Id id) override;

  size_t pending() const { return timers_.size(); }

 private:
  struct Entry {
    boost::asio::steady_timer timer;
    std::function<void()> fire;
  };

  void on_expiry(Id id);

  boost::asio::io_context& io_;
  Id next_id_ = 1;
  std::map<Id, std::unique_ptr<Entry>> timers_;
  // Handlers hold a weak_ptr to this so a completion queued before our
  // destruction does not touch a dead object.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace autopilot::os
