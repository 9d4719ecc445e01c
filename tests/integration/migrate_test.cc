// `autopilot migrate` on the real binary: every v2 fixture
// (src/config/testdata/v2) becomes a v3 config that `check` accepts with the
// same jobs and main job as the v2 file run with the same app.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "harness.h"

namespace autopilot::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> fixtures() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(source_dir()) / "src/config/testdata/v2"))
    out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string run_ok(std::vector<std::string> argv, const std::vector<std::string>& env) {
  Process p(std::move(argv), env);
  auto exit = p.wait_exit();
  EXPECT_TRUE(exit && exit->code == 0) << p.output();
  return p.output();
}

TEST(Migrate, EveryV2FixturePassesCheckWithTheSameJobsAndMainJob) {
  const std::vector<std::string> env{"CONSUL=consul.svc"};
  ASSERT_GE(fixtures().size(), 3u);
  for (const auto& fixture : fixtures()) {
    SCOPED_TRACE(fixture);
    TempDir dir;
    std::string out = dir.path() + "/v3.json5";
    std::string v2 = run_ok({autopilot_bin(), "check", "-config", fixture, "nginx", "-g", "daemon off;"}, env);
    run_ok({autopilot_bin(), "migrate", "-config", fixture, "-out", out, "nginx", "-g", "daemon off;"}, env);
    std::string v3 = run_ok({autopilot_bin(), "check", "-config", out}, env);
    std::smatch a, b;
    ASSERT_TRUE(std::regex_search(v2, a, std::regex(": ok \\(.*\\)"))) << v2;
    ASSERT_TRUE(std::regex_search(v3, b, std::regex(": ok \\(.*\\)"))) << v3;
    EXPECT_EQ(a.str(), b.str());
    EXPECT_NE(a.str().find("main job"), std::string::npos) << a.str();
  }
}

TEST(Migrate, PrintsToStdoutAndRefusesAV3Config) {
  TempDir dir;
  std::string v2 = dir.write("cp.json", R"({ "preStart": "true" })");
  Process p({autopilot_bin(), "migrate", "-config", v2, "sh", "-c", "exit 0"});
  ASSERT_TRUE(p.wait_exit());
  EXPECT_GE(p.find("^// Translated from the ContainerPilot v2 config"), 0) << p.output();
  EXPECT_GE(p.find("^  mainJob: \"app\",$"), 0) << p.output();

  std::string v3 = dir.write("c.json5", "{ jobs: [] }");
  Process q({autopilot_bin(), "migrate", "-config", v3});
  auto exit = q.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2);
  EXPECT_EQ(q.output(), "autopilot: " + v3 + " is read as a ContainerPilot v3 config because of `jobs`; migrate "
                        "translates ContainerPilot v2 configs\n");
}

}  // namespace
}  // namespace autopilot::testing
