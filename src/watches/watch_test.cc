#include "watches/watch.h"

#include <gtest/gtest.h>

#include "discovery/testing.h"
#include "os/fake/fake_processes.h"

namespace autopilot::watches {
namespace {

using namespace std::chrono_literals;
using discovery::Instance;
using events::Code;

class WatchTest : public ::testing::Test {
 protected:
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    return loop_.run_until(done, limit);
  }
  void run_for(std::chrono::milliseconds period) { loop_.run_for(period); }
  void call(const std::function<void(discovery::Callback<void>)>& start) { loop_.expect_ok(start); }
  void add(const std::string& id, int port, std::vector<std::string> tags = {}) {
    Instance i = discovery::testing::make_instance(id, "app", port);
    i.tags = std::move(tags);
    call([&](auto cb) { catalog_->register_instance(i, 30s, cb); });
  }
  void remove(const std::string& id) {
    call([&](auto cb) { catalog_->deregister(id, cb); });
  }
  int count(Code code) const { return loop_.count(code, "watch.app"); }
  Wiring wiring(discovery::Catalog& catalog) {
    return {.loop = loop_.io, .timers = loop_.timers, .processes = processes_, .log = loop_.log, .bus = loop_.bus,
            .catalog = &catalog};
  }
  static constexpr WatchOptions kOptions{.coalesce = 50ms, .retry = 100ms};

  discovery::testing::CatalogLoop loop_;
  std::unique_ptr<discovery::Catalog>& catalog_ = loop_.catalog;
  std::vector<events::Event>& events_ = loop_.events;
  os::FakeProcesses processes_;  // the wiring names processes; watches start none
};

TEST_F(WatchTest, FirstLookPublishesChangedAndHealthyWhenInstancesExist) {
  add("app-1", 8001);
  Watch w({"app", "", 1h}, wiring(*catalog_), kOptions);
  w.start();
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusHealthy) == 1; }));
  EXPECT_EQ(count(Code::kStatusChanged), 1);
  ASSERT_EQ(w.instances().size(), 1u);
  EXPECT_EQ(w.instances()[0].port, 8001);
}

TEST_F(WatchTest, FirstLookAtNothingPublishesNothing) {
  Watch w({"app", "", 1h}, wiring(*catalog_), kOptions);
  w.start();
  run_for(200ms);
  EXPECT_TRUE(events_.empty());
}

TEST_F(WatchTest, HealthyWhenTheFirstAppearsUnhealthyWhenTheLastGoes) {
  Watch w({"app", "", 1h}, wiring(*catalog_), kOptions);
  w.start();
  run_for(50ms);
  add("app-1", 8001);
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusHealthy) == 1; }));
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
  Watch w({"app", "", 1h}, wiring(*catalog_), kOptions);
  w.start();
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusHealthy) == 1; }));
  call([&](auto cb) { catalog_->set_status("app-1", discovery::Status::kCritical, cb); });
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusUnhealthy) == 1; }));
  call([&](auto cb) { catalog_->set_status("app-1", discovery::Status::kMaintenance, cb); });
  call([&](auto cb) { catalog_->set_status("app-1", discovery::Status::kWarning, cb); });
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusHealthy) == 2; }));
}

TEST_F(WatchTest, TagFilterAndMetaChangesAreNotChanges) {
  Watch w({"app", "blue", 1h}, wiring(*catalog_), kOptions);
  w.start();
  run_for(50ms);
  add("app-green", 8001, {"green"});
  add("app-blue", 8002, {"blue", "x"});
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusHealthy) == 1; }));
  ASSERT_EQ(w.instances().size(), 1u);
  EXPECT_EQ(w.instances()[0].id, "app-blue");
  int changed = count(Code::kStatusChanged);
  add("app-blue", 8002, {"blue", "y"});  // only the tags differ
  run_for(200ms);
  EXPECT_EQ(count(Code::kStatusChanged), changed);
}

TEST_F(WatchTest, BurstsAreCoalesced) {
  Watch w({"app", "", 1h}, wiring(*catalog_), kOptions);
  w.start();
  run_for(50ms);
  for (int i = 0; i < 50; ++i) {
    add("app-" + std::to_string(i), 9000 + i);
  }
  ASSERT_TRUE(run_until([&] { return w.instances().size() == 50; }));
  run_for(150ms);
  EXPECT_EQ(w.instances().size(), 50u);
  EXPECT_LT(count(Code::kStatusChanged), 50);
  EXPECT_GE(count(Code::kStatusChanged), 1);
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
}

TEST_F(WatchTest, IntervalRecheckFindsChangesTheWatchMissed) {
  // The watch reads through a catalog without inotify or rescans, so only
  // the interval's re-check can see what another catalog writes.
  discovery::embedded::EmbeddedOptions o;
  o.dir = loop_.dir();
  o.use_inotify = false;
  o.rescan_interval = 1h;
  auto blind = loop_.open_another(o);
  ASSERT_TRUE(blind);
  Watch slow({"app", "", 1h}, wiring(*blind), kOptions);
  Watch rechecking({"app", "", 100ms}, wiring(*blind), kOptions);
  slow.start();
  rechecking.start();
  run_for(50ms);
  add("app-1", 8001);
  ASSERT_TRUE(run_until([&] { return rechecking.instances().size() == 1; }, 2s));
  EXPECT_TRUE(slow.instances().empty()) << "the other watch had no way to learn of it";
}

}  // namespace
}  // namespace autopilot::watches
