#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

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
  EXPECT_EQ(c->main_job, "app") << "setup is a step the app waits for, so the app is the main job";
}

TEST(Config, ANegativeTopLevelStopTimeoutMeansKillAtOnce) {
  auto c = parse("c.json5", R"({ stopTimeout: -1, jobs: [ { name: "app", exec: "sleep 9" } ] })", false);
  ASSERT_TRUE(c.ok()) << c.error().format();
  EXPECT_TRUE(jobs::is_kill_at_once(c->stop_timeout)) << "ContainerPilot v3: negative, no grace before SIGKILL";
}

std::string main_job_of(const std::string& jobs) {
  auto c = parse("c.json5", "{ jobs: " + jobs + " }", false);
  if (!c) return "error: " + c.error().format();
  return c->main_job;
}

TEST(MainJob, TheAutopilotPatternsAppIsTheMainJobNotItsPreStart) {
  EXPECT_EQ(main_job_of(R"([
    { name: "consul-agent", exec: "consul agent -data-dir=/data", restarts: "unlimited" },
    { name: "preStart", exec: "/bin/prestart.sh" },
    { name: "app", exec: "nginx", port: 80, health: { exec: "true", interval: 5, ttl: 10 },
      when: { source: "preStart", once: "exitSuccess" } },
    { name: "preStop", exec: "/bin/prestop.sh", when: { source: "app", once: "stopping" } },
    { name: "postStop", exec: "/bin/poststop.sh", when: { source: "app", once: "stopped" } },
    { name: "sensor", exec: "/bin/sensor.sh", when: { interval: "5s" } },
    { name: "onChange", exec: "/bin/reload.sh", when: { source: "SIGHUP" } },
  ])"), "app");
}

TEST(MainJob, AnUnregisteredAppAfterItsPreStartIsChosenOverACoprocess) {
  EXPECT_EQ(main_job_of(R"([
    { name: "consul-agent", exec: "consul agent", restarts: "unlimited" },
    { name: "preStart", exec: "/bin/prestart.sh" },
    { name: "worker", exec: "/bin/worker", when: { source: "preStart", once: "exitSuccess" } },
  ])"), "worker");
}

TEST(MainJob, AHelperTheAppWaitsOnIsNotTheMainJob) {
  EXPECT_EQ(main_job_of(R"([
    { name: "agent", exec: "consul agent", port: 8500, health: { exec: "true", interval: 5, ttl: 10 } },
    { name: "app", exec: "node app.js", port: 80, health: { exec: "true", interval: 5, ttl: 10 },
      when: { source: "agent", once: "healthy" } },
  ])"), "app");
}

TEST(MainJob, AReactionToTheAppsFailureIsNotTheMainJob) {
  EXPECT_EQ(main_job_of(R"([
    { name: "app", exec: "node app.js" },
    { name: "alert", exec: "/bin/alert.sh", when: { source: "app", once: "exitFailed" } },
  ])"), "app");
}

TEST(MainJob, HooksPeriodicAndSignalJobsAreNeverChosen) {
  EXPECT_EQ(main_job_of(R"([
    { name: "tick", exec: "true", when: { interval: "1s" } },
    { name: "hup", exec: "true", when: { source: "SIGHUP" } },
    { name: "bye", exec: "true", when: { once: "shutdown" } },
    { name: "holder", port: 80, health: { exec: "true", interval: 5, ttl: 10 } },
  ])"), "");
  EXPECT_EQ(main_job_of(R"([ { name: "only", exec: "true" } ])"), "only");
}

// `when.after` (ours): the job's start events and ticks count only once
// this event has been seen (what a v2 config's tasks and backends need).
TEST(Config, WhenAfterGatesAJobOnASecondEvent) {
  auto c = parse("c.json5", R"({
    jobs: [
      { name: "preStart", exec: "/bin/prestart.sh" },
      { name: "app", exec: "nginx", when: { source: "preStart", once: "exitSuccess" } },
      { name: "reload", exec: "true",
        when: { source: "watch.api", each: "changed", after: { source: "preStart", once: "exitSuccess" } } },
      { name: "tick", exec: "true", when: { interval: "1s", after: { source: "preStart", once: "exitSuccess" } } },
    ],
    watches: [ { name: "api", interval: 5 } ],
  })", false);
  ASSERT_TRUE(c.ok()) << c.error().format();
  const events::Event after_prestart{events::Code::kExitSuccess, events::Source::job("preStart")};
  EXPECT_FALSE(c->jobs[1].gate);
  EXPECT_EQ(c->jobs[2].gate, after_prestart);
  EXPECT_EQ(c->jobs[2].when.source, events::Source::watch("api"));
  EXPECT_TRUE(c->jobs[2].when.each);
  EXPECT_EQ(c->jobs[3].gate, after_prestart);
  EXPECT_EQ(c->jobs[3].when.interval, 1s);
  EXPECT_EQ(c->main_job, "app");
  // A job waited on only through `after` is a step, not the main job.
  EXPECT_EQ(main_job_of(R"([
    { name: "setup", exec: "/bin/setup.sh" },
    { name: "tick", exec: "true", when: { interval: "1s", after: { source: "setup", once: "exitSuccess" } } },
  ])"), "");
}

TEST(Config, WhenAfterErrorsNameThePlace) {
  EXPECT_EQ(main_job_of(R"([{ name: "a", exec: "true", when: { after: { source: "nope", once: "exitSuccess" } } }])"),
            "error: c.json5:1:62: jobs[0].when.after.source: \"nope\" is not a job, a job's check (check.JOB), a "
            "watch (watch.NAME), a template (template.NAME), a file (file.NAME), global, SIGHUP or SIGUSR2\n"
            "{ jobs: [{ name: \"a\", exec: \"true\", when: { after: { source: \"nope\", once: \"exitSuccess\" } } }] }\n"
            "                                                             ^");
  EXPECT_EQ(main_job_of(R"([{ name: "a", exec: "true", when: { after: { source: "a" } } }])"),
            "error: c.json5:1:52: jobs[0].when.after: needs a 'source' and a 'once' event: what must have happened "
            "before the job may start\n"
            "{ jobs: [{ name: \"a\", exec: \"true\", when: { after: { source: \"a\" } } }] }\n"
            "                                                   ^");
  std::string cycle = main_job_of(R"([
    { name: "a", exec: "true", when: { after: { source: "b", once: "exitSuccess" } } },
    { name: "b", exec: "true", when: { source: "a", once: "exitSuccess" } },
  ])");
  EXPECT_NE(cycle.find("jobs wait for each other in a cycle and none can start: a -> b -> a"), std::string::npos)
      << cycle;
}

TEST(Config, UnknownKeysSuggestTheClosestName) {
  auto c = parse("c.json5", "{\n  jobs: [ { name: \"a\", exec: \"true\", restart: 3 } ],\n}", false);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().format(),
            "c.json5:2:38: jobs[0]: unknown key \"restart\" (did you mean \"restarts\"?); read as a ContainerPilot "
            "v3 config because of `jobs`\n"
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

namespace autopilot::config {
namespace {

TEST(Telemetry, DecodesContainerPilotsBlock) {
  auto c = parse("c.json5", R"({
    telemetry: {
      port: 9191, interfaces: "static:127.0.0.1", tags: ["dev"],
      metrics: [
        { namespace: "app", subsystem: "db", name: "queries", help: "queries run", type: "counter" },
        { name: "conns", type: "gauge" },
        { namespace: "app", name: "latency", help: "h", type: "histogram" },
        { subsystem: "x", name: "y", help: "h", type: "summary" },
      ],
    },
  })", false);
  ASSERT_TRUE(c.ok()) << c.error().format();
  ASSERT_TRUE(c->telemetry);
  EXPECT_EQ(c->telemetry->port, 9191);
  EXPECT_EQ(c->telemetry->address, "127.0.0.1");
  EXPECT_EQ(c->telemetry->tags, std::vector<std::string>{"dev"});
  using telemetry::MetricConfig;
  EXPECT_EQ(c->telemetry->metrics,
            (std::vector<MetricConfig>{{"app_db_queries", "queries run", metrics::Type::kCounter},
                                       {"conns", "", metrics::Type::kGauge},
                                       {"app_latency", "h", metrics::Type::kHistogram},
                                       {"x_y", "h", metrics::Type::kSummary}}));
}

TEST(Telemetry, PortDefaultsTo9090) {
  auto c = parse("c.json5", R"({ telemetry: { interfaces: ["static:127.0.0.1"] } })", false);
  ASSERT_TRUE(c.ok()) << c.error().format();
  EXPECT_EQ(c->telemetry->port, 9090);
  EXPECT_FALSE(parse("c.json5", "{ jobs: [] }", false)->telemetry);
}

std::string telemetry_error(const std::string& block) {
  auto c = parse("c.json5", "{ telemetry: " + block + " }", false);
  if (c) return "ok";
  return c.error().format();
}

TEST(Telemetry, ErrorsNameThePlace) {
  EXPECT_EQ(telemetry_error(R"({ interfaces: "static:127.0.0.1", metrics: [{ name: "a", type: "meter" }] })"),
            "c.json5:1:77: telemetry.metrics[0].type: invalid metric type: \"meter\" (use counter, gauge, histogram "
            "or summary)\n"
            "{ telemetry: { interfaces: \"static:127.0.0.1\", metrics: [{ name: \"a\", type: \"meter\" }] } }\n"
            "                                                                            ^");
  EXPECT_EQ(telemetry_error(R"({ port: 0 })"),
            "c.json5:1:22: telemetry.port: must be a port number (1-65535)\n"
            "{ telemetry: { port: 0 } }\n"
            "                     ^");
  EXPECT_EQ(telemetry_error(R"({ prot: 1 })"),
            "c.json5:1:16: telemetry: unknown key \"prot\"; read as a ContainerPilot v3 config (it has no v2 key "
            "such as `services`)\n"
            "{ telemetry: { prot: 1 } }\n"
            "               ^");
}

TEST(Config, FilesAreDecodedBeforeJobsThatWaitOnThem) {
  auto c = parse("c.json5", R"({
  files: [{ name: "cert", path: "/etc/ssl/certs/ssl.crt", sources: [{ stash: "/ssl/ssl.crt" }, { keep: true }] }],
  jobs: [{ name: "reload", exec: "true", when: { source: "file.cert", each: "changed" } }],
})", false);
  ASSERT_TRUE(c) << c.error().format();
  ASSERT_EQ(c->files.size(), 1u);
  EXPECT_EQ(c->files[0].name, "cert");
  EXPECT_TRUE(c->needs_catalog()) << "a stash source without a server finds it in the catalog";
  auto served = parse("c.json5", R"({
  files: [{ path: "/a", sources: [{ stash: "/a", server: "http://stashbox:8080" }, { env: "A" }] }],
  jobs: [{ name: "app", exec: "true" }],
})", false);
  ASSERT_TRUE(served) << served.error().format();
  EXPECT_FALSE(served->needs_catalog());
}

// --- secrets in errors -------------------------------------------------------

// Loads `text` from a file over `env`; the error, formatted as printed.
std::string load_error(const std::string& text, const Env& env) {
  char tmpl[] = "/tmp/config_test.XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/c.json5";
  std::ofstream(path) << text;
  auto c = load(path, env, LoadOptions{});
  std::filesystem::remove_all(dir);
  return c ? std::string("(loaded)") : c.error().format();
}

TEST(Config, AnErrorExcerptShowsTheLineAsWrittenNotTheRenderedSecret) {
  Env env{{"PW", "hunter2-secret"}};
  std::string error = load_error("{\n  jobs: [{ name: \"app\", exec: \"true\", pasword: \"{{ .PW }}\" }],\n}\n", env);
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  EXPECT_NE(error.find("pasword: \"{{ .PW }}\""), std::string::npos) << error;
}

TEST(Config, APasswordWithAQuoteThatBreaksTheJsonIsNotEchoed) {
  Env env{{"PW", "pa\"ss, w0rd: x"}};
  std::string error = load_error("{\n  jobs: [{ name: \"app\", exec: [\"login\", \"{{ .PW }}\"] }],\n}\n", env);
  EXPECT_NE(error, "(loaded)");
  EXPECT_EQ(error.find("w0rd"), std::string::npos) << error;
  EXPECT_NE(error.find("{{ .PW }}"), std::string::npos) << error;
}

TEST(Config, ValuesFromTheEnvironmentAreMaskedInTheMessage) {
  Env env{{"EVERY", "sometimes-s3cret"}};
  std::string error =
      load_error("{\n  jobs: [{ name: \"app\", exec: \"true\", when: { interval: \"{{ .EVERY }}\" } }],\n}\n", env);
  EXPECT_NE(error, "(loaded)");
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
}

TEST(Config, TheConfigTemplatesWorkIsBounded) {
  // Two nested loops of 100000 that print nothing: 80 s without a limit.
  std::string error = load_error(
      "{\n  jobs: [{ name: \"app\", exec: \"true\" }],\n  {{ range loop 100000 }}{{ range loop 100000 }}{{ end }}{{ end }}\n}\n",
      Env{});
  EXPECT_NE(error.find("c.json5:3:"), std::string::npos) << error;
  EXPECT_NE(error.find("exceeds the limit of 20000000 steps"), std::string::npos) << error;
}

}  // namespace
}  // namespace autopilot::config

namespace autopilot::config {
namespace {

TEST(Control, TheSocketIsTheBlocksOrContainerPilotsDefault) {
  auto given = parse("c.json5", R"({ control: { socket: "/tmp/ap.sock" } })", false);
  ASSERT_TRUE(given.ok()) << given.error().format();
  EXPECT_EQ(given->control, (control::ControlConfig{.socket = "/tmp/ap.sock", .is_given = true}));
  auto empty_block = parse("c.json5", "{ control: {} }", false);
  ASSERT_TRUE(empty_block.ok()) << empty_block.error().format();
  EXPECT_EQ(empty_block->control, (control::ControlConfig{.socket = "/var/run/containerpilot.socket", .is_given = true}));
  auto none = parse("c.json5", "{ jobs: [] }", false);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->control, (control::ControlConfig{.socket = "/var/run/containerpilot.socket", .is_given = false}));
}

}  // namespace
}  // namespace autopilot::config
