// Watches on fakes: an in-memory catalog and a bus driven by FakeTimers, so
// time moves only when a test advances it and nothing waits on the wall clock.
#include "watches/watch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "discovery/memory/memory_catalog.h"
#include "discovery/testing.h"
#include "wiring/testing/fake_wiring.h"

namespace autopilot::watches {
namespace {

using namespace std::chrono_literals;
using discovery::Instance;
using events::Code;

class WatchTest : public ::testing::Test {
 protected:
  WatchTest() {
    fakes_.bus.subscribe([this](const events::Event& e) { events_.push_back(e); });
  }

  bool run_until(const std::function<bool()>& done, os::Duration limit = 5s) { return fakes_.run_until(done, limit); }
  void settle() { fakes_.settle(); }
  void call(const std::function<void(discovery::Callback<void>)>& start) { fakes_.expect_ok(start); }
  void add(const std::string& id, int port, std::vector<std::string> tags = {}) {
    Instance i = discovery::testing::make_instance(id, "app", port);
    i.tags = std::move(tags);
    call([&](auto cb) { fakes_.catalog.register_instance(i, 30s, cb); });
  }
  void remove(const std::string& id) {
    call([&](auto cb) { fakes_.catalog.deregister(id, cb); });
  }
  int count(Code code) const {
    return static_cast<int>(std::count(events_.begin(), events_.end(), events::Event{code, events::Source::watch("app")}));
  }
  Wiring wiring(discovery::Catalog& catalog) { return fakes_.wiring(&catalog); }
  Wiring wiring() { return fakes_.wiring(); }
  static constexpr WatchOptions kOptions{.coalesce = 50ms, .retry = 100ms};

  FakeWiring fakes_;  // watches start no processes and read no files
  std::vector<events::Event> events_;
};

TEST_F(WatchTest, FirstLookPublishesChangedAndHealthyWhenInstancesExist) {
  add("app-1", 8001);
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  settle();
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
  EXPECT_EQ(count(Code::kStatusChanged), 1);
  ASSERT_EQ(w.instances().size(), 1u);
  EXPECT_EQ(w.instances()[0].port, 8001);
}

TEST_F(WatchTest, OperatorMetricsCountEachDelivery) {
  auto& m = fakes_.enable_operator_metrics();
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  settle();
  EXPECT_EQ(m.watch_deliveries->with({"app"}).value(), 1) << "the first look";
  add("app-1", 8001);
  add("app-2", 8002);
  settle();
  EXPECT_EQ(m.watch_deliveries->with({"app"}).value(), 3);
}

TEST_F(WatchTest, FirstLookAtNothingPublishesNothing) {
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  fakes_.timers.advance(200ms);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(fakes_.catalog.count(discovery::MemoryCatalog::Operation::kWatchService), 1u) << "it did look";
}

TEST_F(WatchTest, HealthyWhenTheFirstAppearsUnhealthyWhenTheLastGoes) {
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  fakes_.timers.advance(50ms);
  add("app-1", 8001);
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
  add("app-2", 8002);
  ASSERT_TRUE(run_until([&] { return w.instances().size() == 2; }));
  EXPECT_EQ(count(Code::kStatusHealthy), 1) << "healthy only on the empty -> non-empty transition";
  remove("app-1");
  ASSERT_TRUE(run_until([&] { return w.instances().size() == 1; }));
  EXPECT_EQ(count(Code::kStatusUnhealthy), 0);
  remove("app-2");
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusUnhealthy) == 1; }));
  EXPECT_EQ(count(Code::kStatusChanged), 4);
  EXPECT_TRUE(w.instances().empty());
}

TEST_F(WatchTest, CriticalInstancesAreNotHealthy) {
  add("app-1", 8001);
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  settle();
  ASSERT_EQ(count(Code::kStatusHealthy), 1);
  call([&](auto cb) { fakes_.catalog.set_status("app-1", discovery::Status::kCritical, cb); });
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusUnhealthy) == 1; }));
  call([&](auto cb) { fakes_.catalog.set_status("app-1", discovery::Status::kMaintenance, cb); });
  call([&](auto cb) { fakes_.catalog.set_status("app-1", discovery::Status::kWarning, cb); });
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusHealthy) == 2; }));
}

TEST_F(WatchTest, TagFilterAndMetaChangesAreNotChanges) {
  Watch w({"app", "blue", 1h}, wiring(), kOptions);
  w.start();
  fakes_.timers.advance(50ms);
  add("app-green", 8001, {"green"});
  add("app-blue", 8002, {"blue", "x"});
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
  ASSERT_EQ(w.instances().size(), 1u);
  EXPECT_EQ(w.instances()[0].id, "app-blue");
  int changed = count(Code::kStatusChanged);
  add("app-blue", 8002, {"blue", "y"});  // only the tags differ
  fakes_.timers.advance(200ms);
  EXPECT_EQ(count(Code::kStatusChanged), changed);
}

TEST_F(WatchTest, APortOnlyChangeIsAChange) {
  add("app-1", 8001);
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  settle();
  ASSERT_EQ(count(Code::kStatusChanged), 1);
  add("app-1", 8002);  // same id and address, another port
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusChanged) == 2; }, 1s)) << "a new port is a new endpoint";
  ASSERT_EQ(w.instances().size(), 1u);
  EXPECT_EQ(w.instances()[0].port, 8002);
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
}

TEST_F(WatchTest, BurstsAreCoalesced) {
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  fakes_.timers.advance(50ms);
  auto first = fakes_.timers.now();
  for (int i = 0; i < 50; ++i) {
    add("app-" + std::to_string(i), 9000 + i);
  }
  EXPECT_EQ(w.instances().size(), 1u) << "the first change is published at once";
  ASSERT_TRUE(run_until([&] { return w.instances().size() == 50; }));
  EXPECT_EQ(fakes_.timers.now() - first, 50ms) << "the rest when the coalescing window ends";
  fakes_.timers.advance(150ms);
  EXPECT_EQ(w.instances().size(), 50u);
  EXPECT_EQ(count(Code::kStatusChanged), 2) << "50 changes, two publications";
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
}

TEST_F(WatchTest, IntervalRecheckFindsChangesTheWatchMissed) {
  // The watches read through a catalog whose watches miss every change
  // after their first look, so only the interval's re-check can see what
  // another catalog writes.
  discovery::MemoryCatalog blind(fakes_.catalog.store());
  blind.set_watches_blind(true);
  Watch slow({"app", "", 1h}, wiring(blind), kOptions);
  Watch rechecking({"app", "", 100ms}, wiring(blind), kOptions);
  auto start = fakes_.timers.now();
  slow.start();
  rechecking.start();
  fakes_.timers.advance(50ms);
  add("app-1", 8001);
  ASSERT_TRUE(run_until([&] { return rechecking.instances().size() == 1; }, 2s));
  EXPECT_EQ(fakes_.timers.now() - start, 100ms) << "found by the first re-check";
  EXPECT_TRUE(slow.instances().empty()) << "the other watch had no way to learn of it";
}

TEST_F(WatchTest, AnOutageKeepsTheLastSetAndTheResumedWatchMissesNothing) {
  add("app-1", 8001);
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  settle();
  ASSERT_EQ(count(Code::kStatusHealthy), 1);
  fakes_.catalog.set_available(false);
  fakes_.timers.advance(1s);
  EXPECT_EQ(w.instances().size(), 1u) << "the last set is kept";
  EXPECT_EQ(count(Code::kStatusUnhealthy), 0);
  EXPECT_EQ(fakes_.catalog.count(discovery::MemoryCatalog::Operation::kWatchService), 11u) << "retried every 100ms";
  // Another autopilot registers while this one cannot reach the catalog.
  fakes_.catalog.store()->register_instance(discovery::testing::make_instance("app-2", "app", 8002), 30s);
  fakes_.catalog.set_available(true);
  ASSERT_TRUE(run_until([&] { return w.instances().size() == 2; }, 100ms));
  EXPECT_EQ(count(Code::kStatusChanged), 2);
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
}

}  // namespace
}  // namespace autopilot::watches
