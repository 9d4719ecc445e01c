#include "health/exec_check.h"

#include <gtest/gtest.h>

#include <optional>

#include "os/fake/fake_processes.h"
#include "os/fake/fake_timers.h"

namespace autopilot::health {
namespace {

using namespace std::chrono_literals;

class ExecCheckTest : public ::testing::Test {
 protected:
  ExecCheckTest() : check_({"check.app", {"probe"}, false, nullptr}, processes_, timers_, log_) {}

  os::FakeProcesses processes_;
  os::FakeTimers timers_;
  log::Log log_;
  ExecCheck check_;
  std::optional<CheckResult> result_;
};

TEST_F(ExecCheckTest, ExitStatusDecides) {
  check_.run(1s, [this](CheckResult r) { result_ = r; });
  ASSERT_EQ(processes_.spawned().size(), 1u);
  processes_.exit_for_test(processes_.spawned()[0].pid, {0, 0});
  ASSERT_TRUE(result_);
  EXPECT_TRUE(result_->healthy);
  check_.run(1s, [this](CheckResult r) { result_ = r; });
  processes_.exit_for_test(processes_.spawned()[1].pid, {3, 0});
  EXPECT_FALSE(result_->healthy);
  EXPECT_EQ(result_->detail, "exited with status 3");
}

TEST_F(ExecCheckTest, AnExecThatFailedAfterSpawnIsUnhealthyWithTheError) {
  check_.run(1s, [this](CheckResult r) { result_ = r; });
  ASSERT_EQ(processes_.spawned().size(), 1u);
  processes_.exit_for_test(processes_.spawned()[0].pid, {127, 0, "fork/exec /bin/probe: exec format error"});
  ASSERT_TRUE(result_);
  EXPECT_FALSE(result_->healthy);
  EXPECT_EQ(result_->detail, "fork/exec /bin/probe: exec format error");
}

}  // namespace
}  // namespace autopilot::health
