#include "discovery/memory/memory_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "discovery/catalog_conformance.h"
#include "os/fake/fake_timers.h"

namespace autopilot::discovery {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using testing::ids_of;
using testing::make_instance;
using Operation = MemoryCatalog::Operation;

// Every catalog a test opens shares the first one's store (and its Timers).
// On fake time only: the in-memory catalog has nothing of the real OS to test.
conformance::CatalogBackend memory_backend() {
  conformance::CatalogBackend backend;
  backend.name = "MemoryFakeTime";
  backend.uses_fake_time = true;
  backend.in_process = true;
  backend.fresh = [] {
    auto store = std::make_shared<std::shared_ptr<MemoryStore>>();
    return conformance::CatalogStore{
        [store](boost::asio::io_context&, os::Timers& timers, os::Files&, log::Log&) -> std::unique_ptr<Catalog> {
          if (!*store) *store = std::make_shared<MemoryStore>(timers);
          return std::make_unique<MemoryCatalog>(*store);
        },
        [store] { store->reset(); }};
  };
  return backend;
}

using conformance::CatalogConformanceTest;
INSTANTIATE_TEST_SUITE_P(Memory, CatalogConformanceTest, ::testing::Values(memory_backend()),
                         conformance::backend_name);

// The rest runs on FakeTimers alone: advance(0) delivers what is posted.
class MemoryCatalogTest : public ::testing::Test {
 protected:
  template <class T>
  Result<T> call(const std::function<void(Callback<T>)>& start) {
    std::optional<Result<T>> out;
    start([&](Result<T> r) { out.emplace(std::move(r)); });
    EXPECT_FALSE(out.has_value()) << "delivered inline";
    timers_.advance(0ms);
    if (!out) return make_error("no answer");
    return std::move(*out);
  }
  Result<void> add(const Instance& instance, Duration ttl = 30s) {
    return call<void>([&](auto cb) { catalog_.register_instance(instance, ttl, cb); });
  }

  os::FakeTimers timers_;
  MemoryCatalog catalog_{timers_};
};

TEST_F(MemoryCatalogTest, ARecordExpiresAtItsTtlAndTheWatchSeesItThen) {
  conformance::WatchLog seen;
  auto handle = catalog_.watch_service("web", false, 0, seen.callback());
  timers_.advance(0ms);
  ASSERT_TRUE(add(make_instance("w1", "web"), 300ms).ok());
  ASSERT_EQ(seen.updates.size(), 2u);
  timers_.advance(299ms);
  EXPECT_EQ(seen.updates.size(), 2u);
  EXPECT_TRUE(call<void>([&](auto cb) { catalog_.heartbeat("w1", cb); }).ok());  // now due at 599ms
  timers_.advance(299ms);
  EXPECT_EQ(seen.updates.size(), 2u) << "the heartbeat pushed the expiry";
  timers_.advance(1ms);
  ASSERT_EQ(seen.updates.size(), 3u);
  EXPECT_TRUE(seen.updates.back().instances.empty());
  EXPECT_GT(seen.updates.back().index, seen.updates[1].index);
}

TEST_F(MemoryCatalogTest, AnUnavailableStoreFailsEveryCallAndEndsEveryWatch) {
  ASSERT_TRUE(add(make_instance("w1", "web"), 1s).ok());
  conformance::WatchLog seen;
  auto handle = catalog_.watch_service("web", true, 0, seen.callback());
  std::vector<Result<KvUpdate>> kv;
  auto kv_handle = catalog_.watch_prefix("", 0, [&](Result<KvUpdate> r) { kv.push_back(std::move(r)); });
  timers_.advance(0ms);
  ASSERT_EQ(seen.updates.size(), 1u);
  EXPECT_EQ(catalog_.active_watches(), 2u);

  catalog_.set_available(false);
  EXPECT_FALSE(catalog_.is_available());
  timers_.advance(0ms);
  ASSERT_EQ(seen.errors.size(), 1u);
  EXPECT_EQ(seen.errors[0].message, "the in-memory catalog is unavailable");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_FALSE(kv.back().ok());
  EXPECT_EQ(catalog_.active_watches(), 0u) << "a failed watch ends";

  auto listed = call<std::vector<Instance>>([&](auto cb) { catalog_.list("web", false, cb); });
  ASSERT_FALSE(listed.ok()) << "unavailable is an error, not an empty list";
  EXPECT_EQ(listed.error().message, "the in-memory catalog is unavailable");
  EXPECT_FALSE(add(make_instance("w2", "web")).ok());
  EXPECT_FALSE(call<void>([&](auto cb) { catalog_.heartbeat("w1", cb); }).ok());
  EXPECT_FALSE(call<Index>([&](auto cb) { catalog_.put("k", "v", cb); }).ok());
  EXPECT_FALSE(call<std::unique_ptr<Lock>>([&](auto cb) { catalog_.try_lock("boss", 1s, cb); }).ok());
  conformance::WatchLog refused;
  auto refused_handle = catalog_.watch_service("web", true, 0, refused.callback());
  timers_.advance(0ms);
  EXPECT_EQ(refused.errors.size(), 1u) << "a watch started while it is down fails at once";

  // With no heartbeats the record expires while the store is down; a watch
  // resumed from the last index it saw gets that change once it is back.
  Index last = seen.updates.back().index;
  timers_.advance(1s);
  catalog_.set_available(true);
  conformance::WatchLog resumed;
  auto resumed_handle = catalog_.watch_service("web", true, last, resumed.callback());
  timers_.advance(0ms);
  ASSERT_EQ(resumed.updates.size(), 1u);
  EXPECT_TRUE(resumed.updates[0].instances.empty());
}

TEST_F(MemoryCatalogTest, DownAndBackWithinOneTurnStillEndsTheWatches) {
  conformance::WatchLog seen;
  auto handle = catalog_.watch_service("web", false, 0, seen.callback());
  timers_.advance(0ms);
  catalog_.set_available(false);
  catalog_.set_available(true);
  timers_.advance(0ms);
  EXPECT_EQ(seen.errors.size(), 1u);
}

TEST_F(MemoryCatalogTest, LockWaitsOutlastAnOutage) {
  MemoryCatalog other(catalog_.store());
  auto held = call<std::unique_ptr<Lock>>([&](auto cb) { other.try_lock("boss", 1s, cb); });
  ASSERT_TRUE(held.ok() && *held);
  std::unique_ptr<Lock> mine;
  auto wait = catalog_.lock("boss", 1s, [&](Result<std::unique_ptr<Lock>> r) {
    if (r) mine = std::move(*r);
  });
  catalog_.set_available(false);
  (*held)->release();
  timers_.advance(1s);
  EXPECT_EQ(mine, nullptr) << "no lock while it is down";
  catalog_.set_available(true);
  timers_.advance(0ms);
  ASSERT_NE(mine, nullptr);
  EXPECT_TRUE(mine->is_held());
}

TEST_F(MemoryCatalogTest, ADestroyedCatalogsLocksAreFreedAndItsLeftoversNotHeld) {
  auto other = std::make_unique<MemoryCatalog>(catalog_.store());
  auto held = call<std::unique_ptr<Lock>>([&](auto cb) { other->try_lock("boss", 1s, cb); });
  ASSERT_TRUE(held.ok() && *held);
  std::unique_ptr<Lock> left_behind = std::move(*held);
  other.reset();
  EXPECT_FALSE(left_behind->is_held());
  auto mine = call<std::unique_ptr<Lock>>([&](auto cb) { catalog_.try_lock("boss", 1s, cb); });
  ASSERT_TRUE(mine.ok() && *mine);
  left_behind.reset();  // releases nothing: the lock is someone else's now
  EXPECT_TRUE((*mine)->is_held());
}

TEST_F(MemoryCatalogTest, NothingIsDeliveredAfterTheCatalogIsDestroyed) {
  auto catalog = std::make_unique<MemoryCatalog>(timers_);
  int answers = 0;
  catalog->register_instance(make_instance("w1", "web"), 1s, [&](Result<void>) { ++answers; });
  auto handle = catalog->watch_service("web", false, 0, [&](Result<WatchUpdate>) { ++answers; });
  handle = {};  // a handle must not outlive its catalog
  catalog->register_instance(make_instance("w2", "web"), 1s, [&](Result<void>) { ++answers; });
  catalog.reset();
  timers_.advance(2s);
  EXPECT_EQ(answers, 0);
  EXPECT_EQ(timers_.pending(), 0u) << "the store's expiry timer went with it";
}

TEST_F(MemoryCatalogTest, BlindWatchesSeeTheirFirstLookOnly) {
  ASSERT_TRUE(add(make_instance("w1", "web")).ok());
  catalog_.set_watches_blind(true);
  conformance::WatchLog seen;
  auto handle = catalog_.watch_service("web", false, 0, seen.callback());
  timers_.advance(0ms);
  ASSERT_EQ(seen.updates.size(), 1u);
  ASSERT_TRUE(add(make_instance("w2", "web")).ok());
  timers_.advance(1s);
  EXPECT_EQ(seen.updates.size(), 1u) << "missed";
  EXPECT_EQ(call<std::vector<Instance>>([&](auto cb) { catalog_.list("web", false, cb); })->size(), 2u);
  catalog_.set_watches_blind(false);
  ASSERT_TRUE(add(make_instance("w3", "web")).ok());
  ASSERT_EQ(seen.updates.size(), 2u);
  EXPECT_THAT(ids_of(seen.updates.back().instances), ElementsAre("w1", "w2", "w3"));
}

TEST_F(MemoryCatalogTest, CountsTheCallsOfEachKind) {
  ASSERT_TRUE(add(make_instance("w1", "web")).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(call<void>([&](auto cb) { catalog_.heartbeat("w1", cb); }).ok());
  EXPECT_FALSE(call<void>([&](auto cb) { catalog_.heartbeat("bad id", cb); }).ok());
  EXPECT_EQ(catalog_.count(Operation::kRegister), 1u);
  EXPECT_EQ(catalog_.count(Operation::kHeartbeat), 4u) << "invalid calls count too";
  EXPECT_EQ(catalog_.count(Operation::kList), 0u);
  MemoryCatalog other(catalog_.store());
  EXPECT_THAT(ids_of(*call<std::vector<Instance>>([&](auto cb) { other.list("web", false, cb); })), ElementsAre("w1"));
  EXPECT_EQ(other.count(Operation::kList), 1u);
  EXPECT_EQ(catalog_.count(Operation::kList), 0u) << "each catalog counts its own calls";
}

}  // namespace
}  // namespace autopilot::discovery
