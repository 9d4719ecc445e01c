// SIGHUP reloads the config: unchanged jobs keep running untouched, changed
// and new ones start, removed ones stop, and a bad config is refused.
#include <gtest/gtest.h>
#include <signal.h>

#include "harness.h"

namespace autopilot::testing {
namespace {

const char* kBefore = R"({
  jobs: [
    { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 60"] },
    { name: "side", exec: ["sh", "-c", "echo side-v1; exec sleep 60"] },
    { name: "old", exec: ["sh", "-c", "echo old-up; exec sleep 60"] },
  ],
})";

const char* kAfter = R"({
  jobs: [
    { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 60"] },
    { name: "side", exec: ["sh", "-c", "echo side-v2; exec sleep 60"] },
    { name: "new", exec: ["sh", "-c", "echo new-up; exec sleep 60"] },
  ],
})";

TEST(Reload, RestartsOnlyWhatChanged) {
  TempDir dir;
  auto p = run_autopilot(dir, kBefore);
  for (const char* line : {"side-v1", "old-up", "app-up"}) ASSERT_TRUE(p.wait_seen(line)) << p.output();
  dir.write("autopilot.json5", kAfter);
  p.signal(SIGHUP);
  for (const char* line : {"side-v2", "new-up"}) ASSERT_TRUE(p.wait_seen(line)) << p.output();
  EXPECT_TRUE(p.wait_seen("job old: pid \\d+ was killed by signal 15")) << p.output();
  EXPECT_EQ(p.count("app-up"), 1) << "an unchanged job must not restart\n" << p.output();
  // The old side stopped before the new one started.
  EXPECT_LT(p.find("job side: pid \\d+ was killed by signal 15"), p.find("side-v2")) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

TEST(Reload, ABadConfigIsRefusedAndTheOldOneKeepsRunning) {
  TempDir dir;
  auto p = run_autopilot(dir, kBefore);
  for (const char* line : {"side-v1", "old-up", "app-up"}) ASSERT_TRUE(p.wait_seen(line)) << p.output();
  dir.write("autopilot.json5", "{ jobs: [ { name: \"app\", exec: 5 } ] }");
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for("reload refused, keeping the running config: .*autopilot.json5:1:32: jobs\\[0\\].exec: "
                         "must be a command string or a list of strings"))
      << p.output();
  dir.write("autopilot.json5", kAfter);
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_seen("new-up")) << p.output();
  EXPECT_EQ(p.count("app-up"), 1) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

// A refused reload goes to the log: the secret a line renders must not.
TEST(Reload, ARefusedReloadLogsTheLineAsWrittenNotTheSecret) {
  TempDir dir;
  auto p = run_autopilot(dir, kBefore, {"DB_PASSWORD=s3cret-hunter2"});
  ASSERT_TRUE(p.wait_seen("app-up")) << p.output();
  dir.write("autopilot.json5", "{\n  jobs: [{ name: \"app\", exec: \"true\", pasword: \"{{ .DB_PASSWORD }}\" }],\n}\n");
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for("reload refused, keeping the running config: .*autopilot.json5:2:")) << p.output();
  ASSERT_TRUE(p.wait_seen("pasword: \"\\{\\{ .DB_PASSWORD \\}\\}\"")) << p.output();
  EXPECT_EQ(p.output().find("s3cret-hunter2"), std::string::npos) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

}  // namespace
}  // namespace autopilot::testing
