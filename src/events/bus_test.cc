#include "events/bus.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>

namespace autopilot::events {
namespace {

// A hand-run loop: posted work runs only when the test says so.
struct ManualLoop {
  std::deque<std::function<void()>> posted;
  Bus::Scheduler scheduler() {
    return [this](std::function<void()> f) { posted.push_back(std::move(f)); };
  }
  void run() {
    while (!posted.empty()) {
      auto f = std::move(posted.front());
      posted.pop_front();
      f();
    }
  }
};

TEST(Bus, DeliversInPublishOrderToEverySubscriberAfterReturning) {
  ManualLoop loop;
  Bus bus(loop.scheduler());
  std::vector<std::string> a, b;
  bus.subscribe([&](const Event& e) { a.push_back(describe(e)); });
  bus.subscribe([&](const Event& e) { b.push_back(describe(e)); });
  bus.publish({Code::kStartup, Source::parse("global")});
  bus.publish({Code::kExitSuccess, Source::parse("pre")});
  EXPECT_TRUE(a.empty()) << "publish must not run subscribers inline";
  loop.run();
  std::vector<std::string> want{"startup from global", "exitSuccess from pre"};
  EXPECT_EQ(a, want);
  EXPECT_EQ(b, want);
}

TEST(Bus, PublisherNeverBlocksOnAStuckSubscriberAndTheQueueStaysBounded) {
  ManualLoop loop;
  Bus bus(loop.scheduler());
  int delivered = 0;
  bus.subscribe([&](const Event&) { ++delivered; });
  // The subscriber gets no chance to run (the loop is "stuck") while a
  // publisher floods the bus with a million events from 50 sources.
  for (int i = 0; i < 1'000'000; ++i) {
    bus.publish({Code::kStatusChanged, Source::parse("watch.svc" + std::to_string(i % 50))});
  }
  EXPECT_EQ(bus.pending(), 50u);
  EXPECT_EQ(bus.coalesced(), 1'000'000u - 50u);
  EXPECT_EQ(bus.published(), 1'000'000u);
  loop.run();
  EXPECT_EQ(delivered, 50);
  EXPECT_EQ(bus.pending(), 0u);
}

TEST(Bus, EventsPublishedByHandlersGoToTheNextDrain) {
  ManualLoop loop;
  Bus bus(loop.scheduler());
  std::vector<std::string> seen;
  bus.subscribe([&](const Event& e) {
    seen.push_back(describe(e));
    if (e.code == Code::kStartup) bus.publish({Code::kExitSuccess, Source::parse("a")});
  });
  bus.publish({Code::kStartup, Source::parse("global")});
  bus.publish({Code::kStopping, Source::parse("b")});
  loop.run();
  EXPECT_EQ(seen, (std::vector<std::string>{"startup from global", "stopping from b", "exitSuccess from a"}));
}

TEST(Bus, UnsubscribeInsideAHandlerStopsDelivery) {
  ManualLoop loop;
  Bus bus(loop.scheduler());
  int calls = 0;
  Bus::SubscriptionId id = 0;
  id = bus.subscribe([&](const Event&) {
    ++calls;
    bus.unsubscribe(id);
  });
  bus.publish({Code::kStartup, Source::parse("global")});
  bus.publish({Code::kStopping, Source::parse("x")});
  loop.run();
  EXPECT_EQ(calls, 1);
}

TEST(Event, ParsesWhenNames) {
  EXPECT_EQ(parse_when_name("exitSuccess"), Code::kExitSuccess);
  EXPECT_EQ(parse_when_name("healthy"), Code::kStatusHealthy);
  EXPECT_EQ(parse_when_name("statusHealthy"), Code::kStatusHealthy);
  EXPECT_EQ(parse_when_name("exitsuccess"), std::nullopt);
  EXPECT_EQ(code_name(Code::kStatusChanged), "StatusChanged");
}

}  // namespace
}  // namespace autopilot::events
