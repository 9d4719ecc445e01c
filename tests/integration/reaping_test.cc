// PID-1 duties: orphaned grandchildren are reaped, as a sub-reaper and as
// PID 1 of a new PID namespace.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <regex>

#include "harness.h"

namespace autopilot::testing {
namespace {

// A job that double-forks 1000 short-lived grandchildren and exits at once,
// so they are re-parented to autopilot; the app keeps autopilot alive.
const char* kOrphanConfig = R"({
  jobs: [
    { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 60"] },
    { name: "orphans", exec: ["sh", "-c", "i=0; while [ $i -lt 1000 ]; do (sleep 0.2 &); i=$((i+1)); done; echo forked"] },
  ],
})";

// Waits (bounded) until `pid` has no zombie children and only `keep` children.
bool settles(int pid, size_t keep, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (zombies_of(pid) == 0 && children_of(pid).size() <= keep) return true;
    ::usleep(20000);
  }
  return false;
}

int reaped_orphans(const Process& p) {
  std::smatch m;
  std::regex re("reaped (\\d+) orphaned processes");
  for (const auto& l : p.lines())
    if (std::regex_search(l, m, re)) return std::stoi(m[1]);
  return -1;
}

std::string orphan_config() { return kOrphanConfig; }

TEST(Reaping, ThousandOrphansLeaveNoZombiesAsASubreaper) {
  TempDir dir;
  auto p = run_autopilot(dir, orphan_config());
  ASSERT_TRUE(p.wait_seen("app-up")) << p.output();
  ASSERT_TRUE(p.wait_seen("job orphans: pid \\d+ exited with status 0", 30s)) << p.output();
  EXPECT_TRUE(settles(p.pid(), 1, 20s)) << "zombies left: " << zombies_of(p.pid());
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
  EXPECT_GE(reaped_orphans(p), 1000) << p.output();
}

// Not PID 1: background children a job leaves behind (re-parented to us)
// would outlive autopilot; at the end they get SIGTERM, and SIGKILL after
// stopTimeout (one of them ignores SIGTERM).
TEST(Reaping, ChildrenLeftBehindByAJobDoNotOutliveAutopilot) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
  stopTimeout: 1,
  jobs: [
    { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 60"] },
    { name: "spawner", exec: ["sh", "-c", "i=0; while [ $i -lt 200 ]; do sleep 300 & i=$((i+1)); done; (trap '' TERM; exec sleep 301) & echo forked"] },
  ],
})");
  ASSERT_TRUE(p.wait_seen("app-up")) << p.output();
  ASSERT_TRUE(p.wait_seen("job spawner: pid \\d+ exited with status 0", 30s)) << p.output();
  std::vector<int> left;
  ASSERT_TRUE(p.wait_until([&] {
    left = children_of(p.pid());
    return left.size() >= 202;  // the app, 200 sleeps and the one ignoring SIGTERM
  })) << children_of(p.pid()).size();
  auto start = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms) << "SIGKILL only after stopTimeout";
  int alive = 0;
  for (int pid : left) {
    char state = process_state(pid);
    alive += state != '\0' && state != 'Z';
  }
  EXPECT_EQ(alive, 0) << p.output();
}

TEST(Reaping, ThousandOrphansLeaveNoZombiesAsPid1) {
  if (::geteuid() != 0) GTEST_SKIP() << "unshare --pid needs root";
  TempDir dir;
  std::string path = dir.write("autopilot.json5", orphan_config());
  Process p({"unshare", "--pid", "--fork", "--mount-proc", autopilot_bin(), "-config", path});
  ASSERT_TRUE(p.wait_for("autopilot .* started \\(pid 1\\)")) << p.output();
  ASSERT_TRUE(p.wait_for("job orphans: pid \\d+ exited with status 0", 30s)) << p.output();
  auto inner = children_of(p.pid());
  ASSERT_EQ(inner.size(), 1u);
  EXPECT_TRUE(settles(inner[0], 1, 20s)) << "zombies left: " << zombies_of(inner[0]);
  ::kill(inner[0], SIGTERM);  // PID 1 of the namespace
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_GE(reaped_orphans(p), 1000) << p.output();
}

}  // namespace
}  // namespace autopilot::testing
