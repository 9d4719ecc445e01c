// ContainerPilot v2 configs on the real binary: the app from the command
// line, v2's exit statuses, backends' onChange, coprocesses and tasks.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "discovery/etcd/blocking_http.h"
#include "harness.h"

namespace autopilot::testing {
namespace {

Process run_v2(const TempDir& dir, const std::string& config, std::vector<std::string> app,
               std::vector<std::string> env = {}) {
  std::string path = dir.write("containerpilot.json", config);
  std::vector<std::string> argv{autopilot_bin(), "-config", "file://" + path, "--discovery-dir",
                                dir.path() + "/catalog"};
  argv.insert(argv.end(), app.begin(), app.end());
  return Process(argv, std::move(env));
}

TEST(V2, TheAppFromTheCommandLineRunsWithTemplatedArgumentsAndGivesItsStatus) {
  TempDir dir;
  auto p = run_v2(dir, R"({ "preStart": ["sh", "-c", "echo prestart-ran"] })",
                  {"sh", "-c", "echo app-ran {{ .GREETING }}; exit 7"}, {"GREETING=hello"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 7) << p.output();
  int pre = p.find("prestart-ran"), app = p.find("app-ran hello$");
  ASSERT_GE(pre, 0) << p.output();
  EXPECT_GT(app, pre) << p.output();
}

TEST(V2, AFailingPreStartEndsTheContainerWithItsStatusAndTheAppNeverRuns) {
  TempDir dir;
  auto p = run_v2(dir, R"({ "preStart": ["sh", "-c", "exit 3"], "postStop": "true" })", {"sh", "-c", "echo app-ran"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 3) << p.output();
  EXPECT_EQ(p.find("app-ran"), -1) << p.output();
  EXPECT_GE(p.find("main job app can never start: preStart failed \\(status 3\\)"), 0) << p.output();
}

TEST(V2, AFailingPostStopGivesItsStatusAfterTheApp) {
  TempDir dir;
  auto p = run_v2(dir, R"({ "postStop": ["sh", "-c", "echo poststop-ran; exit 4"] })", {"sh", "-c", "exit 0"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 4) << p.output();
  EXPECT_GE(p.find("poststop-ran"), 0) << p.output();

  TempDir ok;
  auto q = run_v2(ok, R"({ "postStop": "true" })", {"sh", "-c", "exit 5"});
  auto exit_q = q.wait_exit();
  ASSERT_TRUE(exit_q) << q.output();
  EXPECT_EQ(exit_q->code, 5) << "a postStop that succeeds leaves the app's status" << q.output();
}

TEST(V2, CoprocessesRestartAsToldAndTasksRunOnTheirFrequencyWithinTheirTimeout) {
  TempDir dir;
  auto p = run_v2(dir, R"({
    "coprocesses": [
      { "name": "forever", "command": ["sh", "-c", "echo forever-ran; sleep 0.05"], "restarts": "unlimited" },
      { "name": "once", "command": ["sh", "-c", "echo once-ran"], "restarts": "never" },
      { "name": "twice", "command": ["sh", "-c", "echo twice-ran"], "restarts": 2 }
    ],
    "tasks": [
      { "name": "tick", "command": ["sh", "-c", "echo tick-ran"], "frequency": "100ms" },
      { "name": "slow", "command": ["sh", "-c", "echo slow-began; sleep 5; echo slow-ended"], "frequency": "10s",
        "timeout": "200ms" }
    ]
  })", {"sh", "-c", "sleep 1.2"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 0) << p.output();
  EXPECT_GE(p.count("forever-ran"), 4) << p.output();
  EXPECT_EQ(p.count("once-ran"), 1) << p.output();
  EXPECT_EQ(p.count("twice-ran"), 3) << p.output();
  int ticks = p.count("tick-ran");
  EXPECT_GE(ticks, 8) << p.output();
  EXPECT_LE(ticks, 14) << p.output();
  EXPECT_EQ(p.count("slow-began"), 1) << p.output();
  EXPECT_EQ(p.count("slow-ended"), 0) << p.output();
  EXPECT_GE(p.find("job slow: .*killed by signal 9"), 0) << "the task's timeout killed it" << p.output();
}

// v2's `stopTimeout: -1`: on SIGTERM the app gets SIGKILL at once, never a
// SIGTERM it could act on; preStop still runs first.
TEST(V2, StopTimeoutMinusOneKillsTheAppAtOnceWithoutSigterm) {
  TempDir dir;
  auto p = run_v2(dir, R"({ "stopTimeout": -1, "preStop": ["sh", "-c", "echo prestop-ran"] })",
                  {"sh", "-c", "trap 'echo app-got-term; exit 0' TERM; echo app-up; sleep 60 & wait"});
  ASSERT_TRUE(p.wait_seen("app-up")) << p.output();
  p.signal(SIGTERM);
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 128 + SIGKILL) << p.output();
  EXPECT_GE(p.find("prestop-ran"), 0) << p.output();
  EXPECT_EQ(p.find("app-got-term"), -1) << p.output();
}

// v2 runs tasks only once preStart has succeeded, as it starts everything
// after preStart.
TEST(V2, TasksBeginOnlyAfterPreStartSucceeded) {
  TempDir dir;
  auto p = run_v2(dir, R"({
    "preStart": ["sh", "-c", "sleep 0.4; echo prestart-done"],
    "tasks": [ { "name": "tick", "command": ["sh", "-c", "echo tick-ran"], "frequency": "50ms" } ]
  })", {"sh", "-c", "echo app-up; exec sleep 60"});
  ASSERT_TRUE(p.wait_seen("app-up")) << p.output();
  ASSERT_TRUE(p.wait_seen("tick-ran")) << p.output();
  EXPECT_LT(p.find("prestart-done"), p.find("tick-ran")) << p.output();
  EXPECT_GE(p.find("prestart-done"), 0) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit());
}

TEST(V2, BackendsRunOnChangeWhenAnInstanceJoinsAndLeaves) {
  TempDir dir;
  auto watcher = run_v2(dir, R"({
    "consul": "localhost:8500",
    "backends": [ { "name": "web", "poll": 1, "onChange": ["sh", "-c", "echo WEB-CHANGED"] } ]
  })", {"sleep", "60"});
  ASSERT_TRUE(watcher.wait_for("main job: app")) << watcher.output();
  ASSERT_TRUE(watcher.wait_for("watch web: no healthy instances yet")) << watcher.output();
  EXPECT_GE(watcher.find("the `consul` key is ignored"), 0) << watcher.output();

  TempDir sdir;
  std::string config = R"({
    "services": [ { "name": "web", "port": 8080, "health": "true", "poll": 1, "ttl": 3,
                    "interfaces": "static:127.0.0.1" } ]
  })";
  std::string path = sdir.write("containerpilot.json", config);
  Process service({autopilot_bin(), "-config", path, "--discovery-dir", dir.path() + "/catalog", "sleep", "60"});
  EXPECT_EQ(watcher.count("WEB-CHANGED"), 0) << watcher.output();
  ASSERT_TRUE(service.wait_for("registered web-")) << service.output();
  ASSERT_TRUE(watcher.wait_for("WEB-CHANGED")) << watcher.output();
  int joined = watcher.count("WEB-CHANGED");

  service.signal(SIGTERM);
  ASSERT_TRUE(service.wait_exit()) << service.output();
  ASSERT_TRUE(watcher.wait_until([&] { return watcher.count("WEB-CHANGED") > joined; })) << watcher.output();
  watcher.signal(SIGTERM);
  ASSERT_TRUE(watcher.wait_exit());
}

// v2 polls backends only after preStart has ended well, so onChange never
// runs while preStart does: here the watched service is already in the
// catalog, the watch sees it while preStart blocks on a file, and onChange
// runs only once preStart has exited. The debug log shows the job starting
// in the same turn of the loop as the event that starts it.
const char* kBlockingPreStartV2 = R"({{
  "logging": {{ "level": "DEBUG" }},
  "preStart": ["sh", "-c", "while [ ! -e {} ]; do sleep 0.02; done; echo PRESTART-DONE"],
  "backends": [ {{ "name": "web", "poll": 1, "onChange": ["sh", "-c", "echo WEB-CHANGED"] }} ]
}})";

Process registered_web(const TempDir& dir, const TempDir& sdir) {
  std::string path = sdir.write("containerpilot.json", R"({
    "services": [ { "name": "web", "port": 8080, "health": "true", "poll": 1, "ttl": 5,
                    "interfaces": "static:127.0.0.1" } ]
  })");
  return Process({autopilot_bin(), "-config", path, "--discovery-dir", dir.path() + "/catalog", "sleep", "60"});
}

void expect_on_change_only_after_prestart(Process& watcher, const TempDir& dir) {
  ASSERT_TRUE(watcher.wait_for("watch web: changed: 1 healthy instance")) << watcher.output();
  ASSERT_EQ(watcher.find("PRESTART-DONE"), -1) << watcher.output();
  dir.write("go", "");
  ASSERT_TRUE(watcher.wait_seen("job preStart: pid [0-9]+ ")) << watcher.output();
  ASSERT_TRUE(watcher.wait_seen("WEB-CHANGED")) << watcher.output();
  int prestart_exit = watcher.find("job preStart: pid [0-9]+ ");
  EXPECT_GT(watcher.find("job onChange-web: started"), prestart_exit) << watcher.output();
  EXPECT_GT(watcher.find("WEB-CHANGED"), prestart_exit) << watcher.output();
  EXPECT_EQ(watcher.count("job onChange-web: started"), 1) << watcher.output();
}

TEST(V2, BackendsOnChangeWaitsForPreStartWhenTheServiceIsAlreadyThere) {
  TempDir dir, sdir;
  Process service = registered_web(dir, sdir);
  ASSERT_TRUE(service.wait_for("registered web-")) << service.output();
  const std::string go = dir.path() + "/go";
  auto watcher = run_v2(dir, fmt::format(fmt::runtime(kBlockingPreStartV2), go), {"sleep", "60"});
  expect_on_change_only_after_prestart(watcher, dir);
  for (Process* p : {&watcher, &service}) {
    p->signal(SIGTERM);
    EXPECT_TRUE(p->wait_exit()) << p->output();
  }
}

// The same config through `autopilot migrate`: its v3 output says the wait
// (`when.after`) and runs the same way.
TEST(V2, MigratedBackendsOnChangeWaitsForPreStartToo) {
  TempDir dir, sdir;
  Process service = registered_web(dir, sdir);
  ASSERT_TRUE(service.wait_for("registered web-")) << service.output();
  const std::string go = dir.path() + "/go";
  std::string v2 = dir.write("containerpilot.json", fmt::format(fmt::runtime(kBlockingPreStartV2), go));
  std::string v3 = dir.path() + "/v3.json5";
  Process migrate({autopilot_bin(), "migrate", "-config", v2, "-out", v3, "sleep", "60"});
  auto exit = migrate.wait_exit();
  ASSERT_TRUE(exit && exit->code == 0) << migrate.output();
  Process watcher({autopilot_bin(), "-config", v3, "--discovery-dir", dir.path() + "/catalog"});
  expect_on_change_only_after_prestart(watcher, dir);
  for (Process* p : {&watcher, &service}) {
    p->signal(SIGTERM);
    EXPECT_TRUE(p->wait_exit()) << p->output();
  }
}

// v2's SIGUSR1 toggles maintenance: the instance leaves the healthy lists and
// comes back; the other autopilot's backend sees both.
TEST(V2, Sigusr1TogglesMaintenanceAndTheInstanceLeavesAndReturns) {
  TempDir dir;
  auto watcher = run_v2(dir, R"({
    "backends": [ { "name": "web", "poll": 1, "onChange": ["sh", "-c", "echo WEB-CHANGED"] } ]
  })", {"sleep", "60"});
  ASSERT_TRUE(watcher.wait_for("watch web: no healthy instances yet")) << watcher.output();
  TempDir sdir;
  std::string path = sdir.write("containerpilot.json", R"({
    "services": [ { "name": "web", "port": 8080, "health": "true", "poll": 1, "ttl": 3,
                    "interfaces": "static:127.0.0.1" } ]
  })");
  Process service({autopilot_bin(), "-config", path, "--discovery-dir", dir.path() + "/catalog", "sleep", "60"});
  ASSERT_TRUE(watcher.wait_for("changed: 1 healthy instance")) << watcher.output();

  service.signal(SIGUSR1);
  ASSERT_TRUE(service.wait_for("entering maintenance")) << service.output();
  ASSERT_TRUE(watcher.wait_for("changed: 0 healthy instances")) << watcher.output();
  service.signal(SIGUSR1);
  ASSERT_TRUE(service.wait_for("leaving maintenance")) << service.output();
  ASSERT_TRUE(watcher.wait_for("changed: 1 healthy instance")) << watcher.output();
  EXPECT_TRUE(watcher.wait_until([&] { return watcher.count("WEB-CHANGED") == 3; })) << watcher.output();
  service.signal(SIGTERM);
  watcher.signal(SIGTERM);
  ASSERT_TRUE(service.wait_exit());
  ASSERT_TRUE(watcher.wait_exit());
}

// In v2's maintenance the pollers' actions stop: tasks do not run until the
// next SIGUSR1. The app's own beats measure the time that passed.
TEST(V2, TasksDoNotRunInMaintenance) {
  TempDir dir;
  auto p = run_v2(dir, R"({
    "tasks": [ { "name": "tick", "command": ["sh", "-c", "echo tick-ran"], "frequency": "50ms" } ]
  })", {"sh", "-c", "while :; do echo app-beat; sleep 0.05; done"});
  ASSERT_TRUE(p.wait_until([&] { return p.count("tick-ran") >= 2; })) << p.output();
  p.signal(SIGUSR1);
  ASSERT_TRUE(p.wait_seen("entering maintenance")) << p.output();
  int ticks = p.count("tick-ran"), beats = p.count("app-beat");
  ASSERT_TRUE(p.wait_until([&] { return p.count("app-beat") >= beats + 8; })) << p.output();
  EXPECT_LE(p.count("tick-ran"), ticks + 1) << "at most a run already started" << p.output();
  p.signal(SIGUSR1);
  ASSERT_TRUE(p.wait_seen("leaving maintenance")) << p.output();
  ASSERT_TRUE(p.wait_until([&] { return p.count("tick-ran") >= ticks + 3; })) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit());
}

// v2's SIGHUP reloads the config: the app is left alone, new blocks start.
TEST(V2, SighupReloadsTheConfigAndLeavesTheAppAlone) {
  TempDir dir;
  auto p = run_v2(dir, R"({ "preStart": ["sh", "-c", "echo prestart-ran"] })",
                  {"sh", "-c", "echo app-up; exec sleep 60"});
  ASSERT_TRUE(p.wait_seen("app-up")) << p.output();
  dir.write("containerpilot.json", R"({
    "preStart": ["sh", "-c", "echo prestart-ran"],
    "coprocesses": [ { "name": "added", "command": ["sh", "-c", "echo added-ran; exec sleep 60"] } ]
  })");
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_seen("added-ran")) << p.output();
  EXPECT_EQ(p.count("app-up"), 1) << p.output();
  EXPECT_EQ(p.count("prestart-ran"), 1) << p.output();
  p.signal(SIGTERM);
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
}

// v2 gives children the app's pid, as CONTAINERPILOT_APP_PID.
TEST(V2, ChildrenGetTheAppsPid) {
  TempDir dir;
  auto p = run_v2(dir, R"({
    "tasks": [ { "name": "show", "command": ["sh", "-c", "echo apppid=$CONTAINERPILOT_APP_PID"], "frequency": "50ms" } ]
  })", {"sh", "-c", "echo mypid=$$; exec sleep 60"});
  auto line = p.wait_for("mypid=\\d+");
  ASSERT_TRUE(line) << p.output();
  std::string pid = line->substr(line->find("mypid=") + 6);
  ASSERT_TRUE(p.wait_seen("apppid=" + pid + "$")) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit());
}

TEST(V2, SensorsSetTheirMetricFromTheCheckOutputAndDropWhatIsNotANumber) {
  TempDir dir;
  int port = discovery::etcd::testing::free_port("127.0.0.1");
  auto p = run_v2(dir, fmt::format(R"({{
    "telemetry": {{
      "port": {}, "interfaces": ["static:127.0.0.1"],
      "sensors": [
        {{ "namespace": "app", "name": "load", "help": "load", "type": "gauge", "poll": 1,
          "check": ["sh", "-c", "echo 'warning: slow disk' >&2; echo '  42.5 '"] }},
        {{ "namespace": "app", "name": "requests_total", "help": "requests", "type": "counter", "poll": 1,
          "check": ["sh", "-c", "echo 3"] }},
        {{ "namespace": "app", "name": "junk", "help": "junk", "type": "gauge", "poll": 1,
          "check": ["sh", "-c", "echo 12ms"] }}
      ]
    }}
  }})", port), {"sleep", "30"});
  std::string metrics;
  ASSERT_TRUE(p.wait_until([&] {
    auto r = discovery::etcd::testing::http_request(fmt::format("http://127.0.0.1:{}", port), "GET", "/metrics");
    metrics = r ? r->body : "";
    return metrics.find("app_load 42.5\n") != std::string::npos &&
           metrics.find("app_requests_total 6\n") != std::string::npos;
  }, std::chrono::seconds(8))) << metrics << p.output();
  EXPECT_NE(metrics.find("app_junk 0\n"), std::string::npos) << "never set: " << metrics;
  // Its stderr is not part of the value (v2 read stdout alone); it reaches ours.
  EXPECT_TRUE(p.wait_seen("warning: slow disk")) << p.output();
  EXPECT_TRUE(p.wait_seen("job sensor-app_junk: sensor output \"12ms\" is not one number; app_junk not recorded"))
      << p.output();
  // A sensor's output is its value, not logged. Each line is looked at after
  // its timestamp, which may hold "42.5" itself (…T02:32:42.5…).
  std::istringstream lines(p.output());
  for (std::string line; std::getline(lines, line);) {
    auto text = line.substr(std::min(line.find(' '), line.size()));
    EXPECT_EQ(text.find("42.5"), std::string::npos) << "a sensor's output is its value, not logged: " << line;
  }
  // The endpoint registered as ContainerPilot v2 did (--discovery-dir names the catalog).
  EXPECT_TRUE(p.wait_seen("job containerpilot: registered")) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

}  // namespace
}  // namespace autopilot::testing
