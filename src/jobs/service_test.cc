// Services on fakes: an in-memory catalog, scripted checks and a bus, all
// driven by FakeTimers, so TTLs, heartbeats and drains take no wall-clock time.
#include "jobs/service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

#include "discovery/memory/memory_catalog.h"
#include "discovery/testing.h"
#include "wiring/testing/fake_wiring.h"

namespace autopilot::jobs {
namespace {

using namespace std::chrono_literals;
using discovery::Status;
using events::Code;
using Operation = discovery::MemoryCatalog::Operation;

// A probe whose results the test decides; each answers from the loop.
class ScriptedCheck : public health::Check {
 public:
  explicit ScriptedCheck(os::Timers& timers) : timers_(timers) {}
  void run(Duration, std::function<void(health::CheckResult)> done) override {
    ++runs;
    pending_ = std::move(done);
    if (!script.empty()) {
      bool healthy = script.front();
      script.pop_front();
      timers_.after(0ms, [this, healthy, g = generation_] {
        if (g == generation_ && pending_) std::exchange(pending_, nullptr)({healthy, healthy ? "" : "HTTP 503"});
      });
    }
  }
  void cancel() override {
    ++generation_;
    pending_ = nullptr;
  }
  // Results to give, in order; when empty, a run stays pending.
  std::deque<bool> script;
  int runs = 0;

 private:
  os::Timers& timers_;
  std::function<void(health::CheckResult)> pending_;
  int generation_ = 0;
};

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() {
    fakes_.bus.subscribe([this](const events::Event& e) { events_.push_back(e); });
  }
  void TearDown() override { service_.reset(); }

  JobConfig job(bool with_port = true) {
    JobConfig j;
    j.name = "app";
    j.health = health::HealthConfig{};
    j.health->kind = health::Kind::kHttp;
    j.health->interval = 100ms;
    j.health->ttl = 400ms;
    j.health->timeout = 100ms;
    if (with_port) {
      j.service.port = 8080;
      j.service.address = "127.0.0.1";
      j.service.node = "host";
    }
    return j;
  }
  ScriptedCheck& make(const JobConfig& j) {
    auto check = std::make_unique<ScriptedCheck>(fakes_.timers);
    ScriptedCheck* raw = check.get();
    service_ = std::make_unique<Service>(j, fakes_.wiring(), std::move(check));
    return *raw;
  }
  bool run_until(const std::function<bool()>& done, os::Duration limit = 5s) { return fakes_.run_until(done, limit); }
  void settle() { fakes_.settle(); }
  // Every instance of the service (all statuses), read from the store at
  // once: a read through the catalog would run the loop, and with it the
  // timers a run_until is stepping through.
  std::vector<discovery::Instance> all() { return fakes_.catalog.store()->read_service("app").live; }
  std::optional<Status> status() {
    auto list = all();
    if (list.empty()) return std::nullopt;
    return list[0].status;
  }
  int count(Code code) const {
    return static_cast<int>(std::count(events_.begin(), events_.end(), events::Event{code, events::Source::job("app")}));
  }

  FakeWiring fakes_;  // a service starts no processes and reads no files
  std::vector<events::Event> events_;
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceTest, RegistersOnTheFirstPassNotBefore) {
  auto& check = make(job());
  check.script = {false, true};
  service_->start();
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusUnhealthy) == 1; }));
  EXPECT_TRUE(all().empty()) << "a failing check registers nothing";
  ASSERT_TRUE(run_until([&] { return service_->is_registered(); }));
  auto list = all();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, "app-host-127.0.0.1:8080");
  EXPECT_EQ(list[0].address, "127.0.0.1");
  EXPECT_EQ(list[0].status, Status::kPassing);
  EXPECT_EQ(service_->health(), Health::kHealthy);
  EXPECT_GE(count(Code::kStatusHealthy), 1);
}

TEST_F(ServiceTest, HeartbeatsKeepThePassingRecordAliveBeyondItsTtl) {
  auto& check = make(job());
  check.script.assign(100, true);
  service_->start();
  ASSERT_TRUE(run_until([&] { return service_->is_registered(); }));
  // Three TTLs later the record is still there.
  fakes_.timers.advance(1200ms);
  EXPECT_EQ(status(), Status::kPassing);
  EXPECT_EQ(check.runs, 13) << "one at once, then one per interval";
  EXPECT_EQ(fakes_.catalog.count(Operation::kRegister), 1u);
  EXPECT_EQ(fakes_.catalog.count(Operation::kHeartbeat), 12u) << "each later pass heartbeats";
}

TEST_F(ServiceTest, OperatorMetricsCountCheckResultsAndTimeThem) {
  auto& m = fakes_.enable_operator_metrics();
  auto& check = make(job());
  check.script = {true, false, true};
  service_->start();
  ASSERT_TRUE(run_until([&] { return check.runs == 3 && check.script.empty(); }));
  settle();
  EXPECT_EQ(m.health_checks->with({"app", "healthy"}).value(), 2);
  EXPECT_EQ(m.health_checks->with({"app", "unhealthy"}).value(), 1);
  EXPECT_EQ(m.health_check_duration->with({"app"}).count(), 3u);
  EXPECT_EQ(m.health_check_duration->with({"app"}).sum(), 0) << "the scripted check answers at once on the fake clock";
}

TEST_F(ServiceTest, InitialStatusRegistersBeforeAnyCheck) {
  auto j = job();
  j.service.initial_status = Status::kWarning;
  make(j);  // no scripted results: the first check never answers
  service_->start();
  ASSERT_TRUE(run_until([&] { return service_->is_registered(); }));
  EXPECT_EQ(status(), Status::kWarning);
}

TEST_F(ServiceTest, FailureMarksCriticalAtOnceThenTheRecordExpires) {
  auto& check = make(job());
  check.script = {true};
  service_->start();
  ASSERT_TRUE(run_until([&] { return service_->is_registered(); }));
  check.script.assign(100, false);
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusUnhealthy) >= 1; }));
  EXPECT_EQ(status(), Status::kCritical) << "D9: marked at once";
  auto failed = fakes_.timers.now();
  // No heartbeats while failing: gone after the TTL (400ms) from the last one.
  ASSERT_TRUE(run_until([&] { return all().empty(); }, 3s));
  EXPECT_EQ(fakes_.timers.now() - failed, 300ms) << "the last heartbeat was one interval before the failure";
  // A pass registers it again (D3).
  check.script.assign(100, true);
  ASSERT_TRUE(run_until([&] { return status() == Status::kPassing; }, 3s));
}

TEST_F(ServiceTest, ARecordRemovedBehindOurBackIsRegisteredAgain) {
  auto& check = make(job());
  check.script.assign(200, true);
  service_->start();
  ASSERT_TRUE(run_until([&] { return service_->is_registered(); }));
  bool removed = false;
  fakes_.catalog.deregister(service_->instance().id, [&](auto) { removed = true; });
  settle();
  ASSERT_TRUE(removed);
  EXPECT_FALSE(status().has_value());
  ASSERT_TRUE(run_until([&] { return status() == Status::kPassing; }, 2s));
}

TEST_F(ServiceTest, MaintenancePausesChecksAndLeavingItRegistersAtOnce) {
  auto& check = make(job());
  check.script.assign(200, true);
  service_->start();
  ASSERT_TRUE(run_until([&] { return service_->is_registered(); }));
  service_->enter_maintenance();
  ASSERT_TRUE(run_until([&] { return status() == Status::kMaintenance; }, 1s));
  int runs = check.runs;
  fakes_.timers.advance(600ms);
  EXPECT_EQ(check.runs, runs) << "no checks in maintenance";
  EXPECT_EQ(status(), Status::kMaintenance) << "heartbeats keep the maintenance record beyond its TTL";
  service_->exit_maintenance();
  auto left = fakes_.timers.now();
  ASSERT_TRUE(run_until([&] { return status() == Status::kPassing; }, 1s));
  EXPECT_LT(fakes_.timers.now() - left, 100ms) << "a check runs at once, not at the next interval";
}

TEST_F(ServiceTest, WithdrawDeregistersThenDrainsThenContinues) {
  auto j = job();
  j.service.drain = 200ms;
  auto& check = make(j);
  check.script.assign(100, true);
  service_->start();
  ASSERT_TRUE(run_until([&] { return service_->is_registered(); }));
  bool done = false;
  bool gone_when_done = false;
  auto start = fakes_.timers.now();
  os::Duration took{};
  service_->withdraw(2s, [&] {
    done = true;
    gone_when_done = all().empty();
    took = fakes_.timers.now() - start;
  });
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_TRUE(gone_when_done);
  EXPECT_EQ(took, 200ms) << "the drain delay passes before the caller continues";
  int runs = check.runs;
  fakes_.timers.advance(300ms);
  EXPECT_EQ(check.runs, runs) << "no checks after withdraw";
}

TEST_F(ServiceTest, WithdrawWithoutRegistrationContinuesAtOnce) {
  make(job());
  service_->start();
  bool done = false;
  service_->withdraw(2s, [&] { done = true; });
  EXPECT_TRUE(done);
}

TEST_F(ServiceTest, HealthWithoutPortOnlyPublishes) {
  auto& check = make(job(false));
  check.script = {true, false};
  service_->start();
  ASSERT_TRUE(run_until([&] { return count(Code::kStatusUnhealthy) == 1; }));
  EXPECT_EQ(count(Code::kStatusHealthy), 1);
  EXPECT_TRUE(all().empty());
}

}  // namespace
}  // namespace autopilot::jobs
