#include "os/linux/asio_timers.h"

#include <gtest/gtest.h>

#include <chrono>
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

TEST(AsioTimersTest, CoalesceRoundsUpWithinAGrainThatGrowsWithTheDelay) {
  const Clock::time_point t(std::chrono::seconds(1000));  // a multiple of every grain below
  // Never earlier, at most the grain later: 1 s / 256, about 3.9 ms.
  EXPECT_EQ(coalesce(t, 1s), t);
  Clock::time_point c = coalesce(t + 1ns, 1s);
  EXPECT_GT(c, t);
  EXPECT_LE(c - t, Duration(1s) / kCoalesceDivisor);
  // Two deadlines of the same period within one grain become one.
  EXPECT_EQ(coalesce(t + 100us, 1s), coalesce(t + 1ms, 1s));
  // The grain is capped (4 ms for a minute) and shrinks with the delay.
  EXPECT_LE(coalesce(t + 1ns, std::chrono::minutes(1)) - t, kMaxCoalesce);
  EXPECT_LE(coalesce(t + 1ns, 20ms) - t, Duration(20ms) / kCoalesceDivisor);
  EXPECT_EQ(coalesce(t + 1ns, 100ns), t + 1ns) << "no grain below the clock's resolution";
  EXPECT_EQ(coalesce(t + 1ns, 0ms), t + 1ns);
}

}  // namespace
}  // namespace autopilot::os
