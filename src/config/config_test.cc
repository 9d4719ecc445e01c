#include "config/config.h"

#include <gtest/gtest.h>

namespace autopilot::config {
namespace {

using namespace std::chrono_literals;

TEST(Config, DecodesAContainerPilotStyleConfig) {
  auto c = parse("c.json5", R"({
    consul: "localhost:8500",
    logging: { level: "debug", format: "json", output: "stderr" },
    stopTimeout: 7,
    jobs: [
      { name: "setup", exec: "/bin/setup.sh --now", restarts: "never" },
      { name: "app", exec: ["node", "app.js"], restarts: "unlimited", stopTimeout: "2s",
        when: { source: "setup", once: "exitSuccess", timeout: "1m" } },
      { name: "cron", exec: "true", when: { interval: "1500ms" } },
      { name: "onhup", exec: "true", when: { source: "SIGHUP" } },
    ],
  })", false);
  ASSERT_TRUE(c.ok()) << c.error().format();
  EXPECT_EQ(c->logging.level, log::Level::kDebug);
  EXPECT_EQ(c->logging.format, log::Format::kJson);
  EXPECT_EQ(c->stop_timeout, 7s);
  ASSERT_EQ(c->jobs.size(), 4u);
  EXPECT_EQ(c->jobs[0].exec, (std::vector<std::string>{"/bin/setup.sh", "--now"}));
  EXPECT_EQ(c->jobs[1].restarts, jobs::kUnlimited);
  EXPECT_EQ(c->jobs[1].stop_timeout, 2s);
  EXPECT_EQ(c->jobs[1].when.timeout, 60s);
  EXPECT_EQ(c->jobs[1].when.event, events::Code::kExitSuccess);
  EXPECT_EQ(c->jobs[2].when.interval, 1500ms);
  EXPECT_EQ(c->jobs[2].timeout, 1500ms) << "a periodic job's timeout defaults to its interval";
  EXPECT_EQ(c->jobs[2].restarts, jobs::kUnlimited);
  EXPECT_TRUE(c->jobs[3].when.is_signal());
  EXPECT_EQ(c->main_job, "setup") << "the first startup job with an exec is the main job by default";
}

TEST(Config, UnknownKeysSuggestTheClosestName) {
  auto c = parse("c.json5", "{\n  jobs: [ { name: \"a\", exec: \"true\", restart: 3 } ],\n}", false);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().format(),
            "c.json5:2:38: jobs[0]: unknown key \"restart\" (did you mean \"restarts\"?)\n"
            "  jobs: [ { name: \"a\", exec: \"true\", restart: 3 } ],\n"
            "                                     ^");
}

TEST(Config, ResolvesThePathFromFlagThenEnvironment) {
  EXPECT_EQ(*resolve_path("/a.json5", {{"AUTOPILOT", "/b"}}), "/a.json5");
  EXPECT_EQ(*resolve_path("", {{"AUTOPILOT", "file:///b.json5"}}), "/b.json5");
  EXPECT_EQ(*resolve_path("", {{"CONTAINERPILOT", "/c.json5"}}), "/c.json5");
  EXPECT_FALSE(resolve_path("", {}).ok());
}

TEST(Config, EnvironmentKeepsValuesWithEquals) {
  char a[] = "A=x=y", b[] = "B=", *envp[] = {a, b, nullptr};
  Env env = environment_from(envp);
  EXPECT_EQ(env["A"], "x=y");
  EXPECT_EQ(env["B"], "");
}

}  // namespace
}  // namespace autopilot::config
