#include "jobs/service.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <deque>

#include "discovery/testing.h"
#include "os/fake/fake_processes.h"

namespace autopilot::jobs {
namespace {

using namespace std::chrono_literals;
using discovery::Status;
using events::Code;

// A probe whose results the test decides.
class ScriptedCheck : public health::Check {
 public:
  explicit ScriptedCheck(boost::asio::io_context& io) : io_(io) {}
  void run(Duration, std::function<void(health::CheckResult)> done) override {
    ++runs;
    pending_ = std::move(done);
    if (!script.empty()) {
      bool healthy = script.front();
      script.pop_front();
      boost::asio::post(io_, [this, healthy, g = generation_] {
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
  boost::asio::io_context& io_;
  std::function<void(health::CheckResult)> pending_;
  int generation_ = 0;
};

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() : loop_(100ms) {}  // the sweeper runs at rescans
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
    auto check = std::make_unique<ScriptedCheck>(io_);
    ScriptedCheck* raw = check.get();
    Wiring wiring{.loop = loop_.io,
                  .timers = loop_.timers,
                  .processes = processes_,
                  .log = loop_.log,
                  .bus = loop_.bus,
                  .catalog = catalog_.get()};
    service_ = std::make_unique<Service>(j, wiring, std::move(check));
    return *raw;
  }
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    return loop_.run_until(done, limit);
  }
  std::vector<discovery::Instance> all() { return loop_.all("app"); }
  std::optional<Status> status() {
    auto list = all();
    if (list.empty()) return std::nullopt;
    return list[0].status;
  }
  int count(Code code) const { return loop_.count(code, "app"); }

  discovery::testing::CatalogLoop loop_;
  boost::asio::io_context& io_ = loop_.io;
  std::unique_ptr<discovery::Catalog>& catalog_ = loop_.catalog;
  os::FakeProcesses processes_;  // the wiring names processes; a service starts none
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
  auto start = std::chrono::steady_clock::now();
  // Three TTLs later the record is still there.
  run_until([&] { return std::chrono::steady_clock::now() - start > 1200ms; }, 2s);
  EXPECT_EQ(status(), Status::kPassing);
  EXPECT_GE(check.runs, 8);
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
  ASSERT_TRUE(run_until([&] { return status() == Status::kCritical; }, 1s)) << "D9: marked at once";
  // No heartbeats while failing: gone after the TTL (400ms).
  ASSERT_TRUE(run_until([&] { return all().empty(); }, 3s));
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
  catalog_->deregister(service_->instance().id, [&](auto) { removed = true; });
  ASSERT_TRUE(run_until([&] { return removed; }));
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
  auto start = std::chrono::steady_clock::now();
  run_until([&] { return std::chrono::steady_clock::now() - start > 600ms; }, 1s);
  EXPECT_EQ(check.runs, runs) << "no checks in maintenance";
  EXPECT_EQ(status(), Status::kMaintenance) << "heartbeats keep the maintenance record beyond its TTL";
  service_->exit_maintenance();
  auto left = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until([&] { return status() == Status::kPassing; }, 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - left, 100ms) << "a check runs at once, not at the next interval";
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
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration took{};
  service_->withdraw(2s, [&] {
    done = true;
    took = std::chrono::steady_clock::now() - start;
  });
  ASSERT_TRUE(run_until([&] { return done; }));
  gone_when_done = all().empty();
  EXPECT_TRUE(gone_when_done);
  EXPECT_GE(took, 200ms) << "the drain delay passes before the caller continues";
  int runs = check.runs;
  run_until([] { return false; }, 300ms);
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
