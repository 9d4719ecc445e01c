// ContainerPilot v2 configs: read from their keys and translated into jobs
// and watches (config/v2.h).
#include <gtest/gtest.h>

#include "config/config.h"

namespace autopilot::config {
namespace {

using namespace std::chrono_literals;

const jobs::JobConfig* job(const Config& c, const std::string& name) {
  for (const auto& j : c.jobs)
    if (j.name == name) return &j;
  return nullptr;
}

const char* kEveryKey = R"({
  "consul": "localhost:8500",
  "logging": { "level": "DEBUG", "format": "text" },
  "preStart": "/bin/prestart.sh --now",
  "preStop": ["/bin/prestop.sh"],
  "postStop": "/bin/poststop.sh",
  "stopTimeout": 9,
  "services": [
    { "name": "nginx", "port": 80, "health": "/usr/bin/curl --fail -s localhost/health", "poll": 10, "ttl": 25,
      "timeout": "2s", "interfaces": ["static:127.0.0.1"], "tags": ["web"] }
  ],
  "backends": [
    { "name": "api", "poll": 3, "onChange": "/bin/reload.sh", "tag": "v1", "timeout": "10s" }
  ],
  "coprocesses": [
    { "command": ["consul", "agent", "-data-dir=/data"], "restarts": "unlimited" },
    { "name": "logger", "command": "logger -f", "restarts": 3 }
  ],
  "tasks": [ { "name": "backup", "command": "/bin/backup.sh", "frequency": "1500ms", "timeout": "1s" } ]
})";

TEST(V2Config, EveryKeyIsTranslatedIntoJobsAndWatches) {
  auto c = parse("v2.json", kEveryKey, false, {"nginx", "-g", "daemon off;"});
  ASSERT_TRUE(c.ok()) << c.error().format();
  EXPECT_TRUE(c->is_v2);
  EXPECT_TRUE(c->consul_given);
  EXPECT_EQ(c->logging.level, log::Level::kDebug);
  EXPECT_EQ(c->stop_timeout, 9s);
  EXPECT_EQ(c->main_job, "nginx") << "the app runs the only service";
  EXPECT_EQ(c->exit_status_job, "postStop");

  const auto* pre = job(*c, "preStart");
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->exec, (std::vector<std::string>{"/bin/prestart.sh", "--now"}));

  const auto* app = job(*c, "nginx");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->exec, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(app->when.source, events::Source::job("preStart"));
  EXPECT_EQ(app->when.event, events::Code::kExitSuccess);
  EXPECT_EQ(app->service.port, 80);
  EXPECT_EQ(app->service.tags, (std::vector<std::string>{"web"}));
  EXPECT_EQ(app->service.address, "127.0.0.1");
  ASSERT_TRUE(app->health);
  EXPECT_EQ(app->health->exec, (std::vector<std::string>{"/usr/bin/curl", "--fail", "-s", "localhost/health"}));
  EXPECT_EQ(app->health->interval, 10s);
  EXPECT_EQ(app->health->ttl, 25s);
  EXPECT_EQ(app->health->timeout, 2s);

  const auto* pre_stop = job(*c, "preStop");
  ASSERT_TRUE(pre_stop);
  EXPECT_EQ(pre_stop->when.source, events::Source::job("nginx"));
  EXPECT_EQ(pre_stop->when.event, events::Code::kStopping);
  const auto* post_stop = job(*c, "postStop");
  ASSERT_TRUE(post_stop);
  EXPECT_EQ(post_stop->when.event, events::Code::kStopped);

  ASSERT_EQ(c->watches.size(), 1u);
  EXPECT_EQ(c->watches[0].name, "api");
  EXPECT_EQ(c->watches[0].interval, 3s);
  EXPECT_EQ(c->watches[0].tag, "v1");
  const auto* on_change = job(*c, "onChange-api");
  ASSERT_TRUE(on_change);
  EXPECT_EQ(on_change->exec, (std::vector<std::string>{"/bin/reload.sh"}));
  EXPECT_EQ(on_change->when.source, events::Source::watch("api"));
  EXPECT_EQ(on_change->when.event, events::Code::kStatusChanged);
  EXPECT_TRUE(on_change->when.each);
  EXPECT_EQ(on_change->timeout, 10s);

  const auto* agent = job(*c, "consul agent -data-dir=/data");
  ASSERT_TRUE(agent) << "a coprocess without a name is named by its command";
  EXPECT_EQ(agent->restarts, jobs::kUnlimited);
  EXPECT_EQ(agent->when.source, events::Source::job("preStart"));
  const auto* logger = job(*c, "logger");
  ASSERT_TRUE(logger);
  EXPECT_EQ(logger->restarts, 3);

  const auto* backup = job(*c, "backup");
  ASSERT_TRUE(backup);
  EXPECT_EQ(backup->when.interval, 1500ms);
  EXPECT_EQ(backup->timeout, 1s);
}

TEST(V2Config, ServicesTheAppDoesNotRunAreJobsWithoutAProcess) {
  auto c = parse("v2.json", R"({
    "services": [
      { "name": "web", "port": 80, "health": "true", "poll": 1, "ttl": 3, "interfaces": "static:127.0.0.1" },
      { "name": "admin", "port": 81, "poll": 1, "ttl": 3, "interfaces": "static:127.0.0.1" }
    ]
  })", false, {"node", "app.js"});
  ASSERT_TRUE(c.ok()) << c.error().format();
  EXPECT_EQ(c->main_job, "app");
  ASSERT_TRUE(job(*c, "app"));
  EXPECT_EQ(job(*c, "app")->exec, (std::vector<std::string>{"node", "app.js"}));
  ASSERT_TRUE(job(*c, "web"));
  EXPECT_TRUE(job(*c, "web")->exec.empty());
  EXPECT_EQ(job(*c, "web")->service.port, 80);
  ASSERT_TRUE(job(*c, "admin"));
  EXPECT_EQ(job(*c, "admin")->service.port, 81);
}

TEST(V2Config, OnStartAndStopTimeoutMinusOne) {
  auto c = parse("v2.json", R"({ "onStart": "echo hi", "stopTimeout": -1 })", false, {"sleep", "1"});
  ASSERT_TRUE(c.ok()) << c.error().format();
  EXPECT_TRUE(job(*c, "preStart"));
  EXPECT_TRUE(jobs::is_kill_at_once(c->stop_timeout)) << "-1: SIGKILL at once, no SIGTERM";
  EXPECT_EQ(c->main_job, "app");
}

TEST(V2Config, OnAReloadOnlyTheAppStillWaitsForPreStart) {
  const char* text = R"({ "preStart": "true", "coprocesses": [ { "name": "agent", "command": "sleep 9" } ] })";
  auto first = parse("v2.json", text, false, {"sleep", "1"});
  auto reload = parse("v2.json", text, false, {"sleep", "1"}, true);
  ASSERT_TRUE(first.ok() && reload.ok());
  EXPECT_EQ(job(*first, "agent")->when.source, events::Source::job("preStart"));
  EXPECT_TRUE(job(*reload, "agent")->when.source.is_global()) << "restarted now, as v2's SIGHUP restarts coprocesses";
  EXPECT_EQ(job(*reload, "app")->when.source, events::Source::job("preStart"));
  EXPECT_EQ(*job(*reload, "app"), *job(*first, "app")) << "unchanged, so a reload leaves the app alone";
}

TEST(V2Config, TasksAndBackendsWaitForPreStartOutsideTheirWhen) {
  const char* text = R"({ "preStart": "true",
    "tasks": [ { "name": "t", "command": "true", "frequency": "1s" } ],
    "backends": [ { "name": "web", "poll": 1, "onChange": "true" } ],
    "coprocesses": [ { "name": "agent", "command": "sleep 9" } ] })";
  auto first = parse("v2.json", text, false, {"sleep", "1"});
  auto reload = parse("v2.json", text, false, {"sleep", "1"}, true);
  auto none = parse("v2.json", R"({ "tasks": [ { "name": "t", "command": "true", "frequency": "1s" } ] })", false);
  ASSERT_TRUE(first.ok() && reload.ok() && none.ok());
  const events::Event gate{events::Code::kExitSuccess, events::Source::job("preStart")};
  EXPECT_EQ(job(*first, "t")->gate, gate);
  EXPECT_EQ(job(*first, "t")->when.interval, 1s);
  EXPECT_EQ(job(*first, "onChange-web")->gate, gate);
  EXPECT_EQ(job(*first, "onChange-web")->when.source, events::Source::watch("web"));
  EXPECT_FALSE(job(*first, "agent")->gate) << "a coprocess waits in its `when`";
  EXPECT_FALSE(job(*reload, "t")->gate) << "preStart does not run again on a reload";
  EXPECT_FALSE(job(*none, "t")->gate);
  for (const auto* c : {&*first, &*reload, &*none}) EXPECT_TRUE(job(*c, "t")->pauses_in_maintenance);
  EXPECT_TRUE(job(*first, "onChange-web")->pauses_in_maintenance);
  EXPECT_FALSE(job(*first, "agent")->pauses_in_maintenance) << "v2 coprocesses run on in maintenance";
  EXPECT_FALSE(job(*first, "app")->pauses_in_maintenance);
}

TEST(V2Config, EtcdBecomesTheEtcdCatalog) {
  auto c = parse("v2.json", R"({ "etcd": { "endpoints": ["http://127.0.0.1:2379"], "prefix": "/cp" } })", false);
  ASSERT_TRUE(c.ok()) << c.error().format();
  ASSERT_TRUE(c->discovery.etcd);
  EXPECT_EQ(c->discovery.etcd->prefix, "/cp/");
  EXPECT_EQ(c->discovery.etcd->endpoints, (std::vector<std::string>{"http://127.0.0.1:2379"}));
}

std::string error_of(const std::string& text, std::vector<std::string> app = {}) {
  auto c = parse("v2.json", text, false, app);
  return c ? "ok" : c.error().format();
}

TEST(V2Config, ErrorsKeepTheV2FilesPositionsAndSayHowItWasRead) {
  EXPECT_EQ(error_of("{\n  \"services\": [ { \"name\": \"a\", \"port\": 80, \"pol\": 1 } ]\n}"),
            "v2.json:2:44: services[0]: unknown key \"pol\" (did you mean \"poll\"?); read as a ContainerPilot v2 "
            "config because of `services`\n"
            "  \"services\": [ { \"name\": \"a\", \"port\": 80, \"pol\": 1 } ]\n"
            "                                           ^");
  EXPECT_EQ(error_of("{\n  \"preStart\": \"true\",\n  \"jobs\": []\n}"),
            "v2.json:3:3: `jobs` is a ContainerPilot v3 key, but this file also has `preStart`, a v2 key: a config "
            "is written in one or the other (the README's \"ContainerPilot v2 configs\" shows both)\n"
            "  \"jobs\": []\n"
            "  ^");
  EXPECT_EQ(error_of("{ jobs: [], bogus: 1 }"),
            "v2.json:1:13: unknown key \"bogus\"; read as a ContainerPilot v3 config because of `jobs`\n"
            "{ jobs: [], bogus: 1 }\n"
            "            ^");
  // A value the v3 decoders refuse is still shown where the v2 file has it.
  EXPECT_EQ(error_of("{\n  \"tasks\": [ { \"command\": \"true\", \"frequency\": \"5s\", \"timeout\": \"soon\" } ]\n}"),
            "v2.json:2:65: tasks[0].timeout: time: invalid duration \"soon\"\n"
            "  \"tasks\": [ { \"command\": \"true\", \"frequency\": \"5s\", \"timeout\": \"soon\" } ]\n"
            "                                                                ^");
}

TEST(V2Config, TheAppOnTheCommandLineNeedsAV2Config) {
  EXPECT_EQ(error_of("{ jobs: [] }", {"nginx"}),
            "an app on the command line (\"nginx\") needs a ContainerPilot v2 config; v2.json is read as a "
            "ContainerPilot v3 config because of `jobs`, where the app is a job");
}

}  // namespace
}  // namespace autopilot::config

namespace autopilot::config {
namespace {

TEST(V2Config, TelemetrySensorsBecomeMetricsAndPeriodicJobsThatSetThem) {
  auto c = parse("v2.json", R"({
    "telemetry": {
      "port": 9191, "interfaces": ["static:127.0.0.1"], "tags": ["op"],
      "sensors": [
        { "namespace": "app", "subsystem": "db", "name": "load", "help": "db load", "type": "gauge",
          "poll": 5, "check": "/bin/load.sh --db", "timeout": "2s" },
        { "name": "hits", "help": "hits", "type": "counter", "poll": 1, "check": ["/bin/hits.sh"] }
      ]
    }
  })", false, {"app"});
  ASSERT_TRUE(c.ok()) << c.error().format();
  ASSERT_TRUE(c->telemetry);
  EXPECT_EQ(c->telemetry->port, 9191);
  EXPECT_EQ(c->telemetry->address, "127.0.0.1");
  EXPECT_EQ(c->telemetry->tags, std::vector<std::string>{"op"});
  EXPECT_EQ(c->telemetry->metrics,
            (std::vector<telemetry::MetricConfig>{{"app_db_load", "db load", metrics::Type::kGauge},
                                                  {"hits", "hits", metrics::Type::kCounter}}));
  const auto* load = job(*c, "sensor-app_db_load");
  ASSERT_TRUE(load);
  EXPECT_EQ(load->exec, (std::vector<std::string>{"/bin/load.sh", "--db"}));
  EXPECT_EQ(load->when.interval, 5s);
  EXPECT_EQ(load->timeout, 2s);
  EXPECT_EQ(load->sensor_metric, "app_db_load");
  const auto* hits = job(*c, "sensor-hits");
  ASSERT_TRUE(hits);
  EXPECT_EQ(hits->when.interval, 1s);
  EXPECT_EQ(hits->timeout, 1s) << "v3's default for a periodic job: its interval";
  EXPECT_EQ(hits->sensor_metric, "hits");
  EXPECT_TRUE(hits->pauses_in_maintenance) << "a poller, as v2's tasks";
  EXPECT_EQ(job(*c, "app")->sensor_metric, "");
}

TEST(V2Config, TelemetryErrorsNameTheV2Path) {
  auto c = parse("v2.json", R"({ "telemetry": { "sensors": [ { "name": "x", "type": "gauge", "poll": 5 } ] } })",
                 false, {"app"});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().format().find("needs 'check'"), std::string::npos) << c.error().format();
}

}  // namespace
}  // namespace autopilot::config
