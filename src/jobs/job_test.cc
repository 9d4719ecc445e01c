// Jobs on fakes: a hand-run loop, a hand-moved clock, fake processes. The
// tests give config and events and check what was spawned and signalled.
#include <gtest/gtest.h>

#include <csignal>
#include <deque>

#include "jobs/supervisor.h"
#include "os/fake/fake_files.h"
#include "os/fake/fake_processes.h"
#include "os/fake/fake_timers.h"

namespace autopilot::jobs {
namespace {

using namespace std::chrono_literals;
using events::Code;

JobConfig job(std::string name, std::vector<std::string> exec = {"run"}) {
  JobConfig c;
  c.name = std::move(name);
  c.exec = std::move(exec);
  c.when.source = events::Source::global();
  c.fingerprint = c.name + ":" + (c.exec.empty() ? "" : c.exec[0]);
  return c;
}

JobConfig after(std::string name, std::string source, Code event, bool each = false) {
  JobConfig c = job(std::move(name));
  c.when.source = events::Source::parse(source);
  c.when.event = event;
  c.when.each = each;
  return c;
}

class Fixture : public ::testing::Test {
 protected:
  Fixture() : log_({log::Level::kError, log::Format::kDefault, "stderr"}) {}

  JobOptions options_{.default_stop_timeout = std::chrono::seconds(5)};
  void start(std::vector<JobConfig> configs, std::string main_job = "") {
    if (main_job.empty()) main_job = Supervisor::default_main_job(configs);
    Wiring wiring{.loop = io_,
                  .timers = timers_,
                  .processes = processes_,
                  .files = files_,
                  .log = log_,
                  .bus = bus_,
                  .metrics = &registry_,
                  .operator_metrics = operator_metrics_.get(),
                  .child_env = [] { return os::Environment(std::vector<std::string>{"A=1"}); }};
    supervisor_ = std::make_unique<Supervisor>(wiring, options_, std::move(configs),
                                               main_job);
    supervisor_->on_all_done = [this] { done_ = true; };
    bus_.subscribe([this](const events::Event& e) { seen_.push_back(e); });
    supervisor_->start();
    settle();
  }
  // Runs posted work until the loop is idle.
  void settle() {
    while (!posted_.empty()) {
      auto f = std::move(posted_.front());
      posted_.pop_front();
      f();
    }
  }
  void advance(os::Duration d) {
    timers_.advance(d);
    settle();
  }
  void exit(const std::string& name, int code, int signal = 0) {
    int pid = pid_of(name);
    ASSERT_NE(pid, 0) << name << " is not running";
    processes_.exit_for_test(pid, {code, signal});
    settle();
  }
  int pid_of(const std::string& name) const { return supervisor_->find(name)->pid(); }
  // The argv[0] of every spawn, in order.
  std::vector<std::string> spawned() const {
    std::vector<std::string> out;
    for (const auto& s : processes_.spawned()) out.push_back(s.spec.argv[0]);
    return out;
  }
  int count_spawned(const std::string& argv0) const {
    auto s = spawned();
    return static_cast<int>(std::count(s.begin(), s.end(), argv0));
  }
  bool saw(Code code, const std::string& source) const {
    return std::any_of(seen_.begin(), seen_.end(), [&](const events::Event& e) { return e.code == code && e.source.str() == source; });
  }

  std::deque<std::function<void()>> posted_;
  events::Bus bus_{[this](std::function<void()> f) { posted_.push_back(std::move(f)); }};
  boost::asio::io_context io_;  // the wiring names a loop; these tests run posted work by hand
  os::FakeProcesses processes_;
  os::FakeTimers timers_;
  os::FakeFiles files_{timers_};  // named by the wiring
  log::Log log_;
  metrics::Registry registry_;
  std::unique_ptr<metrics::OperatorMetrics> operator_metrics_;  // set before start(): counted
  std::unique_ptr<Supervisor> supervisor_;
  std::vector<events::Event> seen_;
  bool done_ = false;
};

TEST_F(Fixture, ChainedJobsStartInOrderAndTheMainJobsStatusIsTheExitStatus) {
  auto a = job("a", {"a"});
  auto b = after("b", "a", Code::kExitSuccess);
  b.exec = {"b"};
  start({a, b}, "b");
  EXPECT_EQ(spawned(), (std::vector<std::string>{"a"}));
  exit("a", 0);
  EXPECT_EQ(spawned(), (std::vector<std::string>{"a", "b"}));
  exit("b", 4);
  EXPECT_TRUE(done_);
  EXPECT_EQ(supervisor_->exit_code(), 4);
  EXPECT_TRUE(saw(Code::kStopped, "global"));
}

TEST_F(Fixture, OperatorMetricsCountStartsExitsByStatusAndRestarts) {
  operator_metrics_ = std::move(*metrics::OperatorMetrics::create(registry_));
  auto agent = job("agent", {"agent"});
  agent.restarts = 2;
  auto app = job("app", {"app"});
  start({agent, app}, "app");
  exit("agent", 1);
  advance(std::chrono::seconds(1));  // restarts go through a (backoff) timer
  exit("agent", 0, SIGKILL);
  advance(std::chrono::seconds(1));
  exit("agent", 0);
  auto& m = *operator_metrics_;
  EXPECT_EQ(m.job_starts->with({"agent"}).value(), 3);
  EXPECT_EQ(m.job_starts->with({"app"}).value(), 1);
  EXPECT_EQ(m.job_exits->with({"agent", "failure"}).value(), 1);
  EXPECT_EQ(m.job_exits->with({"agent", "signal"}).value(), 1);
  EXPECT_EQ(m.job_exits->with({"agent", "success"}).value(), 1);
  EXPECT_EQ(m.job_restarts->with({"agent"}).value(), 2);
  EXPECT_EQ(m.job_restarts->series().count({"app"}), 0u);
}

TEST_F(Fixture, WithoutOperatorMetricsNothingIsRegistered) {
  start({job("app", {"app"})});
  exit("app", 0);
  EXPECT_EQ(registry_.expose(), "");
}

TEST_F(Fixture, AFailedStepTheMainJobWaitsForEndsAutopilotWithItsStatus) {
  auto pre = job("preStart", {"pre"});
  auto app = after("app", "preStart", Code::kExitSuccess);
  auto agent = job("agent", {"agent"});
  agent.restarts = kUnlimited;
  start({agent, pre, app});
  EXPECT_EQ(supervisor_->main_job(), "app");
  exit("preStart", 3);
  EXPECT_TRUE(supervisor_->is_shutting_down()) << "the app can never start";
  exit("agent", 0, SIGTERM);
  EXPECT_TRUE(done_);
  EXPECT_EQ(supervisor_->exit_code(), 3);
  EXPECT_EQ(count_spawned("run"), 0) << "the app never ran";
}

TEST_F(Fixture, AFailingExitStatusJobGivesAutopilotItsStatus) {
  auto app = job("app", {"app"});
  auto post = after("postStop", "app", Code::kStopped);
  post.exec = {"post"};
  start({app, post});
  supervisor_->exit_status_job = "postStop";
  exit("app", 0);
  ASSERT_EQ(count_spawned("post"), 1);
  exit("postStop", 6);
  EXPECT_TRUE(done_);
  EXPECT_EQ(supervisor_->exit_code(), 6);
}

TEST_F(Fixture, ChildrenGetTheEnvironmentAndCaptureUnlessRaw) {
  auto a = job("a");
  a.raw_logging = true;
  start({a});
  ASSERT_EQ(processes_.spawned().size(), 1u);
  EXPECT_EQ(processes_.spawned()[0].spec.env.entries(), (std::vector<std::string>{"A=1"}));
  EXPECT_FALSE(processes_.spawned()[0].spec.capture_output);
}

TEST_F(Fixture, RestartsThreeRestartsExactlyThreeTimesWithBackoff) {
  auto a = job("a");
  a.restarts = 3;
  start({a});
  exit("a", 1);
  advance(0ms);  // the first restart is immediate
  EXPECT_EQ(count_spawned("run"), 2);
  exit("a", 1);
  advance(99ms);
  EXPECT_EQ(count_spawned("run"), 2) << "the second quick failure waits 100ms";
  advance(1ms);
  EXPECT_EQ(count_spawned("run"), 3);
  exit("a", 1);
  advance(200ms);
  EXPECT_EQ(count_spawned("run"), 4);
  exit("a", 1);
  advance(10s);
  EXPECT_EQ(count_spawned("run"), 4);
  EXPECT_TRUE(done_);
  EXPECT_EQ(supervisor_->exit_code(), 1);
}

// Back-off is for crash loops: a run that lasted, or a success, starts the
// count again and the next restart is immediate.
TEST_F(Fixture, ALongRunOrASuccessResetsTheRestartBackoff) {
  auto a = job("a");
  a.restarts = kUnlimited;
  start({a});
  exit("a", 1);
  advance(0ms);
  exit("a", 1);
  advance(100ms);
  exit("a", 1);
  advance(200ms);
  ASSERT_EQ(count_spawned("run"), 4) << "three quick failures: 0, 100ms, 200ms";
  advance(2s);  // this run lasts
  exit("a", 1);
  advance(0ms);
  EXPECT_EQ(count_spawned("run"), 5) << "a failure after a long run restarts at once";
  exit("a", 1);
  advance(100ms);
  exit("a", 1);
  advance(200ms);
  ASSERT_EQ(count_spawned("run"), 7);
  exit("a", 0);  // a quick success
  advance(0ms);
  ASSERT_EQ(count_spawned("run"), 8);
  exit("a", 1);
  advance(0ms);
  EXPECT_EQ(count_spawned("run"), 9) << "the first failure after a success restarts at once";
}

TEST_F(Fixture, PeriodicJobRunsEveryIntervalAndSkipsWhileStillRunning) {
  auto app = job("app", {"app"});
  auto tick = job("tick", {"tick"});
  tick.when.interval = 100ms;
  tick.restarts = kUnlimited;
  start({app, tick});
  EXPECT_EQ(count_spawned("tick"), 1);
  for (int i = 0; i < 10; ++i) {
    exit("tick", 0);
    advance(100ms);
  }
  EXPECT_EQ(count_spawned("tick"), 11);
  advance(300ms);  // still running: three ticks skipped
  EXPECT_EQ(count_spawned("tick"), 11);
}

// v2's tasks and backends wait for preStart: a gated job's ticks begin, and
// a start event seen earlier runs it, when the gate event comes.
TEST_F(Fixture, AGatedJobStartsOnlyOnceItsGateEventCame) {
  auto pre = job("preStart", {"pre"});
  auto app = after("app", "preStart", Code::kExitSuccess);
  app.exec = {"app"};
  auto tick = job("tick", {"tick"});
  tick.when.interval = 100ms;
  tick.restarts = kUnlimited;
  auto on_change = after("onChange-web", "watch.web", Code::kStatusChanged, true);
  on_change.exec = {"reload"};
  for (auto* j : {&tick, &on_change}) j->gate = events::Event{Code::kExitSuccess, events::Source::job("preStart")};
  start({pre, app, tick, on_change}, "app");
  bus_.publish({Code::kStatusChanged, events::Source::watch("web")});
  advance(350ms);
  EXPECT_EQ(count_spawned("tick"), 0) << "no tick before preStart succeeded";
  EXPECT_EQ(count_spawned("reload"), 0) << "no onChange before preStart succeeded";
  exit("preStart", 0);
  EXPECT_EQ(count_spawned("tick"), 1) << "the ticks begin at the gate";
  EXPECT_EQ(count_spawned("reload"), 1) << "the change seen before runs it once";
  exit("tick", 0);
  advance(100ms);
  EXPECT_EQ(count_spawned("tick"), 2);
  exit("onChange-web", 0);
  bus_.publish({Code::kStatusChanged, events::Source::watch("web")});
  settle();
  EXPECT_EQ(count_spawned("reload"), 2) << "open for good";
}

// v2 skips its pollers' actions in maintenance: no task runs, and an
// onChange waits for maintenance to end.
TEST_F(Fixture, AJobPausedInMaintenanceSkipsTicksAndHoldsStartsUntilItEnds) {
  auto app = job("app", {"app"});
  auto tick = job("tick", {"tick"});
  tick.when.interval = 100ms;
  tick.restarts = kUnlimited;
  auto on_change = after("onChange-web", "watch.web", Code::kStatusChanged, true);
  on_change.exec = {"reload"};
  for (auto* j : {&tick, &on_change}) j->pauses_in_maintenance = true;
  start({app, tick, on_change}, "app");
  EXPECT_EQ(count_spawned("tick"), 1);
  exit("tick", 0);
  bus_.publish({Code::kEnterMaintenance, events::Source::global()});
  bus_.publish({Code::kStatusChanged, events::Source::watch("web")});
  settle();
  advance(350ms);
  EXPECT_EQ(count_spawned("tick"), 1) << "ticks skipped in maintenance";
  EXPECT_EQ(count_spawned("reload"), 0) << "onChange held in maintenance";
  bus_.publish({Code::kExitMaintenance, events::Source::global()});
  settle();
  EXPECT_EQ(count_spawned("reload"), 1) << "the change seen in maintenance runs it when it ends";
  advance(50ms);
  EXPECT_EQ(count_spawned("tick"), 2) << "the ticks resume on their rate";
}

TEST_F(Fixture, PeriodicTicksKeepAFixedRateWhenTimersFireLate) {
  // The next tick is the last deadline plus the interval (Go's ticker), not
  // the moment the timer fired plus the interval: late timers do not add up.
  auto app = job("app", {"app"});
  auto tick = job("tick", {"tick"});
  tick.when.interval = 100ms;
  tick.restarts = kUnlimited;
  timers_.set_lateness(10ms);
  start({app, tick});
  for (int i = 0; i < 200; ++i) {  // 10 s in 50 ms steps; each run ends at once
    if (supervisor_->find("tick")->pid()) exit("tick", 0);
    advance(50ms);
  }
  // Ticks due at 100 ms, 200 ms, ... fire 10 ms late: 99 of them by 10 s,
  // and the first run at start. Drifting, they would fire every 110 ms: 1 + 90.
  EXPECT_EQ(count_spawned("tick"), 100);
}

TEST_F(Fixture, PeriodicRestartsCountRuns) {
  auto app = job("app", {"app"});
  auto tick = job("tick", {"tick"});
  tick.when.interval = 100ms;
  tick.restarts = 2;
  start({app, tick});
  for (int i = 0; i < 5; ++i) {
    if (supervisor_->find("tick")->pid()) exit("tick", 0);
    advance(100ms);
  }
  EXPECT_EQ(count_spawned("tick"), 3);
  EXPECT_TRUE(supervisor_->find("tick")->is_done());
}

TEST_F(Fixture, ExecTimeoutKillsTheProcessGroup) {
  auto a = job("a");
  a.timeout = 250ms;
  start({a});
  int pid = pid_of("a");
  advance(249ms);
  EXPECT_TRUE(processes_.signals().empty());
  advance(1ms);
  ASSERT_EQ(processes_.signals().size(), 1u);
  EXPECT_EQ(processes_.signals()[0], (os::FakeProcesses::SentSignal{pid, SIGKILL}));
}

TEST_F(Fixture, ShutdownRunsTheStoppingHookBeforeSigtermAndKillsAfterStopTimeout) {
  auto app = job("app", {"app"});
  app.stop_timeout = 2s;
  auto hook = after("drain", "app", Code::kStopping);
  hook.exec = {"drain"};
  start({app, hook});
  int app_pid = pid_of("app");
  supervisor_->shutdown();
  settle();
  EXPECT_EQ(count_spawned("drain"), 1) << "the hook runs on the app's stopping";
  EXPECT_TRUE(processes_.signals().empty()) << "no SIGTERM while the hook runs";
  exit("drain", 0);
  ASSERT_EQ(processes_.signals().size(), 1u);
  EXPECT_EQ(processes_.signals()[0], (os::FakeProcesses::SentSignal{app_pid, SIGTERM}));
  advance(2s);
  ASSERT_EQ(processes_.signals().size(), 2u);
  EXPECT_EQ(processes_.signals()[1], (os::FakeProcesses::SentSignal{app_pid, SIGKILL}));
  processes_.exit_for_test(app_pid, {0, SIGKILL});
  settle();
  EXPECT_TRUE(done_);
  EXPECT_EQ(supervisor_->exit_code(), 128 + SIGKILL);
}

TEST_F(Fixture, ANegativeStopTimeoutKillsAtOnceAfterTheStopHookWithoutSigterm) {
  options_.default_stop_timeout = -1s;  // v2's `stopTimeout: -1`
  auto app = job("app", {"app"});
  auto hook = after("preStop", "app", Code::kStopping);
  hook.exec = {"prestop"};
  start({app, hook});
  int app_pid = pid_of("app");
  supervisor_->shutdown();
  settle();
  EXPECT_EQ(count_spawned("prestop"), 1);
  EXPECT_TRUE(processes_.signals().empty()) << "the hook is waited for";
  advance(4s);
  EXPECT_TRUE(processes_.signals().empty()) << "the hook has up to 5s, not a grace of -1";
  exit("preStop", 0);
  ASSERT_EQ(processes_.signals().size(), 1u);
  EXPECT_EQ(processes_.signals()[0], (os::FakeProcesses::SentSignal{app_pid, SIGKILL}));
  processes_.exit_for_test(app_pid, {0, SIGKILL});
  settle();
  EXPECT_TRUE(done_);
}

TEST_F(Fixture, AHungStopHookDelaysTheStopOnlyUntilTheJobsStopTimeout) {
  auto app = job("app", {"app"});
  app.stop_timeout = 1s;
  auto hook = after("drain", "app", Code::kStopping);
  hook.exec = {"drain"};
  start({app, hook});
  supervisor_->shutdown();
  settle();
  advance(999ms);
  EXPECT_TRUE(processes_.signals().empty());
  advance(1ms);  // D2: the wait ends; ContainerPilot would wait for the global kill
  ASSERT_FALSE(processes_.signals().empty());
  EXPECT_EQ(processes_.signals()[0].sig, SIGTERM);
}

TEST_F(Fixture, AJobOnShutdownRunsAtShutdown) {
  auto app = job("app", {"app"});
  auto bye = job("bye", {"bye"});
  bye.when.event = Code::kShutdown;
  start({app, bye}, "app");
  EXPECT_EQ(count_spawned("bye"), 0);
  supervisor_->shutdown();
  settle();
  EXPECT_EQ(count_spawned("bye"), 1) << "D14: once shutdown fires";
  exit("bye", 0);
  exit("app", 0);
  EXPECT_TRUE(done_);
}

TEST_F(Fixture, AShutdownHookStillRunsWhenNothingElseIsLeft) {
  auto bye = job("bye", {"bye"});
  bye.when.event = Code::kShutdown;
  start({bye});
  supervisor_->shutdown();
  settle();
  EXPECT_EQ(count_spawned("bye"), 1);
  exit("bye", 0);
  EXPECT_TRUE(done_);
}

TEST_F(Fixture, WhenTimeoutFailsTheWaitingJob) {
  auto slow = job("slow", {"slow"});
  auto b = after("b", "slow", Code::kExitSuccess);
  b.when.timeout = 200ms;
  start({slow, b}, "b");
  advance(200ms);
  EXPECT_TRUE(saw(Code::kTimerExpired, "b"));
  EXPECT_TRUE(supervisor_->find("b")->is_done());
  EXPECT_TRUE(supervisor_->find("b")->failed_to_start());
  exit("slow", 0);
  EXPECT_EQ(count_spawned("run"), 0) << "a timed-out job never starts";
  EXPECT_EQ(supervisor_->exit_code(), 1);
}

TEST_F(Fixture, EachWhileRunningQueuesOneMoreRunInsteadOfBlocking) {
  auto app = job("app", {"app"});
  auto w = after("w", "SIGUSR2", Code::kSignal);
  w.exec = {"w"};
  start({app, w});
  for (int i = 0; i < 5; ++i) bus_.publish({Code::kSignal, events::Source::signal("SIGUSR2")}), settle();
  EXPECT_EQ(count_spawned("w"), 1);
  exit("w", 0);
  EXPECT_EQ(count_spawned("w"), 2) << "one pending start, coalesced";
  exit("w", 0);
  EXPECT_EQ(count_spawned("w"), 2);
}

TEST_F(Fixture, ExecFailurePublishesErrorAndExitFailed) {
  processes_.fail_next_spawn_for_test(make_error("exec: \"nope\": executable file not found in $PATH"));
  start({job("a", {"nope"})});
  EXPECT_TRUE(saw(Code::kExitFailed, "a"));
  EXPECT_TRUE(saw(Code::kError, "exec: \"nope\": executable file not found in $PATH"));
  EXPECT_TRUE(done_);
  EXPECT_EQ(supervisor_->exit_code(), 127);
}

TEST_F(Fixture, ExecFailingAfterSpawnIsAStartFailureToo) {
  // A start that did not wait for the exec learns of its failure at the exit.
  start({job("a", {"gone"})}, "a");
  const std::string why = "fork/exec /x/gone: exec format error";
  processes_.exit_for_test(pid_of("a"), os::ExitStatus{127, 0, why});
  settle();
  EXPECT_TRUE(saw(Code::kExitFailed, "a"));
  EXPECT_TRUE(saw(Code::kError, why));
  EXPECT_TRUE(supervisor_->find("a")->failed_to_start());
  EXPECT_TRUE(done_);
  EXPECT_EQ(supervisor_->exit_code(), 127);
}

TEST_F(Fixture, MainJobEndShutsDownTheOthers) {
  auto app = job("app", {"app"});
  auto side = after("side", "app", Code::kStartup);
  side.when.source = events::Source::global();
  side.exec = {"side"};
  start({app, side}, "app");
  int side_pid = pid_of("side");
  exit("app", 0);
  ASSERT_FALSE(processes_.signals().empty());
  EXPECT_EQ(processes_.signals()[0], (os::FakeProcesses::SentSignal{side_pid, SIGTERM}));
  processes_.exit_for_test(side_pid, {0, SIGTERM});
  settle();
  EXPECT_TRUE(done_);
  EXPECT_EQ(supervisor_->exit_code(), 0);
}

TEST_F(Fixture, ReloadKeepsUnchangedJobsAndReplacesChangedOnesAfterTheyStop) {
  auto keep = job("keep", {"keep"});
  auto change = job("change", {"v1"});
  auto gone = job("gone", {"gone"});
  start({keep, change, gone}, "keep");
  int keep_pid = pid_of("keep"), v1_pid = pid_of("change"), gone_pid = pid_of("gone");
  auto changed = job("change", {"v2"});
  auto added = job("added", {"added"});
  supervisor_->reload({keep, changed, added}, "keep");
  settle();
  EXPECT_EQ(pid_of("keep"), keep_pid);
  EXPECT_EQ(count_spawned("added"), 1);
  EXPECT_EQ(count_spawned("v2"), 0) << "v2 waits for v1 to stop";
  processes_.exit_for_test(v1_pid, {0, SIGTERM});
  processes_.exit_for_test(gone_pid, {0, SIGTERM});
  settle();
  EXPECT_EQ(count_spawned("v2"), 1);
  EXPECT_EQ(count_spawned("keep"), 1);
  EXPECT_FALSE(done_);
}

TEST_F(Fixture, ReloadDoesNotRunAFinishedUnchangedJobAgainButRunsAChangedOne) {
  auto setup = job("setup", {"setup"});
  auto migrate = job("migrate", {"migrate-v1"});
  auto app = after("app", "setup", Code::kExitSuccess);
  app.exec = {"app"};
  start({setup, migrate, app}, "app");
  exit("setup", 0);
  exit("migrate", 0);
  ASSERT_EQ(count_spawned("app"), 1);
  supervisor_->reload({setup, job("migrate", {"migrate-v2"}), app}, "app");
  settle();
  EXPECT_EQ(count_spawned("setup"), 1) << "a finished pre-start is not run again";
  EXPECT_EQ(count_spawned("migrate-v2"), 1) << "a changed one runs its new definition";
  EXPECT_EQ(count_spawned("app"), 1);
  EXPECT_FALSE(done_);
}

TEST_F(Fixture, JobsAReloadRetiredAreReleasedOnceDone) {
  auto keep = job("keep", {"keep"});
  start({keep, job("change", {"v0"})}, "keep");
  for (int i = 1; i <= 20; ++i) {
    int previous = pid_of("change");
    supervisor_->reload({keep, job("change", {"v" + std::to_string(i)})}, "keep");
    settle();
    processes_.exit_for_test(previous, {0, SIGTERM});
    settle();
    ASSERT_EQ(count_spawned("v" + std::to_string(i)), 1);
  }
  EXPECT_EQ(supervisor_->retired_for_test(), 0u) << "every replaced definition is done";
}

TEST_F(Fixture, AJobReplacedAgainBeforeItStartedIsNeverStarted) {
  auto keep = job("keep", {"keep"});
  start({keep, job("change", {"v1"})}, "keep");
  int v1 = pid_of("change");
  supervisor_->reload({keep, job("change", {"v2"})}, "keep");
  settle();
  // v2 still waits for v1 to stop; replaced again, it is done without running.
  supervisor_->reload({keep, job("change", {"v3"})}, "keep");
  settle();
  processes_.exit_for_test(v1, {0, SIGTERM});
  settle();
  EXPECT_EQ(count_spawned("v2"), 0);
  EXPECT_EQ(count_spawned("v3"), 1);
  EXPECT_EQ(supervisor_->retired_for_test(), 0u);
}

// The lifetime rule (docs/design.md): a job destroyed while its process runs
// and its timers are pending leaves nothing that can reach it. Without the
// Lifetime the late output and exit would run on the freed Job (ASan).
TEST_F(Fixture, AJobDestroyedWhileRunningLeavesNoTimerAndIgnoresItsProcess) {
  auto config = job("a");
  config.timeout = 10s;  // arms the exec timer
  Wiring wiring{.loop = io_, .timers = timers_, .processes = processes_, .files = files_, .log = log_, .bus = bus_};
  auto a = std::make_unique<Job>(config, wiring, JobOptions{});
  a->handle({Code::kStartup, events::Source::global()});
  int pid = a->pid();
  ASSERT_NE(pid, 0);
  EXPECT_EQ(timers_.pending(), 1u);
  a.reset();
  EXPECT_EQ(timers_.pending(), 0u);
  processes_.output_for_test(pid, "still talking");
  processes_.exit_for_test(pid, {0, 0});
  advance(1min);
  EXPECT_TRUE(processes_.signals().empty());
}

}  // namespace
}  // namespace autopilot::jobs
