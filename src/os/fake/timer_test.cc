// os::Timer, the owned timer (os/timers.h), on the fake clock.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "os/fake/fake_timers.h"

namespace autopilot::os {
namespace {

using namespace std::chrono_literals;

TEST(TimerTest, FiresOnceAndIsPendingUntilThen) {
  FakeTimers timers;
  Timer timer(timers);
  int fired = 0;
  EXPECT_FALSE(timer.is_pending());
  timer.after(1s, [&] { ++fired; });
  EXPECT_TRUE(timer.is_pending());
  timers.advance(1s);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.is_pending());
  timers.advance(10s);
  EXPECT_EQ(fired, 1);
}

TEST(TimerTest, DestroyingTheTimerCancelsIt) {
  FakeTimers timers;
  int fired = 0;
  {
    Timer timer(timers);
    timer.after(1s, [&] { ++fired; });
    EXPECT_EQ(timers.pending(), 1u);
  }
  EXPECT_EQ(timers.pending(), 0u);
  timers.advance(5s);
  EXPECT_EQ(fired, 0);
}

// The shape every owner has: a periodic callback that uses the owner.
class Ticker {
 public:
  Ticker(Timers& timers, int* ticks) : timer_(timers), ticks_(ticks) { arm(); }

 private:
  void arm() {
    timer_.after(1s, [this] {
      ++*ticks_;
      arm();  // re-armed from its own callback
    });
  }
  Timer timer_;
  int* ticks_;
};

TEST(TimerTest, NoTimerKeepsFiringIntoADeadOwner) {
  FakeTimers timers;
  int ticks = 0;
  auto ticker = std::make_unique<Ticker>(timers, &ticks);
  timers.advance(3s);
  EXPECT_EQ(ticks, 3);
  EXPECT_EQ(timers.pending(), 1u);
  ticker.reset();
  EXPECT_EQ(timers.pending(), 0u);
  timers.advance(3s);  // would write through a freed Ticker (ASan) otherwise
  EXPECT_EQ(ticks, 3);
}

TEST(TimerTest, ArmingAgainReplacesThePendingTimer) {
  FakeTimers timers;
  Timer timer(timers);
  std::vector<int> fired;
  timer.after(1s, [&] { fired.push_back(1); });
  timer.after(2s, [&] { fired.push_back(2); });
  EXPECT_EQ(timers.pending(), 1u);
  timers.advance(5s);
  EXPECT_EQ(fired, std::vector<int>{2});
}

TEST(TimerTest, CancelStopsItAndIsIdempotent) {
  FakeTimers timers;
  Timer timer(timers);
  bool fired = false;
  timer.at(timers.now() + 1s, [&] { fired = true; });
  timer.cancel();
  timer.cancel();
  EXPECT_FALSE(timer.is_pending());
  timers.advance(5s);
  EXPECT_FALSE(fired);
}

TEST(TimerTest, MoveCarriesThePendingTimer) {
  FakeTimers timers;
  int fired = 0;
  Timer first(timers);
  first.after(1s, [&] { ++fired; });
  std::optional<Timer> second(std::in_place, std::move(first));
  EXPECT_FALSE(first.is_pending());  // NOLINT(bugprone-use-after-move): moved-from holds nothing
  EXPECT_TRUE(second->is_pending());
  first.cancel();  // the moved-from Timer cannot cancel what it gave away
  EXPECT_EQ(timers.pending(), 1u);
  second.reset();  // the new holder's destruction cancels it
  timers.advance(5s);
  EXPECT_EQ(fired, 0);
}

TEST(TimerTest, MoveAssignmentCancelsWhatTheTargetHeld) {
  FakeTimers timers;
  std::vector<int> fired;
  Timer target(timers);
  target.after(1s, [&] { fired.push_back(1); });
  Timer source(timers);
  source.after(2s, [&] { fired.push_back(2); });
  target = std::move(source);
  EXPECT_EQ(timers.pending(), 1u);
  timers.advance(5s);
  EXPECT_EQ(fired, std::vector<int>{2});
}

TEST(TimerTest, AnOwnerDestroyedByItsOwnTimerIsSafe) {
  FakeTimers timers;
  auto timer = std::make_unique<Timer>(timers);
  bool fired = false;
  timer->after(1s, [&] {
    fired = true;
    timer.reset();  // the owner goes from inside the callback
  });
  timers.advance(1s);
  EXPECT_TRUE(fired);
  EXPECT_EQ(timers.pending(), 0u);
}

}  // namespace
}  // namespace autopilot::os
