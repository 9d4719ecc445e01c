#include "base/lifetime.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace autopilot {
namespace {

TEST(LifetimeTest, BoundCallableRunsWhileTheOwnerLasts) {
  Lifetime lifetime;
  std::string got;
  auto bound = lifetime.bind([&](const std::string& a, int b) { got = a + std::to_string(b); });
  bound("x", 1);
  EXPECT_EQ(got, "x1");
}

TEST(LifetimeTest, BoundCallableDoesNothingOnceTheOwnerIsGone) {
  int calls = 0;
  std::function<void()> later;
  {
    Lifetime lifetime;
    later = lifetime.bind([&] { ++calls; });
  }
  later();
  later();
  EXPECT_EQ(calls, 0);
}

// The shape every owner has: callbacks capture `this` and use its members.
class Owner {
 public:
  explicit Owner(std::string* log) : log_(log) {}
  std::function<void(int)> callback() {
    return lifetime_.bind([this](int n) { *log_ += name_ + std::to_string(n); });
  }

 private:
  std::string* log_;
  std::string name_ = "owner";
  Lifetime lifetime_;
};

TEST(LifetimeTest, CallbackOfADestroyedOwnerDoesNotTouchIt) {
  std::string log;
  auto owner = std::make_unique<Owner>(&log);
  auto callback = owner->callback();
  callback(1);
  owner.reset();
  callback(2);  // would read the freed name_ (ASan) without the Lifetime
  EXPECT_EQ(log, "owner1");
}

TEST(LifetimeTest, MovedAndCopiedCallablesKeepTheirOwner) {
  int calls = 0;
  std::optional<Lifetime> lifetime(std::in_place);
  auto bound = lifetime->bind([&] { ++calls; });
  auto copy = bound;
  auto moved = std::move(bound);
  copy();
  moved();
  EXPECT_EQ(calls, 2);
  lifetime.reset();
  copy();
  moved();
  EXPECT_EQ(calls, 2);
}

TEST(LifetimeTest, MoveOnlyCallablesCanBeBound) {
  Lifetime lifetime;
  auto value = std::make_unique<int>(7);
  int got = 0;
  auto bound = lifetime.bind([&got, value = std::move(value)] { got = *value; });
  auto moved = std::move(bound);
  moved();
  EXPECT_EQ(got, 7);
}

TEST(LifetimeTest, ObserverSeesTheOwnerGoDuringACallOut) {
  auto lifetime = std::make_unique<Lifetime>();
  auto observer = lifetime->observe();
  EXPECT_FALSE(observer.has_ended());
  std::function<void()> destroy_owner = [&] { lifetime.reset(); };
  destroy_owner();  // what a watcher's callback may do
  EXPECT_TRUE(observer.has_ended());
}

TEST(LifetimeTest, EachOwnerEndsOnlyItsOwnCallables) {
  int a = 0, b = 0;
  auto first = std::make_unique<Lifetime>();
  Lifetime second;
  auto call_a = first->bind([&] { ++a; });
  auto call_b = second.bind([&] { ++b; });
  first.reset();
  call_a();
  call_b();
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
}

}  // namespace
}  // namespace autopilot
