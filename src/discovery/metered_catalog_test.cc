// MeteredCatalog over the in-memory catalog on fake timers: every call is
// passed on and counted by operation; failures count as errors; each answer
// is timed.
#include "discovery/metered_catalog.h"

#include <gtest/gtest.h>

#include "discovery/memory/memory_catalog.h"
#include "os/fake/fake_timers.h"

namespace autopilot::discovery {
namespace {

using namespace std::chrono_literals;

class MeteredCatalogTest : public ::testing::Test {
 protected:
  MeteredCatalogTest() : ops_(std::move(*metrics::OperatorMetrics::create(registry_))) {}

  double requests(const char* op) { return ops_->catalog_requests->with({op}).value(); }
  double errors(const char* op) { return ops_->catalog_errors->with({op}).value(); }
  std::uint64_t timed(const char* op) { return ops_->catalog_duration->with({op}).count(); }

  os::FakeTimers timers_;
  MemoryCatalog inner_{timers_};
  metrics::Registry registry_;
  std::unique_ptr<metrics::OperatorMetrics> ops_;
  MeteredCatalog catalog_{inner_, *ops_, timers_};
};

TEST_F(MeteredCatalogTest, PassesCallsOnAndCountsThemByOperation) {
  Instance i;
  i.id = "web-1";
  i.name = "web";
  i.address = "10.0.0.1";
  i.port = 80;
  bool registered = false;
  catalog_.register_instance(i, 10s, [&](Result<void> r) { registered = r.ok(); });
  EXPECT_EQ(requests("register"), 1);
  EXPECT_EQ(timed("register"), 0u) << "timed when answered";
  timers_.advance(0ms);
  EXPECT_TRUE(registered);
  EXPECT_EQ(inner_.count(MemoryCatalog::Operation::kRegister), 1u);
  EXPECT_EQ(timed("register"), 1u);

  std::vector<Instance> listed;
  catalog_.list("web", true, [&](Result<std::vector<Instance>> r) { listed = *r; });
  catalog_.heartbeat("nope", [](Result<void>) {});
  timers_.advance(0ms);
  EXPECT_EQ(listed.size(), 1u);
  EXPECT_EQ(requests("list"), 1);
  EXPECT_EQ(errors("list"), 0);
  EXPECT_EQ(requests("heartbeat"), 1);
  EXPECT_EQ(errors("heartbeat"), 1) << "an unknown id fails";
  EXPECT_EQ(ops_->catalog_duration->with({"list"}).sum(), 0) << "the fake clock did not move";
}

TEST_F(MeteredCatalogTest, WatchesCountOneRequestAndEachFailedDelivery) {
  int updates = 0, failures = 0;
  auto handle = catalog_.watch_service("web", true, 0, [&](Result<WatchUpdate> u) { u ? ++updates : ++failures; });
  timers_.advance(0ms);
  EXPECT_EQ(updates, 1);
  inner_.set_available(false);
  timers_.advance(1s);
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(requests("watch_service"), 1);
  EXPECT_EQ(errors("watch_service"), 1);

  bool failed = false;
  catalog_.put("k", "v", [&](Result<Index> r) { failed = !r; });
  timers_.advance(0ms);
  EXPECT_TRUE(failed);
  EXPECT_EQ(errors("put"), 1);
}

}  // namespace
}  // namespace autopilot::discovery
