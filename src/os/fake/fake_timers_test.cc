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

TEST(FakeTimersTest, AdvanceUntilStopsAtTheTimerThatMadeItTrue) {
  FakeTimers timers;
  Clock::time_point start = timers.now();
  int fired = 0;
  timers.after(1s, [&] { ++fired; });
  timers.after(3s, [&] { ++fired; });
  timers.after(3s, [&] { ++fired; });
  EXPECT_TRUE(timers.advance_until([&] { return fired == 2; }, 10s));
  EXPECT_EQ(timers.now() - start, 3s);
  EXPECT_EQ(fired, 2) << "stops after the timer that made it true, before the next due one";
  EXPECT_TRUE(timers.advance_until([&] { return fired == 3; }, 10s));
  EXPECT_EQ(timers.now() - start, 3s) << "a timer due now needs no time";
  EXPECT_TRUE(timers.advance_until([] { return true; }, 10s));
  EXPECT_EQ(timers.now() - start, 3s);
}

TEST(FakeTimersTest, AdvanceUntilGivesUpAfterTheLimit) {
  FakeTimers timers;
  Clock::time_point start = timers.now();
  bool fired = false;
  timers.after(5s, [&] { fired = true; });
  EXPECT_FALSE(timers.advance_until([&] { return fired; }, 4s));
  EXPECT_EQ(timers.now() - start, 4s);
  EXPECT_TRUE(timers.advance_until([&] { return fired; }, 4s));
  EXPECT_EQ(timers.now() - start, 5s);
}

}  // namespace
}  // namespace autopilot::os
