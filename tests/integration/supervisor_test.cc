// The supervisor end to end: the real binary, real processes.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "harness.h"

namespace autopilot::testing {
namespace {

TEST(Supervisor, RunsAJobChainInOrderAndExitsWithTheMainJobsStatus) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    jobs: [
      { name: "prepare", exec: "echo prepare-ran" },
      { name: "migrate", exec: "echo migrate-ran", when: { source: "prepare", once: "exitSuccess" } },
      { name: "app", exec: ["sh", "-c", "echo app-ran; exit 3"], when: { source: "migrate", once: "exitSuccess" } },
    ],
    mainJob: "app",
  })");
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 3) << p.output();
  int prepare = p.find("prepare-ran"), migrate = p.find("migrate-ran"), app = p.find("app-ran");
  ASSERT_GE(prepare, 0) << p.output();
  EXPECT_LT(prepare, migrate);
  EXPECT_LT(migrate, app);
}

TEST(Supervisor, StoppingHookRunsAndFinishesBeforeTheAppGetsSigterm) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    jobs: [
      { name: "app", exec: ["sh", "-c", "trap 'echo app-got-term; exit 7' TERM; echo app-up; while :; do sleep 0.02; done"] },
      { name: "prestop", exec: ["sh", "-c", "echo prestop-begin; sleep 0.3; echo prestop-end"],
        when: { source: "app", once: "stopping" } },
    ],
  })");
  ASSERT_TRUE(p.wait_for("app-up")) << p.output();
  p.signal(SIGTERM);
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 7) << p.output();
  int end = p.find("prestop-end"), term = p.find("app-got-term");
  ASSERT_GE(end, 0) << p.output();
  ASSERT_GE(term, 0) << p.output();
  EXPECT_LT(end, term) << p.output();
}

TEST(Supervisor, AnAppIgnoringSigtermIsKilledAfterItsStopTimeout) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    jobs: [ { name: "app", exec: ["sh", "-c", "trap '' TERM; echo app-up; sleep 60"], stopTimeout: "300ms" } ],
  })");
  ASSERT_TRUE(p.wait_for("app-up")) << p.output();
  auto start = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 128 + SIGKILL) << p.output();
  EXPECT_GE(p.find("sending SIGKILL"), 0) << p.output();
  // The kill came from the job's own 300ms, not the global 5s default.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST(Supervisor, ShutdownEndsAsSoonAsEveryJobHasExited) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    stopTimeout: 30,
    jobs: [ { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 60"] } ],
  })");
  ASSERT_TRUE(p.wait_for("app-up")) << p.output();
  p.signal(SIGTERM);
  // With a 30 s stopTimeout, ContainerPilot would sleep 30 s (defect D5).
  auto exit = p.wait_exit(10s);
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 128 + SIGTERM);
}

TEST(Supervisor, PeriodicJobRunsAboutTenTimesASecond) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    jobs: [
      { name: "app", exec: "sleep 1" },
      { name: "tick", exec: "echo tick", when: { interval: "100ms" } },
    ],
  })");
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 0);
  int ticks = p.count(" tick \\d+ tick$");
  EXPECT_GE(ticks, 7) << p.output();
  EXPECT_LE(ticks, 13) << p.output();
}

TEST(Supervisor, RestartsThreeMeansExactlyThreeRestarts) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    jobs: [ { name: "flaky", exec: ["sh", "-c", "echo flaky-run; exit 1"], restarts: 3 } ],
  })");
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(p.count("flaky-run"), 4) << p.output();
  EXPECT_EQ(p.count("restarting in"), 3) << p.output();
  EXPECT_EQ(exit->code, 1);
}

TEST(Supervisor, WhenTimeoutFailsTheWaitingJobWithAClearLogLine) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    jobs: [
      { name: "slow", exec: "sleep 3" },
      { name: "after", exec: "echo never", when: { source: "slow", once: "exitSuccess", timeout: "200ms" } },
    ],
    mainJob: "after",
  })");
  ASSERT_TRUE(p.wait_for("job after: timed out after 200ms waiting for exitSuccess from slow; giving up")) << p.output();
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 1);
  EXPECT_EQ(p.find("never"), -1);
}

TEST(Supervisor, ExecFailureIsReportedAndCountsAsAFailedRun) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({ jobs: [ { name: "app", exec: "/nonexistent/app --flag" } ] })");
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 127) << p.output();
  EXPECT_GE(p.find("job app: .*/nonexistent/app"), 0) << p.output();
}

TEST(Supervisor, EachJobRunsOnEveryEventAndSignalJobsRunOnSigusr2) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    jobs: [
      { name: "app", exec: ["sh", "-c", "echo app-up; exec sleep 60"] },
      { name: "on-usr2", exec: "echo got-usr2", when: { source: "SIGUSR2" } },
    ],
  })");
  ASSERT_TRUE(p.wait_for("app-up")) << p.output();
  p.signal(SIGUSR2);
  ASSERT_TRUE(p.wait_for("got-usr2")) << p.output();
  ASSERT_TRUE(p.wait_for("job on-usr2: pid \\d+ exited with status 0")) << p.output();
  p.signal(SIGUSR2);
  ASSERT_TRUE(p.wait_for("got-usr2")) << p.output();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit()) << p.output();
}

TEST(Supervisor, ChildOutputIsPrefixedWithTheJobNameUnlessRaw) {
  TempDir dir;
  auto p = run_autopilot(dir, R"({
    logging: { format: "text" },
    jobs: [
      { name: "pre", exec: "echo prefixed-line" },
      { name: "app", exec: "echo raw-line", logging: { raw: true }, when: { source: "pre", once: "exitSuccess" } },
    ],
    mainJob: "app",
  })");
  ASSERT_TRUE(p.wait_exit()) << p.output();
  EXPECT_GE(p.find("^time=\\S+ level=info job=pre pid=\\d+ msg=prefixed-line$"), 0) << p.output();
  EXPECT_GE(p.find("^raw-line$"), 0) << p.output();
}

// The standard Autopilot layout names no mainJob: its app waits for preStart,
// so the app, not preStart, is the main job and autopilot keeps running.
TEST(Supervisor, TheAutopilotLayoutRunsItsAppAndKeepsRunningAfterPreStart) {
  TempDir dir;
  const std::string config = R"({
    jobs: [
      { name: "consul-agent", exec: ["sh", "-c", "echo agent-up; exec sleep 60"], restarts: "unlimited" },
      { name: "preStart", exec: "echo prestart-ran" },
      { name: "app", exec: ["sh", "-c", "trap 'echo app-got-term; exit 5' TERM; echo app-up; while :; do sleep 0.02; done"],
        when: { source: "preStart", once: "exitSuccess" } },
      { name: "preStop", exec: "echo prestop-ran", when: { source: "app", once: "stopping" } },
      { name: "postStop", exec: "echo poststop-ran", when: { source: "app", once: "stopped" } },
      { name: "sensor", exec: "echo sensor-tick", when: { interval: "100ms" } },
    ],
  })";
  Process check({autopilot_bin(), "check", "-config", dir.write("check.json5", config)});
  ASSERT_TRUE(check.wait_exit()) << check.output();
  EXPECT_GE(check.find("ok \\(6 jobs, main job app\\)"), 0) << check.output();

  auto p = run_autopilot(dir, config);
  ASSERT_TRUE(p.wait_seen("app-up")) << p.output();
  ASSERT_GE(p.find("main job: app"), 0) << p.output();
  // Still running well after preStart exited: the periodic job keeps ticking.
  ASSERT_TRUE(p.wait_for("sensor-tick")) << p.output();
  ASSERT_TRUE(p.wait_for("sensor-tick")) << p.output();
  ASSERT_TRUE(p.wait_for("sensor-tick")) << p.output();
  EXPECT_EQ(p.find("shutting down"), -1) << p.output();
  p.signal(SIGTERM);
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 5) << p.output();
  EXPECT_GE(p.find("prestop-ran"), 0) << p.output();
  EXPECT_GE(p.find("poststop-ran"), 0) << p.output();
}

}  // namespace
}  // namespace autopilot::testing
