// LockedCommand (`autopilot lock`) on fakes: the in-memory catalog's locks,
// FakeProcesses and FakeTimers. Another "container" (a second catalog on the
// same store) holds the lock where a test needs a holder. Nothing waits on
// the wall clock. The real binary on real catalogs: tests/integration/lock_test.cc.
#include "app/lock_command.h"

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <optional>

#include "discovery/memory/memory_catalog.h"
#include "wiring/testing/fake_wiring.h"

namespace autopilot::app {
namespace {

using namespace std::chrono_literals;

class LockedCommandTest : public ::testing::Test {
 protected:
  LockOptions options(std::vector<std::string> command = {"redis-elect"}) {
    LockOptions o;
    o.name = "redis-election";
    o.command = std::move(command);
    return o;
  }
  std::unique_ptr<LockedCommand> make(LockOptions o) {
    return std::make_unique<LockedCommand>(fake_.wiring(), std::move(o), [this](int s) { status_ = s; });
  }
  // Takes the lock from another catalog on the same store.
  std::unique_ptr<discovery::Lock> hold() {
    std::unique_ptr<discovery::Lock> got;
    other_.try_lock("redis-election", 15s, [&](Result<std::unique_ptr<discovery::Lock>> r) {
      ASSERT_TRUE(r);
      got = std::move(*r);
    });
    fake_.settle();
    EXPECT_TRUE(got);
    return got;
  }
  // Can another holder take the lock now?
  bool is_free() { return hold() != nullptr; }

  FakeWiring fake_;
  discovery::MemoryCatalog other_{fake_.catalog.store()};
  std::optional<int> status_;
};

TEST_F(LockedCommandTest, RunsTheCommandHoldingTheLockAndEndsWithItsStatus) {
  auto command = make(options({"sh", "-c", "exit 3"}));
  command->start();
  fake_.settle();
  ASSERT_EQ(fake_.processes.spawned().size(), 1u);
  EXPECT_EQ(fake_.processes.spawned()[0].spec.argv, (std::vector<std::string>{"sh", "-c", "exit 3"}));
  EXPECT_FALSE(fake_.processes.spawned()[0].spec.capture_output);  // straight to our stdout
  int pid = command->pid();
  ASSERT_NE(pid, 0);
  {
    std::unique_ptr<discovery::Lock> other;
    other_.try_lock("redis-election", 15s, [&](auto r) { other = std::move(*r); });
    fake_.settle();
    EXPECT_FALSE(other) << "another holder took the lock while the command ran";
  }
  EXPECT_FALSE(status_);
  fake_.processes.exit_for_test(pid, {3, 0});
  fake_.settle();
  EXPECT_EQ(status_, 3);
  EXPECT_EQ(command->pid(), 0);
  EXPECT_TRUE(is_free());
}

TEST_F(LockedCommandTest, WaitsForTheHolderThenRuns) {
  auto held = hold();
  auto command = make(options());
  command->start();
  fake_.run_until([] { return false; }, 10s);
  EXPECT_TRUE(fake_.processes.spawned().empty());
  held->release();
  fake_.settle();
  ASSERT_EQ(fake_.processes.spawned().size(), 1u);
  fake_.processes.exit_for_test(command->pid(), {0, 0});
  fake_.settle();
  EXPECT_EQ(status_, 0);
}

TEST_F(LockedCommandTest, GivesUpAfterTheTimeoutWithoutRunning) {
  auto held = hold();
  auto o = options();
  o.timeout = 2s;
  auto command = make(o);
  command->start();
  EXPECT_TRUE(fake_.run_until([&] { return status_.has_value(); }, 3s));
  EXPECT_EQ(status_, 1);
  EXPECT_TRUE(fake_.processes.spawned().empty());
  // A release after the give-up runs nothing.
  held->release();
  fake_.run_until([] { return false; }, 1s);
  EXPECT_TRUE(fake_.processes.spawned().empty());
}

TEST_F(LockedCommandTest, NoWaitFailsAtOnceWhenHeld) {
  auto held = hold();
  auto o = options();
  o.no_wait = true;
  auto command = make(o);
  command->start();
  fake_.settle();
  EXPECT_EQ(status_, 1);
  EXPECT_TRUE(fake_.processes.spawned().empty());
}

TEST_F(LockedCommandTest, SigtermWhileWaitingGivesUpAndWhileRunningReachesTheCommand) {
  auto held = hold();
  auto waiting = make(options());
  waiting->start();
  fake_.settle();
  waiting->signal(SIGTERM);
  EXPECT_EQ(status_, 128 + SIGTERM);
  held->release();
  fake_.settle();
  EXPECT_TRUE(fake_.processes.spawned().empty());

  status_.reset();
  auto running = make(options());
  running->start();
  fake_.settle();
  int pid = running->pid();
  ASSERT_NE(pid, 0);
  running->signal(SIGTERM);
  running->signal(SIGHUP);
  EXPECT_EQ(fake_.processes.signals(),
            (std::vector<os::FakeProcesses::SentSignal>{{pid, SIGTERM}, {pid, SIGHUP}}));
  EXPECT_FALSE(status_);
  fake_.processes.exit_for_test(pid, {0, SIGTERM});
  fake_.settle();
  EXPECT_EQ(status_, 128 + SIGTERM);
  EXPECT_TRUE(is_free());
}

TEST_F(LockedCommandTest, ACommandThatCannotStartIs127AndFreesTheLock) {
  fake_.processes.fail_next_spawn_for_test(make_error("fork/exec nope: no such file or directory"));
  auto command = make(options({"nope"}));
  command->start();
  fake_.settle();
  EXPECT_EQ(status_, 127);
  EXPECT_TRUE(is_free());
}

}  // namespace
}  // namespace autopilot::app
