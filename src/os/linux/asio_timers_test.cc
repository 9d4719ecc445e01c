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

}  // namespace
}  // namespace autopilot::os
