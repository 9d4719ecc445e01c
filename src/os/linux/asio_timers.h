// AsioTimers: Timers on a Boost.Asio io_context (steady_timer underneath).
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>

#include "base/lifetime.h"
#include "os/timers.h"

namespace autopilot::os {

// Timer coalescing, as the kernel's timer slack does for sleeps: a timer
// `delay` away may fire up to delay / kCoalesceDivisor later (at most
// kMaxCoalesce), never earlier. It joins a pending deadline inside that
// window if there is one, else takes the window's end, where later timers can
// join it. So timers that fall due close together (ten periodic jobs of 1 s,
// health checks) fire in one wakeup instead of one each.
inline constexpr int kCoalesceDivisor = 256;
inline constexpr Duration kMaxCoalesce = std::chrono::milliseconds(4);
inline Duration slack_for(Duration delay) {
  return delay <= Duration::zero() ? Duration::zero() : std::min(delay / kCoalesceDivisor, kMaxCoalesce);
}

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
  Id at(Clock::time_point deadline, std::function<void()> fire) override;
  void cancel(Id id) override;
  bool is_pending(Id id) const override { return timers_.count(id) != 0; }

  size_t pending() const { return timers_.size(); }
  // When a pending timer will fire (after coalescing); for tests.
  Clock::time_point deadline_of(Id id) const { return timers_.at(id)->deadline; }

 private:
  struct Entry {
    boost::asio::steady_timer timer;
    std::function<void()> fire;
    Clock::time_point deadline;
  };

  Id arm(Clock::time_point wanted, Duration slack, std::function<void()> fire);
  void on_expiry(Id id);
  void erase(std::map<Id, std::unique_ptr<Entry>>::iterator it);

  boost::asio::io_context& io_;
  Id next_id_ = 1;
  std::map<Id, std::unique_ptr<Entry>> timers_;
  std::map<Clock::time_point, size_t> deadlines_;  // pending deadline -> timers on it
  // Last: a completion queued before our destruction finds it ended.
  Lifetime lifetime_;
};

}  // namespace autopilot::os
