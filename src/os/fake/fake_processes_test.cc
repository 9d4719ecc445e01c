#include "os/fake/fake_processes.h"

#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <string>
#include <vector>

namespace autopilot::os {
namespace {

TEST(FakeProcessesTest, RecordsSpawnsAndEndsChildrenOnDemand) {
  FakeProcesses processes;
  std::vector<std::string> lines;
  std::optional<ExitStatus> exit;
  SpawnCallbacks cb{[&](std::string_view l) { lines.emplace_back(l); }, [&](ExitStatus s) { exit = s; }};
  Result<int> pid = processes.spawn(SpawnSpec{{"echo", "hi"}, {"A=1"}, true}, cb);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(*pid, 1000);
  ASSERT_EQ(processes.spawned().size(), 1u);
  EXPECT_EQ(processes.spawned()[0].spec.argv, (std::vector<std::string>{"echo", "hi"}));
  EXPECT_EQ(processes.running(), 1u);

  processes.output_for_test(1000, "hi");
  EXPECT_EQ(lines, (std::vector<std::string>{"hi"}));
  processes.signal_group(1000, SIGTERM);
  EXPECT_EQ(processes.signals(), (std::vector<FakeProcesses::SentSignal>{{1000, SIGTERM}}));
  EXPECT_FALSE(exit);

  processes.exit_for_test(1000, ExitStatus{0, SIGTERM});
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->shell_code(), 128 + SIGTERM);
  EXPECT_EQ(processes.running(), 0u);
  EXPECT_EQ(*processes.spawn(SpawnSpec{{"true"}, {}, true}, {}), 1001);
}

TEST(FakeProcessesTest, FailNextSpawn) {
  FakeProcesses processes;
  processes.fail_next_spawn_for_test(make_error("exec: \"x\": executable file not found in $PATH"));
  Result<int> pid = processes.spawn(SpawnSpec{{"x"}, {}, true}, {});
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.error().message, "exec: \"x\": executable file not found in $PATH");
  EXPECT_TRUE(processes.spawned().empty());
  EXPECT_EQ(*processes.spawn(SpawnSpec{{"x"}, {}, true}, {}), 1000);
}

}  // namespace
}  // namespace autopilot::os
