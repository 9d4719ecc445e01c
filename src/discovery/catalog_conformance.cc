// Conformance tests for instances and service watches (KV and locks are in
// catalog_conformance_kv.cc). See catalog_conformance.h.
#include "discovery/catalog_conformance.h"

#include <gmock/gmock.h>

#include <algorithm>

namespace autopilot::discovery::conformance {

using ::testing::ElementsAre;

std::string backend_name(const ::testing::TestParamInfo<CatalogBackend>& info) { return info.param.name; }

void CatalogConformanceTest::SetUp() {
  store_ = GetParam().fresh();
  catalog_ = store_.open(io_, timers_, files_, log_);
  ASSERT_NE(catalog_, nullptr);
}

void CatalogConformanceTest::TearDown() {
  catalog_.reset();
  if (store_.cleanup) store_.cleanup();
}

bool CatalogConformanceTest::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  if (GetParam().uses_fake_time) return testing::advance_until(fake_timers_, io_, done, limit);
  return os::run_until(io_, done, limit);
}

void CatalogConformanceTest::run_for(std::chrono::milliseconds period) {
  if (GetParam().uses_fake_time) {
    testing::advance_until(fake_timers_, io_, [] { return false; }, period);
    return;
  }
  os::run_for(io_, period);
}

Result<void> CatalogConformanceTest::add(const Instance& instance, Duration ttl, Catalog* on) {
  Catalog* c = on ? on : catalog_.get();
  return call<void>([&](Callback<void> cb) { c->register_instance(instance, ttl, cb); });
}

Result<std::vector<Instance>> CatalogConformanceTest::list(const std::string& service, bool healthy_only) {
  return call<std::vector<Instance>>([&](auto cb) { catalog_->list(service, healthy_only, cb); });
}

bool CatalogConformanceTest::await_update(const WatchLog& log, size_t seen, std::chrono::milliseconds limit) {
  return run_until([&] { return log.updates.size() > seen || !log.errors.empty(); }, limit);
}

TEST_P(CatalogConformanceTest, RegisterListDeregister) {
  Instance b = make_instance("web-b", "web", 8081);
  Instance a = make_instance("web-a", "web", 8080);
  ASSERT_TRUE(add(b).ok());
  ASSERT_TRUE(add(a).ok());
  ASSERT_TRUE(add(make_instance("db-1", "db")).ok());
  auto web = list("web");
  ASSERT_TRUE(web.ok()) << web.error().message;
  ASSERT_EQ(web->size(), 2u);
  EXPECT_EQ((*web)[0], a);  // every field round-trips; sorted by id
  EXPECT_EQ((*web)[1], b);
  b.tags = {"v2", "canary", "primary"};
  b.status = Status::kCritical;
  ASSERT_TRUE(add(b).ok());
  auto services = call<std::vector<ServiceSummary>>([&](auto cb) { catalog_->services(cb); });
  ASSERT_TRUE(services.ok());
  // Every live instance's tags, whatever its status, each once, sorted.
  EXPECT_THAT(*services, ElementsAre(ServiceSummary{"db", {"primary", "v1"}},
                                     ServiceSummary{"web", {"canary", "primary", "v1", "v2"}}));

  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->deregister("web-a", cb); }).ok());
  EXPECT_THAT(ids_of(*list("web")), ElementsAre("web-b"));
  EXPECT_TRUE(call<void>([&](auto cb) { catalog_->deregister("web-a", cb); }).ok()) << "idempotent";
  EXPECT_TRUE(list("nosuch")->empty());
}

TEST_P(CatalogConformanceTest, HealthyFilterFollowsStatus) {
  ASSERT_TRUE(add(make_instance("a", "api", 1, Status::kPassing)).ok());
  ASSERT_TRUE(add(make_instance("b", "api", 2, Status::kWarning)).ok());
  ASSERT_TRUE(add(make_instance("c", "api", 3, Status::kCritical)).ok());
  ASSERT_TRUE(add(make_instance("d", "api", 4, Status::kMaintenance)).ok());
  EXPECT_THAT(ids_of(*list("api", true)), ElementsAre("a", "b"));
  EXPECT_THAT(ids_of(*list("api", false)), ElementsAre("a", "b", "c", "d"));

  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->set_status("a", Status::kMaintenance, cb); }).ok());
  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->set_status("c", Status::kPassing, cb); }).ok());
  EXPECT_THAT(ids_of(*list("api", true)), ElementsAre("b", "c"));
  EXPECT_EQ((*list("api"))[0].status, Status::kMaintenance);
}

TEST_P(CatalogConformanceTest, ReregisteringReplaces) {
  ASSERT_TRUE(add(make_instance("x", "one", 1)).ok());
  ASSERT_TRUE(add(make_instance("x", "one", 2)).ok());
  auto one = list("one");
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].port, 2);
  ASSERT_TRUE(add(make_instance("x", "two", 3)).ok());  // the id moves to another service
  EXPECT_TRUE(list("one")->empty());
  EXPECT_THAT(ids_of(*list("two")), ElementsAre("x"));
}

TEST_P(CatalogConformanceTest, UnknownInstanceErrorsLetCallersReregister) {
  auto beat = call<void>([&](auto cb) { catalog_->heartbeat("ghost", cb); });
  ASSERT_FALSE(beat.ok());
  EXPECT_EQ(beat.error().kind, ErrorKind::kNotFound) << beat.error().message;
  EXPECT_EQ(beat.error().message, "unknown instance \"ghost\"");
  auto status = call<void>([&](auto cb) { catalog_->set_status("ghost", Status::kCritical, cb); });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kNotFound) << status.error().message;
  EXPECT_EQ(status.error().message, "unknown instance \"ghost\"");
  // Other failures are not taken for a vanished record.
  auto invalid = call<void>([&](auto cb) { catalog_->heartbeat("-bad id", cb); });
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.error().kind, ErrorKind::kNotFound) << invalid.error().message;
}

TEST_P(CatalogConformanceTest, RecordExpiresAfterTtlAndWatchSeesIt) {
  WatchLog seen;
  auto handle = catalog_->watch_service("short", false, 0, seen.callback());
  ASSERT_TRUE(await_update(seen, 0));
  ASSERT_TRUE(add(make_instance("s1", "short"), 300ms).ok());
  ASSERT_TRUE(run_until([&] { return !seen.updates.empty() && seen.updates.back().instances.size() == 1; }));
  auto registered = now();
  ASSERT_TRUE(run_until([&] { return seen.updates.back().instances.empty(); }, 5s)) << "never expired";
  EXPECT_GE(now() - registered, 200ms);
  EXPECT_TRUE(list("short")->empty());
  auto beat = call<void>([&](auto cb) { catalog_->heartbeat("s1", cb); });
  ASSERT_FALSE(beat.ok());
  EXPECT_EQ(beat.error().kind, ErrorKind::kNotFound);
}

TEST_P(CatalogConformanceTest, HeartbeatsKeepARecordAlive) {
  ASSERT_TRUE(add(make_instance("hb", "beat"), 400ms).ok());
  // Beat every 100ms for 1.2s (three TTLs), driven by the loop's timers.
  int beats = 0;
  bool failed = false;
  std::function<void()> beat = [&] {
    catalog_->heartbeat("hb", [&](Result<void> r) {
      failed = failed || !r.ok();
      if (++beats < 12) timers_.after(100ms, beat);
    });
  };
  beat();
  ASSERT_TRUE(run_until([&] { return beats >= 12 || failed; }, 5s));
  EXPECT_FALSE(failed);
  EXPECT_THAT(ids_of(*list("beat")), ElementsAre("hb"));
  ASSERT_TRUE(run_until([&] { return list("beat")->empty(); }, 5s)) << "expires once beats stop";
}

TEST_P(CatalogConformanceTest, WatchFiresOnAddStatusChangeAndRemove) {
  WatchLog all, healthy;
  auto h1 = catalog_->watch_service("web", false, 0, all.callback());
  auto h2 = catalog_->watch_service("web", true, 0, healthy.callback());
  ASSERT_TRUE(run_until([&] { return all.updates.size() == 1 && healthy.updates.size() == 1; }));
  EXPECT_TRUE(all.updates[0].instances.empty());

  ASSERT_TRUE(add(make_instance("w1", "web")).ok());
  ASSERT_TRUE(await_update(all, 1));
  ASSERT_TRUE(await_update(healthy, 1));
  EXPECT_THAT(ids_of(all.updates.back().instances), ElementsAre("w1"));
  EXPECT_GT(all.updates.back().index, all.updates[0].index);

  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->set_status("w1", Status::kCritical, cb); }).ok());
  ASSERT_TRUE(await_update(all, 2));
  ASSERT_TRUE(await_update(healthy, 2));
  EXPECT_EQ(all.updates.back().instances.at(0).status, Status::kCritical);
  EXPECT_TRUE(healthy.updates.back().instances.empty());

  // Critical -> maintenance changes the full set but not the healthy one.
  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->set_status("w1", Status::kMaintenance, cb); }).ok());
  ASSERT_TRUE(await_update(all, 3));
  ASSERT_TRUE(call<void>([&](auto cb) { catalog_->deregister("w1", cb); }).ok());
  ASSERT_TRUE(await_update(all, 4));
  EXPECT_TRUE(all.updates.back().instances.empty());
  run_for(100ms);
  EXPECT_EQ(healthy.updates.size(), 3u) << "the healthy set did not change";
  for (size_t i = 1; i < all.updates.size(); ++i) EXPECT_GT(all.updates[i].index, all.updates[i - 1].index);
}

TEST_P(CatalogConformanceTest, HeartbeatsDoNotWakeWatches) {
  ASSERT_TRUE(add(make_instance("q", "quiet")).ok());
  WatchLog seen;
  auto handle = catalog_->watch_service("quiet", false, 0, seen.callback());
  ASSERT_TRUE(await_update(seen, 0));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(call<void>([&](auto cb) { catalog_->heartbeat("q", cb); }).ok());
  run_for(200ms);
  EXPECT_EQ(seen.updates.size(), 1u);
}

TEST_P(CatalogConformanceTest, WatchResumesFromIndexWithoutMissingChanges) {
  ASSERT_TRUE(add(make_instance("r1", "res")).ok());
  WatchLog first;
  auto handle = catalog_->watch_service("res", false, 0, first.callback());
  ASSERT_TRUE(await_update(first, 0));
  Index seen = first.updates.back().index;
  handle.cancel();

  // Resuming from the current index with no change delivers nothing...
  WatchLog idle;
  auto idle_handle = catalog_->watch_service("res", false, seen, idle.callback());
  run_for(200ms);
  EXPECT_TRUE(idle.updates.empty());
  idle_handle.cancel();

  // ...but a change made while nobody watched is delivered on resume.
  ASSERT_TRUE(add(make_instance("r2", "res")).ok());
  WatchLog resumed;
  auto resumed_handle = catalog_->watch_service("res", false, seen, resumed.callback());
  ASSERT_TRUE(await_update(resumed, 0));
  EXPECT_THAT(ids_of(resumed.updates[0].instances), ElementsAre("r1", "r2"));
  EXPECT_GT(resumed.updates[0].index, seen);
}

TEST_P(CatalogConformanceTest, CancelStopsCallbacks) {
  WatchLog seen;
  auto handle = catalog_->watch_service("gone", false, 0, seen.callback());
  ASSERT_TRUE(await_update(seen, 0));
  handle.cancel();
  EXPECT_FALSE(handle.is_active());
  ASSERT_TRUE(add(make_instance("g1", "gone")).ok());
  run_for(200ms);
  EXPECT_EQ(seen.updates.size(), 1u);
  {
    WatchLog scoped;
    auto scoped_handle = catalog_->watch_service("gone", false, 0, scoped.callback());
  }  // destroying the handle cancels before the first delivery
  run_for(100ms);
}

TEST_P(CatalogConformanceTest, ChangeFromAnotherCatalogReachesWatch) {
  auto other = open_another();
  ASSERT_NE(other, nullptr);
  WatchLog seen;
  auto handle = catalog_->watch_service("shared", true, 0, seen.callback());
  ASSERT_TRUE(await_update(seen, 0));
  auto start = now();
  ASSERT_TRUE(add(make_instance("o1", "shared"), 30s, other.get()).ok());
  ASSERT_TRUE(await_update(seen, 1, 3s));
  EXPECT_THAT(ids_of(seen.updates.back().instances), ElementsAre("o1"));
  EXPECT_LT(now() - start, 1s) << "event-driven, not the next poll";
}

TEST_P(CatalogConformanceTest, BurstsAreCoalesced) {
  WatchLog seen;
  auto handle = catalog_->watch_service("burst", false, 0, seen.callback());
  ASSERT_TRUE(await_update(seen, 0));
  // Fifty registrations issued in one loop turn.
  int done = 0;
  for (int i = 0; i < 50; ++i) {
    catalog_->register_instance(make_instance("b" + std::to_string(100 + i), "burst"), 30s,
                                [&](Result<void> r) { done += r.ok(); });
  }
  ASSERT_TRUE(
      run_until([&] { return done == 50 && !seen.updates.empty() && seen.updates.back().instances.size() == 50; }));
  EXPECT_LT(seen.updates.size(), 10u) << "50 changes should not mean 50 deliveries";
}

TEST_P(CatalogConformanceTest, InvalidNamesAreRejected) {
  for (const char* name : {"", "1web", "web app", "web/app", "../etc", "wéb", "web_app"}) {
    EXPECT_FALSE(add(make_instance("ok-id", name)).ok()) << name;
    EXPECT_FALSE(list(name).ok()) << name;
  }
  for (const char* id : {"", "../x", "a/b", ".hidden", "a b", "a\nb"}) {
    EXPECT_FALSE(add(make_instance(id, "web")).ok()) << id;
  }
  Instance bad_port = make_instance("p", "web", 70000);
  EXPECT_FALSE(add(bad_port).ok());
  Instance bad_tag = make_instance("t", "web");
  bad_tag.tags.push_back("evil\ntag");
  EXPECT_FALSE(add(bad_tag).ok());
  EXPECT_FALSE(add(make_instance("z", "web"), 0s).ok()) << "ttl must be positive";
  WatchLog seen;
  auto handle = catalog_->watch_service("bad name", false, 0, seen.callback());
  ASSERT_TRUE(run_until([&] { return !seen.errors.empty(); }));
  EXPECT_TRUE(seen.updates.empty());
  EXPECT_TRUE(list("web")->empty());
}

}  // namespace autopilot::discovery::conformance
