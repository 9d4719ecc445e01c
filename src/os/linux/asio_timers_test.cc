#include "os/linux/asio_timers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace autopilot::os {
namespace {

using namespace std::chrono_literals;

TEST(AsioTimersTest, FiresInDeadlineOrderAndNeverInline) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  std::vector<int> fired;
  timers.after(20ms, [&] { fired.push_back(2); });
  timers.after(0ms, [&] { fired.push_back(1); });
  EXPECT_TRUE(fired.empty());
  EXPECT_EQ(timers.pending(), 2u);
  io.run_for(5s);  // returns as soon as both fired: nothing else is pending
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(AsioTimersTest, CancelledTimerNeverFires) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  bool fired = false;
  Timers::Id id = timers.after(0ms, [&] { fired = true; });
  timers.cancel(id);
  timers.cancel(id);  // a second cancel is a no-op
  io.run_for(5s);
  EXPECT_FALSE(fired);
}

TEST(AsioTimersTest, CancelWinsOverAnAlreadyQueuedExpiry) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  bool fired = false;
  Timers::Id victim = 0;
  // Both are due by the time the loop runs, so the victim's completion is
  // queued when the first callback cancels it.
  timers.after(0ms, [&] { timers.cancel(victim); });
  victim = timers.after(0ms, [&] { fired = true; });
  io.run_for(5s);
  EXPECT_FALSE(fired);
  EXPECT_EQ(timers.pending(), 0u);
}

// The owner of a pending timer is destroyed by the callback before it: the
// queued completion must find nothing (under ASan, it would otherwise read
// the freed AsioTimers), and the owned os::Timer must not fire.
TEST(AsioTimersTest, ACompletionQueuedBeforeDestructionDoesNothing) {
  boost::asio::io_context io;
  auto timers = std::make_unique<AsioTimers>(io);
  bool fired = false;
  std::optional<Timer> owned;
  timers->after(0ms, [&] {
    owned.reset();
    timers.reset();
  });
  owned.emplace(*timers);
  owned->after(0ms, [&] { fired = true; });
  EXPECT_TRUE(owned->is_pending());
  io.run_for(5s);
  EXPECT_FALSE(fired);
}

TEST(AsioTimersTest, ATimerJoinsAPendingDeadlineWithinItsSlackAndNeverFiresEarly) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  auto nothing = [] {};
  Clock::time_point t = timers.now() + 10s;
  // Alone: the end of its window, 10 s / 256 (about 39 ms, capped at 4 ms) late.
  Timers::Id first = timers.at(t, nothing);
  EXPECT_EQ(timers.deadline_of(first), t + kMaxCoalesce);
  // Due 1 ms later: joins the first one's deadline, still inside its own window.
  Timers::Id second = timers.at(t + 1ms, nothing);
  EXPECT_EQ(timers.deadline_of(second), timers.deadline_of(first));
  // Due after the first one's deadline: joining would fire it early, so it does not.
  Timers::Id third = timers.at(t + 5ms, nothing);
  EXPECT_EQ(timers.deadline_of(third), t + 5ms + kMaxCoalesce);
  // A short timer gets a small window: 20 ms / 256.
  Timers::Id fourth = timers.after(20ms, nothing);
  EXPECT_LE(timers.deadline_of(fourth) - timers.now(), 20ms + Duration(20ms) / kCoalesceDivisor);
  // Once the deadline it joined is gone, a new timer does not find it.
  timers.cancel(first);
  timers.cancel(second);
  Timers::Id fifth = timers.at(t + 1ms, nothing);
  EXPECT_EQ(timers.deadline_of(fifth), t + 1ms + kMaxCoalesce);
}

TEST(AsioTimersTest, AtFiresAtAnAbsoluteTime) {
  boost::asio::io_context io;
  AsioTimers timers(io);
  Clock::time_point want = timers.now() + 30ms, fired{};
  timers.at(want, [&] { fired = Clock::now(); });
  timers.at(timers.now() - 1s, [] {});  // already past: fires at once
  io.run_for(5s);
  EXPECT_GE(fired, want);
  EXPECT_EQ(timers.pending(), 0u);
}

}  // namespace
}  // namespace autopilot::os
