// `autopilot lock NAME -- CMD`, the catalog lock scripts take (the reference
// stack's Redis election), as separate processes on a real catalog: the
// embedded one (a temp dir) and a real one-member etcd. Two holders exclude
// each other, a waiter runs once the holder's command ends, --no-wait and
// --timeout give up with 1, the command's status is ours, signals reach the
// command, and a holder killed with SIGKILL frees the lock (embedded: at
// once; etcd: when its --ttl lease ends). On the embedded catalog the lock is
// the flock(2) that flock(1) takes on DIR/locks/NAME.lock.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>

#include <memory>

#include "discovery/etcd/etcd_server.h"
#include "harness.h"

namespace autopilot::testing {
namespace {

using discovery::etcd::testing::EtcdCluster;

class LockCommand : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      AUTOPILOT_SKIP_WITHOUT_ETCD();
      auto cluster = EtcdCluster::start(1);
      ASSERT_TRUE(cluster) << cluster.error().message;
      etcd_ = std::move(*cluster);
      catalog_ = {"--etcd", etcd_->client_url(0)};
    } else {
      ASSERT_EQ(::mkdir((dir_.path() + "/catalog").c_str(), 0755), 0);
      catalog_ = {"--discovery-dir", dir_.path() + "/catalog"};
    }
  }

  // `autopilot lock NAME FLAGS... <catalog> -- COMMAND...`
  Process lock(const std::string& name, std::vector<std::string> flags, std::vector<std::string> command) {
    std::vector<std::string> argv{autopilot_bin(), "lock", name};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), catalog_.begin(), catalog_.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return Process(argv);
  }

  TempDir dir_;
  std::unique_ptr<EtcdCluster> etcd_;
  std::vector<std::string> catalog_;
};

TEST_P(LockCommand, HoldersExcludeEachOtherAndAWaiterRunsAfterTheHolder) {
  Process holder = lock("election", {}, {"sleep", "30"});
  ASSERT_TRUE(holder.wait_for("lock election: taken; running sleep")) << holder.output();

  Process refused = lock("election", {"--no-wait"}, {"echo", "must not run"});
  auto refused_exit = refused.wait_exit();
  ASSERT_TRUE(refused_exit);
  EXPECT_EQ(refused_exit->code, 1);
  EXPECT_EQ(refused.find("must not run"), -1) << refused.output();
  EXPECT_NE(refused.find("held by another holder"), -1) << refused.output();

  Process timed_out = lock("election", {"--timeout", "300ms"}, {"echo", "must not run"});
  auto timed_out_exit = timed_out.wait_exit(5s);
  ASSERT_TRUE(timed_out_exit);
  EXPECT_EQ(timed_out_exit->code, 1);
  EXPECT_NE(timed_out.find("still held by another holder after 300ms"), -1) << timed_out.output();

  // Another lock name is another lock.
  Process other = lock("other", {"--no-wait"}, {"sh", "-c", "exit 7"});
  auto other_exit = other.wait_exit();
  ASSERT_TRUE(other_exit);
  EXPECT_EQ(other_exit->code, 7) << other.output();

  Process waiter = lock("election", {}, {"echo", "waiter ran"});
  EXPECT_FALSE(waiter.wait_exit(500ms)) << "ran while the lock was held: " << waiter.output();
  // SIGTERM reaches the holder's command; the holder exits with its status
  // and releases the lock, and the waiter runs.
  holder.signal(SIGTERM);
  auto holder_exit = holder.wait_exit();
  ASSERT_TRUE(holder_exit);
  EXPECT_EQ(holder_exit->code, 128 + SIGTERM) << holder.output();
  // Well within the lease's 15 s: the holder exits only once etcd applied the release.
  auto waiter_exit = waiter.wait_exit(5s);
  ASSERT_TRUE(waiter_exit);
  EXPECT_EQ(waiter_exit->code, 0);
  EXPECT_NE(waiter.find("^waiter ran$"), -1) << waiter.output();
}

TEST_P(LockCommand, AKilledHolderFreesTheLock) {
  // The command leaves its pid, to be ended at the end: it outlives its holder.
  const std::string pid_file = dir_.path() + "/command.pid";
  Process holder = lock("election", {"--ttl", "2s"}, {"sh", "-c", "echo $$ > " + pid_file + "; exec sleep 30"});
  ASSERT_TRUE(holder.wait_for("lock election: taken")) << holder.output();
  holder.signal(SIGKILL);
  ASSERT_TRUE(holder.wait_exit());
  // Embedded: the kernel freed the flock with the process. etcd: the lease
  // (2 s) ends without keep-alives.
  auto started = std::chrono::steady_clock::now();
  Process waiter = lock("election", {"--timeout", "10s"}, {"echo", "waiter ran"});
  auto waiter_exit = waiter.wait_exit(15s);
  ASSERT_TRUE(waiter_exit);
  EXPECT_EQ(waiter_exit->code, 0) << waiter.output();
  auto waited = std::chrono::steady_clock::now() - started;
  // Bounds with room for a loaded machine; a lock that outlived its holder would take the whole wait.
  EXPECT_LT(waited, GetParam() ? 8s : 3s) << waiter.output();
  int command_pid = std::atoi(read_text(pid_file).c_str());
  if (command_pid > 0) ::kill(command_pid, SIGKILL);
}

TEST_P(LockCommand, RefusesBadInputWithStatus2) {
  Process no_command(std::vector<std::string>{autopilot_bin(), "lock", "election", catalog_[0], catalog_[1]});
  auto e1 = no_command.wait_exit();
  ASSERT_TRUE(e1);
  EXPECT_EQ(e1->code, 2);
  Process bad_name = lock("no/such name", {}, {"true"});
  auto e2 = bad_name.wait_exit();
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->code, 2);
  Process cannot_start = lock("election", {}, {"/nonexistent/program"});
  auto e3 = cannot_start.wait_exit();
  ASSERT_TRUE(e3);
  EXPECT_EQ(e3->code, 127) << cannot_start.output();
}

INSTANTIATE_TEST_SUITE_P(Catalogs, LockCommand, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Etcd" : "Embedded"; });

// The embedded catalog's lock is flock(1)'s on DIR/locks/NAME.lock, both ways.
TEST(LockCommandEmbedded, IsTheSameLockAsFlockOnTheCatalogsLockFile) {
  TempDir dir;
  const std::string catalog = dir.path() + "/catalog";
  ASSERT_EQ(::mkdir(catalog.c_str(), 0755), 0);
  Process holder({autopilot_bin(), "lock", "election", "--discovery-dir", catalog, "--", "sleep", "30"});
  ASSERT_TRUE(holder.wait_for("lock election: taken")) << holder.output();
  Process flock_try({"flock", "-n", catalog + "/locks/election.lock", "true"});
  auto flock_exit = flock_try.wait_exit();
  ASSERT_TRUE(flock_exit);
  EXPECT_EQ(flock_exit->code, 1) << "flock took the lock autopilot holds";
  holder.signal(SIGTERM);
  ASSERT_TRUE(holder.wait_exit());

  // One process holding the flock (so killing it frees it and leaves nothing).
  Process flock_holder({"sh", "-c", "exec 9>" + catalog + "/locks/election.lock; flock 9; echo flocked; exec sleep 30"});
  ASSERT_TRUE(flock_holder.wait_for("^flocked$"));
  Process refused({autopilot_bin(), "lock", "election", "--no-wait", "--discovery-dir", catalog, "--", "true"});
  auto refused_exit = refused.wait_exit();
  ASSERT_TRUE(refused_exit);
  EXPECT_EQ(refused_exit->code, 1) << refused.output();
  flock_holder.signal(SIGKILL);
}

}  // namespace
}  // namespace autopilot::testing
