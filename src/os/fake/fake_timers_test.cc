#include "os/fake/fake_timers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace autopilot::os {
namespace {

using namespace std::chrono_literals;

TEST(FakeTimersTest, TimeMovesOnlyOnAdvance) {
  FakeTimers timers;
  Clock::time_point start = timers.now();
  EXPECT_EQ(timers.now(), start);
  timers.advance(5s);
  EXPECT_EQ(timers.now() - start, 5s);
}

TEST(FakeTimersTest, FiresDueTimersInDeadlineThenCreationOrder) {
  FakeTimers timers;
  Clock::time_point start = timers.now();
  std::vector<std::string> fired;
  std::vector<Duration> at;
  auto record = [&](std::string name) {
    return [&, name] {
      fired.push_back(name);
      at.push_back(timers.now() - start);
    };
  };
  timers.after(3s, record("c"));
  timers.after(1s, record("a1"));
  timers.after(1s, record("a2"));
  timers.after(10s, record("late"));
  EXPECT_TRUE(fired.empty()) << "after() must not fire inline";
  timers.advance(5s);
  EXPECT_EQ(fired, (std::vector<std::string>{"a1", "a2", "c"}));
  EXPECT_EQ(at, (std::vector<Duration>{1s, 1s, 3s}));
  EXPECT_EQ(timers.pending(), 1u);
  timers.advance(5s);
  EXPECT_EQ(fired.back(), "late");
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(FakeTimersTest, TimersCreatedByCallbacksFireWithinTheWindow) {
  FakeTimers timers;
  std::vector<std::string> fired;
  timers.after(1s, [&] {
    fired.push_back("first");
    timers.after(1s, [&] { fired.push_back("inside"); });   // due at 2s
    timers.after(9s, [&] { fired.push_back("outside"); });  // due at 10s
  });
  timers.advance(3s);
  EXPECT_EQ(fired, (std::vector<std::string>{"first", "inside"}));
  EXPECT_EQ(timers.pending(), 1u);
}

TEST(FakeTimersTest, ZeroDelayFiresOnAdvanceZero) {
  FakeTimers timers;
  int count = 0;
  timers.after(0s, [&] { ++count; });
  EXPECT_EQ(count, 0);
  timers.advance(0s);
  EXPECT_EQ(count, 1);
}

TEST(FakeTimersTest, CancelStopsATimerAlsoFromACallback) {
  FakeTimers timers;
  bool fired = false;
  Timers::Id victim = 0;
  timers.after(1s, [&] { timers.cancel(victim); });
  victim = timers.after(1s, [&] { fired = true; });
  Timers::Id gone = timers.after(1s, [&] { fired = true; });
  timers.cancel(gone);
  timers.cancel(gone);
  timers.advance(2s);
  EXPECT_FALSE(fired);
  EXPECT_EQ(timers.pending(), 0u);
}

}  // namespace
}  // namespace autopilot::os
