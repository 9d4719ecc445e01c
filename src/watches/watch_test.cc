// Watches on fakes: an in-memory catalog and a bus driven by FakeTimers, so
// time moves only when a test advances it and nothing waits on the wall clock.
#include "watches/watch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "discovery/memory/memory_catalog.h"
#include "discovery/testing.h"
#include "os/fake/fake_files.h"
#include "os/fake/fake_processes.h"
#include "os/fake/fake_timers.h"

namespace autopilot::watches {
namespace {

using namespace std::chrono_literals;
using discovery::Instance;
using events::Code;

class WatchTest : public ::testing::Test {
 protected:
  WatchTest() : log_({log::Level::kError, log::Format::kDefault, "stderr"}) {
    bus_.subscribe([this](const events::Event& e) { events_.push_back(e); });
  }

  // Advances time until `done()` (checked after every timer), at most
  // `limit`, then runs what that timer left due now (say, the bus's events).
  bool run_until(const std::function<bool()>& done, os::Duration limit = 5s) {
    bool ok = timers_.advance_until(done, limit);
    settle();
    return ok;
  }
  // Runs what is due now: catalog answers, watch deliveries, bus events.
  void settle() { timers_.advance(0ms); }
  void call(const std::function<void(discovery::Callback<void>)>& start) {
    std::optional<Result<void>> result;
    start([&](Result<void> r) { result = std::move(r); });
    settle();
    ASSERT_TRUE(result.has_value()) << "the catalog did not answer";
    EXPECT_TRUE(result->ok()) << result->error().message;
  }
  void add(const std::string& id, int port, std::vector<std::string> tags = {}) {
    Instance i = discovery::testing::make_instance(id, "app", port);
    i.tags = std::move(tags);
    call([&](auto cb) { catalog_.register_instance(i, 30s, cb); });
  }
  void remove(const std::string& id) {
    call([&](auto cb) { catalog_.deregister(id, cb); });
  }
  int count(Code code) const {
    return static_cast<int>(std::count(events_.begin(), events_.end(), events::Event{code, events::Source::watch("app")}));
  }
  Wiring wiring(discovery::Catalog& catalog) {
    return {.loop = io_, .timers = timers_, .processes = processes_, .files = files_, .log = log_, .bus = bus_, .catalog = &catalog};
  }
  Wiring wiring() { return wiring(catalog_); }
  static constexpr WatchOptions kOptions{.coalesce = 50ms, .retry = 100ms};

  boost::asio::io_context io_;  // named by the wiring; nothing runs on it
  os::FakeProcesses processes_;  // named by the wiring; watches start none
  os::FakeTimers timers_;
  os::FakeFiles files_{timers_};  // named by the wiring
  log::Log log_;
  events::Bus bus_{[this](std::function<void()> drain) { timers_.after(0ms, std::move(drain)); }};
  discovery::MemoryCatalog catalog_{timers_};
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

TEST_F(WatchTest, FirstLookAtNothingPublishesNothing) {
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  timers_.advance(200ms);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(catalog_.count(discovery::MemoryCatalog::Operation::kWatchService), 1u) << "it did look";
}

TEST_F(WatchTest, HealthyWhenTheFirstAppearsUnhealthyWhenTheLastGoes) {
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  timers_.advance(50ms);
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
  call([&](auto cb) { catalog_.set_status("app-1", discovery::Status::kCritical, cb); });
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusUnhealthy) == 1; }));
  call([&](auto cb) { catalog_.set_status("app-1", discovery::Status::kMaintenance, cb); });
  call([&](auto cb) { catalog_.set_status("app-1", discovery::Status::kWarning, cb); });
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusHealthy) == 2; }));
}

TEST_F(WatchTest, TagFilterAndMetaChangesAreNotChanges) {
  Watch w({"app", "blue", 1h}, wiring(), kOptions);
  w.start();
  timers_.advance(50ms);
  add("app-green", 8001, {"green"});
  add("app-blue", 8002, {"blue", "x"});
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
  ASSERT_EQ(w.instances().size(), 1u);
  EXPECT_EQ(w.instances()[0].id, "app-blue");
  int changed = count(Code::kStatusChanged);
  add("app-blue", 8002, {"blue", "y"});  // only the tags differ
  timers_.advance(200ms);
  EXPECT_EQ(count(Code::kStatusChanged), changed);
}

TEST_F(WatchTest, BurstsAreCoalesced) {
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  timers_.advance(50ms);
  auto first = timers_.now();
  for (int i = 0; i < 50; ++i) {
    add("app-" + std::to_string(i), 9000 + i);
  }
  EXPECT_EQ(w.instances().size(), 1u) << "the first change is published at once";
  ASSERT_TRUE(run_until([&] { return w.instances().size() == 50; }));
  EXPECT_EQ(timers_.now() - first, 50ms) << "the rest when the coalescing window ends";
  timers_.advance(150ms);
  EXPECT_EQ(w.instances().size(), 50u);
  EXPECT_EQ(count(Code::kStatusChanged), 2) << "50 changes, two publications";
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
}

TEST_F(WatchTest, IntervalRecheckFindsChangesTheWatchMissed) {
  // The watches read through a catalog whose watches miss every change
  // after their first look, so only the interval's re-check can see what
  // another catalog writes.
  discovery::MemoryCatalog blind(catalog_.store());
  blind.set_watches_blind(true);
  Watch slow({"app", "", 1h}, wiring(blind), kOptions);
  Watch rechecking({"app", "", 100ms}, wiring(blind), kOptions);
  auto start = timers_.now();
  slow.start();
  rechecking.start();
  timers_.advance(50ms);
  add("app-1", 8001);
  ASSERT_TRUE(run_until([&] { return rechecking.instances().size() == 1; }, 2s));
  EXPECT_EQ(timers_.now() - start, 100ms) << "found by the first re-check";
  EXPECT_TRUE(slow.instances().empty()) << "the other watch had no way to learn of it";
}

TEST_F(WatchTest, AnOutageKeepsTheLastSetAndTheResumedWatchMissesNothing) {
  add("app-1", 8001);
  Watch w({"app", "", 1h}, wiring(), kOptions);
  w.start();
  settle();
  ASSERT_EQ(count(Code::kStatusHealthy), 1);
  catalog_.set_available(false);
  timers_.advance(1s);
  EXPECT_EQ(w.instances().size(), 1u) << "the last set is kept";
  EXPECT_EQ(count(Code::kStatusUnhealthy), 0);
  EXPECT_EQ(catalog_.count(discovery::MemoryCatalog::Operation::kWatchService), 11u) << "retried every 100ms";
  // Another autopilot registers while this one cannot reach the catalog.
  catalog_.store()->register_instance(discovery::testing::make_instance("app-2", "app", 8002), 30s);
  catalog_.set_available(true);
  ASSERT_TRUE(run_until([&] { return w.instances().size() == 2; }, 100ms));
  EXPECT_EQ(count(Code::kStatusChanged), 2);
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
}

}  // namespace
}  // namespace autopilot::watches
