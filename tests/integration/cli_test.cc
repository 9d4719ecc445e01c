// The command line: -version, -template, check, config from the environment.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace autopilot::testing {
namespace {

TEST(Cli, VersionPrintsVersionAndGitHash) {
  Process p({autopilot_bin(), "-version"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0);
  EXPECT_EQ(p.find("^Version: \\d+\\.\\d+\\.\\d+$"), 0) << p.output();
}

TEST(Cli, TemplatePrintsTheRenderedConfigByteForByte) {
  TempDir dir;
  std::string text = "{\n  // {{ .GREETING }}\n  jobs: [{{ range $i := loop 2 }}{ name: \"j{{ $i }}\", exec: \"{{ $.CMD | default \"true\" }}\" },{{ end }}],\n}";
  std::string path = dir.write("c.json5", text);
  Process p({autopilot_bin(), "-config", path, "-template"}, {"GREETING=hi=there"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0);
  EXPECT_EQ(p.output(),
            "{\n  // hi=there\n  jobs: [{ name: \"j0\", exec: \"true\" },{ name: \"j1\", exec: \"true\" },],\n}");
}

TEST(Cli, TemplateOutWritesAFile) {
  TempDir dir;
  std::string path = dir.write("c.json5", "{ x: \"{{ env \"HOME\" }}\" }");
  Process p({autopilot_bin(), "-config", path, "-template", "-out", dir.path() + "/out.json5"}, {"HOME=/h"});
  ASSERT_EQ(p.wait_exit()->code, 0) << p.output();
  std::ifstream in(dir.path() + "/out.json5");
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), "{ x: \"/h\" }");
}

TEST(Cli, CheckAcceptsAGoodConfigFromTheEnvironment) {
  TempDir dir;
  std::string path = dir.write("c.json5", "{ jobs: [ { name: \"app\", exec: \"sleep 1\" } ] }");
  Process p({autopilot_bin(), "check"}, {"CONTAINERPILOT=file://" + path});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0) << p.output();
  EXPECT_GE(p.find("ok \\(1 jobs, main job app\\)"), 0) << p.output();
}

TEST(Cli, NoConfigIsAClearError) {
  Process p({"env", "-u", "AUTOPILOT", "-u", "CONTAINERPILOT", autopilot_bin()});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2);
  EXPECT_EQ(p.output(),
            "autopilot: no config file: give -config PATH (or set AUTOPILOT=PATH); see autopilot --help\n");
}

TEST(Cli, AnEtcdUrlWithAPasswordIsNeverEchoed) {
  Process p({autopilot_bin(), "catalog", "services", "--etcd", "http://root:S3cretPW@127.0.0.1:2379"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << p.output();
  EXPECT_EQ(p.output().find("S3cretPW"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("http://***@127.0.0.1:2379"), std::string::npos) << p.output();
}

TEST(Cli, HelpExplainsTheCommands) {
  Process p({autopilot_bin(), "--help"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0);
  EXPECT_GE(p.find("autopilot check -config FILE"), 0) << p.output();
}

}  // namespace
}  // namespace autopilot::testing
