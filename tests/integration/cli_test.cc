// The command line: -version, -template, check, config from the environment.
#include <gtest/gtest.h>
#include <signal.h>

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

TEST(Cli, AConfigThatIsADirectorySaysSo) {
  TempDir dir;
  Process p({autopilot_bin(), "-config", dir.path()});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2);
  EXPECT_EQ(p.output(), "autopilot: " + dir.path() + " is a directory, not a file\n");
}

TEST(Cli, AnUnknownFlagGetsDidYouMean) {
  Process p({autopilot_bin(), "-confg", "x.json5"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2);
  EXPECT_EQ(p.output(), "autopilot: unknown flag -confg (did you mean -config?); see autopilot --help\n");
}

TEST(Cli, AnEtcdUrlWithAPasswordIsNeverEchoed) {
  Process p({autopilot_bin(), "catalog", "services", "--etcd", "http://root:S3cretPW@127.0.0.1:2379"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << p.output();
  EXPECT_EQ(p.output().find("S3cretPW"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("http://***@127.0.0.1:2379"), std::string::npos) << p.output();
}

// The password (and then the token) would cross the network in clear.
TEST(Cli, CredentialsSentToEtcdOverHttpAreWarnedAbout) {
  TempDir dir;
  std::string path = dir.write("c.json5", R"({
  discovery: { etcd: { endpoints: "http://127.0.0.1:1", username: "root", password: "pw", timeout: "100ms" } },
  jobs: [{ name: "app", exec: "sleep 5", port: 80, interfaces: ["static:127.0.0.1"], health: { interval: 1, ttl: 5 } }],
})");
  Process p({autopilot_bin(), "-config", path});
  EXPECT_TRUE(p.wait_for("etcd: the username and password go to http://127.0.0.1:1 unencrypted")) << p.output();
  p.signal(SIGTERM);
  EXPECT_TRUE(p.wait_exit(20s));
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
