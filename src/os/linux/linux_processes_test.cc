#include "os/linux/linux_processes.h"
#include "base/file.h"
#include "os/linux/loop_testing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace autopilot::os {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;



// What one child did, in order.
struct Record {
  std::vector<std::string> lines;
  std::optional<ExitStatus> exit;
  size_t lines_at_exit = 0;

  SpawnCallbacks callbacks() {
    return {[this](std::string_view l) { lines.emplace_back(l); },
            [this](ExitStatus st) {
              EXPECT_FALSE(exit.has_value()) << "on_exit fired twice";
              exit = st;
              lines_at_exit = lines.size();
            }};
  }
};

SpawnSpec sh(std::string script, std::vector<std::string> env = {}) {
  return SpawnSpec{{"sh", "-c", std::move(script)}, std::move(env), true};
}

// Pids of zombies whose parent is this process.
std::vector<int> our_zombies() {
  std::vector<int> zombies;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // Not an ifstream read: it throws when the process is gone between open and read.
    auto text = read_file((entry.path() / "stat").string());
    if (!text) continue;
    const std::string& stat = *text;
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 1));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (state == 'Z' && ppid == ::getpid()) zombies.push_back(std::stoi(name));
  }
  return zombies;
}

bool is_gone(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

class LinuxProcessesTest : public ::testing::Test {
 protected:
  // Runs spec to completion and returns what it did.
  // The Record lives on the heap: the callbacks point at it.
  std::unique_ptr<Record> run(const SpawnSpec& spec) {
    auto r = std::make_unique<Record>();
    Result<int> pid = processes_.spawn(spec, r->callbacks());
    EXPECT_TRUE(pid.ok()) << (pid.ok() ? "" : pid.error().message);
    if (pid.ok()) {
      EXPECT_TRUE(run_until(io_, [&] { return r->exit.has_value(); }));
    }
    return r;
  }

  boost::asio::io_context io_;
  LinuxProcesses processes_{io_};
};

TEST_F(LinuxProcessesTest, ExitCode) {
  auto r = run(sh("exit 3"));
  ASSERT_TRUE(r->exit);
  EXPECT_EQ(r->exit->code, 3);
  EXPECT_EQ(r->exit->signal, 0);
  EXPECT_EQ(processes_.running(), 0u);
}

TEST_F(LinuxProcessesTest, KilledBySignal) {
  auto r = run(sh("kill -9 $$"));
  ASSERT_TRUE(r->exit);
  EXPECT_EQ(r->exit->signal, SIGKILL);
  EXPECT_EQ(r->exit->shell_code(), 137);
}

TEST_F(LinuxProcessesTest, StdoutAndStderrAreOneStreamInTheOrderWrittenWithPartialLastLine) {
  auto r = run(sh("echo out1; echo err1 >&2; echo; echo out2; printf 'err2' >&2; printf partial"));
  ASSERT_TRUE(r->exit);
  EXPECT_THAT(r->lines, ElementsAre("out1", "err1", "", "out2", "err2partial"));
  EXPECT_EQ(r->lines_at_exit, r->lines.size()) << "a line came after on_exit";
}

TEST_F(LinuxProcessesTest, WithoutCapturedStderrOnlyStdoutIsReadAndStderrIsOurs) {
  // Waited (first) and unwaited (later) starts alike.
  std::error_code ec;
  const std::string ours = std::filesystem::read_symlink("/proc/self/fd/2", ec).string();
  for (int i = 0; i < 3; ++i) {
    SpawnSpec spec = sh("echo out; echo 'a warning on stderr' >&2; readlink /proc/$$/fd/2; printf 42");
    spec.capture_stderr = false;
    auto r = run(spec);
    ASSERT_TRUE(r->exit);
    EXPECT_THAT(r->lines, ElementsAre("out", ours, "42")) << "start " << i;
  }
}

TEST_F(LinuxProcessesTest, LongLinesAreSplit) {
  // 150000 'a's then a newline, then 5 'b's with no newline.
  auto r = run(sh("head -c 150000 /dev/zero | tr '\\0' a; echo; printf bbbbb"));
  ASSERT_TRUE(r->exit);
  std::vector<std::string> out = r->lines;
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], std::string(65536, 'a'));
  EXPECT_EQ(out[1], std::string(65536, 'a'));
  EXPECT_EQ(out[2], std::string(150000 - 2 * 65536, 'a'));
  EXPECT_EQ(out[3], "bbbbb");
}

TEST_F(LinuxProcessesTest, ChildrenWritingAtOnceEachGetTheirOwnLines) {
  // Every pipe is read into one shared buffer; 3 children writing ~200 kB
  // each at the same time must still get exactly their own lines, in order.
  constexpr int kLines = 20000;
  std::vector<Record> records(3);
  const char* names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) {
    std::string script = "seq " + std::to_string(kLines) + " | sed 's/^/" + names[i] + "/'";
    ASSERT_TRUE(processes_.spawn(sh(script), records[i].callbacks()).ok());
  }
  ASSERT_TRUE(run_until(io_, [&] {
    for (const Record& r : records) {
      if (!r.exit) return false;
    }
    return true;
  }));
  for (int i = 0; i < 3; ++i) {
    const Record& r = records[i];
    ASSERT_EQ(r.lines.size(), static_cast<size_t>(kLines)) << names[i];
    for (int n = 0; n < kLines; ++n) ASSERT_EQ(r.lines[n], names[i] + std::to_string(n + 1)) << "line " << n;
    EXPECT_EQ(r.lines_at_exit, r.lines.size());
  }
}

TEST_F(LinuxProcessesTest, ChildOutputIsABlockingPipe) {
  // Our read end is non-blocking; the child's end must not be: a program
  // writing faster than we read would otherwise get EAGAIN.
  auto r = run(sh("grep '^flags:' /proc/$$/fdinfo/1; grep '^flags:' /proc/$$/fdinfo/2"));
  ASSERT_TRUE(r->exit);
  ASSERT_EQ(r->lines.size(), 2u);
  for (const std::string& line : r->lines) {
    unsigned long flags = std::stoul(line.substr(line.find(':') + 1), nullptr, 8);
    EXPECT_EQ(flags & O_NONBLOCK, 0u) << line;
  }
}

TEST_F(LinuxProcessesTest, EnvironmentIsExactlySpecEnv) {
  auto r = run(SpawnSpec{{"env"}, {"A=1", "B=two words"}, true});
  ASSERT_TRUE(r->exit);
  EXPECT_THAT(r->lines, ElementsAre("A=1", "B=two words"));
}

TEST_F(LinuxProcessesTest, PathComesFromSpecEnv) {
  Result<int> pid = processes_.spawn(SpawnSpec{{"env"}, {"PATH=/nonexistent"}, true}, {});
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.error().message, "exec: \"env\": executable file not found in $PATH");
}

// A PATH search is remembered per (name, PATH) and redone when the
// remembered file no longer execs.
TEST_F(LinuxProcessesTest, PathLookupsAreCachedUntilTheFileVanishes) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(::testing::TempDir()) / ("path_cache." + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "a");
  fs::create_directories(root / "b");
  auto tool = [&](const char* dir) {
    fs::path p = root / dir / "tool";
    std::ofstream(p) << "#!/bin/sh\necho " << dir << "\n";
    ::chmod(p.c_str(), 0755);
  };
  std::vector<std::string> env{"PATH=" + (root / "a").string() + ":" + (root / "b").string() + ":/usr/bin:/bin"};
  auto says = [&](std::vector<std::string> e) {
    auto r = std::make_unique<Record>();
    auto pid = processes_.spawn(SpawnSpec{{"tool"}, std::move(e), true}, r->callbacks());
    if (!pid) return pid.error().message;
    if (!run_until(io_, [&] { return r->exit.has_value(); })) return std::string("(no exit)");
    auto out = r->lines;
    return out.empty() ? std::string("(nothing)") : out[0];
  };
  tool("b");
  EXPECT_EQ(says(env), "b");
  tool("a");  // earlier in PATH, but the remembered b/tool still runs
  EXPECT_EQ(says(env), "b");
  EXPECT_EQ(says({"PATH=" + (root / "a").string()}), "a") << "another PATH, another entry";
  fs::remove(root / "b" / "tool");
  EXPECT_EQ(says(env), "a") << "exec of the remembered path fails with ENOENT: searched again";
  fs::remove(root / "a" / "tool");
  EXPECT_EQ(says(env), "exec: \"tool\": executable file not found in $PATH");
  fs::remove_all(root);
}

TEST_F(LinuxProcessesTest, LaterStartsDoNotWaitForTheExecAndGiveTheChildTheSame) {
  // The first start of a program waits for its exec; later ones run the
  // child on a slot of its own, with raw system calls. Both must set the
  // child up alike: environment, stdin, process group, output, signals.
  struct sigaction ignore {}, saved {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &saved);  // as autopilot does; the child must not inherit it
  std::string script =
      "echo A=$A; readlink /proc/$$/fd/0; test $(cut -d' ' -f5 /proc/$$/stat) = $$ && echo own group;"
      "grep '^flags:' /proc/$$/fdinfo/1; grep -E '^Sig(Blk|Ign)' /proc/self/status; echo err >&2";
  std::vector<std::vector<std::string>> outputs;
  for (int i = 0; i < 3; ++i) {
    auto r = run(sh(script, {"A=1", "PATH=/usr/bin:/bin"}));
    ASSERT_TRUE(r->exit);
    EXPECT_EQ(r->exit->code, 0);
    EXPECT_EQ(r->exit->exec_error, "");
    outputs.push_back(r->lines);
  }
  ::sigaction(SIGPIPE, &saved, nullptr);
  EXPECT_EQ(processes_.unwaited_starts(), 2u);
  EXPECT_THAT(outputs[0], ElementsAre("A=1", "/dev/null", "own group", ::testing::StartsWith("flags:"),
                                      "SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000", "err"));
  EXPECT_EQ(outputs[1], outputs[0]);
  EXPECT_EQ(outputs[2], outputs[0]);
}

TEST_F(LinuxProcessesTest, ExecFailingAfterAnUnwaitedStartIsAnExitWithTheError) {
  namespace fs = std::filesystem;
  fs::path tool = fs::path(::testing::TempDir()) / ("unwaited." + std::to_string(::getpid()));
  std::ofstream(tool) << "#!/bin/sh\necho ran\n";
  ::chmod(tool.c_str(), 0755);
  auto first = run(SpawnSpec{{tool.string()}, {}, true});
  ASSERT_TRUE(first->exit);
  EXPECT_THAT(first->lines, ElementsAre("ran"));
  // Still there and executable, but no longer a format the kernel runs.
  std::ofstream(tool, std::ios::trunc) << "echo no shebang\n";
  auto second = run(SpawnSpec{{tool.string()}, {}, true});
  ASSERT_TRUE(second->exit);
  EXPECT_EQ(processes_.unwaited_starts(), 1u);
  EXPECT_EQ(second->exit->code, 127);
  EXPECT_FALSE(second->exit->is_success());
  EXPECT_EQ(second->exit->exec_error, "fork/exec " + tool.string() + ": exec format error");
  EXPECT_TRUE(second->lines.empty());
  // It must prove itself again: the next start waits, and fails at once.
  Result<int> third = processes_.spawn(SpawnSpec{{tool.string()}, {}, true}, {});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().message, "fork/exec " + tool.string() + ": exec format error");
  EXPECT_EQ(processes_.unwaited_starts(), 1u);
  fs::remove(tool);
}

TEST(PathCache, RemembersFoundPathsOnlyAndIsBounded) {
  PathCache cache;
  std::vector<std::string> env{"PATH=/usr/bin:/bin"};
  auto sh = cache.look_path("sh", env, "");
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(cache.look_path("no-such-tool-anywhere", env, "").ok());
  EXPECT_EQ(cache.size(), 1u) << "misses are not remembered";
  EXPECT_EQ(*cache.look_path("/bin/true", env, ""), "/bin/true");
  EXPECT_EQ(cache.size(), 1u) << "names with a slash need no search";
  for (size_t i = 0; i < PathCache::kMaxEntries + 10; ++i)
    ASSERT_TRUE(cache.look_path("sh", {"PATH=/usr/bin:/bin:/x" + std::to_string(i)}, "").ok());
  EXPECT_LE(cache.size(), PathCache::kMaxEntries);
  cache.forget("sh", env, "");
  EXPECT_EQ(*cache.look_path("sh", env, ""), *sh);
}

TEST_F(LinuxProcessesTest, StdinIsDevNull) {
  auto r = run(sh("readlink /proc/self/fd/0"));
  EXPECT_THAT(r->lines, ElementsAre("/dev/null"));
}

TEST_F(LinuxProcessesTest, StdinIsDevNullEvenWhenOurOwnStdinIsClosed) {
  // In a fresh process (the "threadsafe" death test re-runs this binary), so
  // that /dev/null is first opened with our fd 0 free.
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_EXIT(
      {
        ::close(0);
        auto r = run(sh("readlink /proc/self/fd/0"));
        std::_Exit(r->lines == std::vector<std::string>{"/dev/null"} ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(LinuxProcessesTest, ExecFailuresAreErrorsWithoutCallbacks) {
  std::string file = ::testing::TempDir() + "/not_executable";
  std::ofstream(file) << "#!/bin/sh\n";
  ::chmod(file.c_str(), 0644);
  bool called = false;
  SpawnCallbacks cb{[&](std::string_view) { called = true; }, [&](ExitStatus) { called = true; }};
  auto error_of = [&](std::vector<std::string> argv) {
    Result<int> pid = processes_.spawn(SpawnSpec{std::move(argv), {}, true}, cb);
    return pid.ok() ? std::string("ok") : pid.error().message;
  };
  EXPECT_EQ(error_of({"nosuch"}), "exec: \"nosuch\": executable file not found in $PATH");
  EXPECT_EQ(error_of({file}), "fork/exec " + file + ": permission denied");
  EXPECT_EQ(error_of({"/nonexistent/x"}), "fork/exec /nonexistent/x: no such file or directory");
  EXPECT_EQ(error_of({}), "exec: no command");
  EXPECT_EQ(processes_.running(), 0u);
  io_.restart();
  io_.poll();  // a stray callback would run now
  EXPECT_FALSE(called);
}

TEST_F(LinuxProcessesTest, ChildLeadsItsOwnProcessGroup) {
  Record r;
  Result<int> pid = processes_.spawn(SpawnSpec{{"sleep", "100"}, {}, true}, r.callbacks());
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(::getpgid(*pid), *pid);
  EXPECT_EQ(processes_.running(), 1u);
  processes_.signal_group(*pid, SIGKILL);
  ASSERT_TRUE(run_until(io_, [&] { return r.exit.has_value(); }));
  EXPECT_EQ(r.exit->signal, SIGKILL);
  EXPECT_EQ(processes_.running(), 0u);
  processes_.signal_group(*pid, SIGKILL);  // reaped: ignored
}

TEST_F(LinuxProcessesTest, SignalGroupKillsTheWholeGroup) {
  Record r;
  Result<int> pid = processes_.spawn(sh("sleep 100 & echo $!; wait"), r.callbacks());
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(run_until(io_, [&] { return !r.lines.empty(); }));
  int grandchild = std::stoi(r.lines[0]);
  processes_.signal_group(*pid, SIGTERM);
  ASSERT_TRUE(run_until(io_, [&] { return r.exit.has_value() && is_gone(grandchild); }));
  EXPECT_EQ(r.exit->signal, SIGTERM);
}

TEST_F(LinuxProcessesTest, GrandchildHoldingThePipeDoesNotBlockExit) {
  Record r;
  Result<int> pid = processes_.spawn(sh("sleep 100 & echo $!"), r.callbacks());
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(run_until(io_, [&] { return !r.lines.empty(); }));
  int grandchild = std::stoi(r.lines[0]);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(io_, [&] { return r.exit.has_value(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(r.exit->code, 0);
  EXPECT_FALSE(is_gone(grandchild));
  ::kill(grandchild, SIGKILL);  // an orphan of ours now: the loop reaps it
  EXPECT_TRUE(run_until(io_, [&] { return is_gone(grandchild); }));
}

TEST_F(LinuxProcessesTest, ManyConcurrentChildren) {
  constexpr int kChildren = 200;
  std::vector<Record> records(kChildren);
  for (Record& r : records) ASSERT_TRUE(processes_.spawn(sh("echo hi"), r.callbacks()).ok());
  int exited = 0;
  ASSERT_TRUE(run_until(io_, [&] {
    exited = 0;
    for (const Record& r : records) exited += r.exit.has_value();
    return exited == kChildren;
  }));
  for (const Record& r : records) {
    EXPECT_EQ(r.exit->code, 0);
    EXPECT_THAT(r.lines, ElementsAre("hi"));
  }
  EXPECT_EQ(processes_.running(), 0u);
}

TEST_F(LinuxProcessesTest, ZombieScanSeesAnUnreapedChild) {
  // Checks our_zombies() itself: without the loop running, nothing reaps.
  Result<int> pid = processes_.spawn(SpawnSpec{{"true"}, {}, false}, {});
  ASSERT_TRUE(pid.ok());
  auto deadline = std::chrono::steady_clock::now() + 20s;
  std::vector<int> zombies;
  while (zombies.empty() && std::chrono::steady_clock::now() < deadline) zombies = our_zombies();
  EXPECT_THAT(zombies, ElementsAre(*pid));
  EXPECT_TRUE(run_until(io_, [&] { return processes_.running() == 0; }));
  EXPECT_TRUE(our_zombies().empty());
}

TEST_F(LinuxProcessesTest, OrphansAreReaped) {
  constexpr int kOrphans = 1000;
  uint64_t before = processes_.orphans_reaped();
  auto r = run(SpawnSpec{{OS_TEST_HELPER, "double-fork", std::to_string(kOrphans)}, {}, true});
  ASSERT_TRUE(r->exit);
  EXPECT_EQ(r->exit->code, 0);
  EXPECT_TRUE(run_until(io_, [&] { return processes_.orphans_reaped() - before >= kOrphans; }));
  EXPECT_TRUE(run_until(io_, [&] { return our_zombies().empty(); }));
  EXPECT_GE(processes_.orphans_reaped() - before, uint64_t{kOrphans});
}

TEST_F(LinuxProcessesTest, UncapturedOutputStillExits) {
  SpawnSpec spec = sh("exit 4");
  spec.capture_output = false;
  auto r = run(spec);
  ASSERT_TRUE(r->exit);
  EXPECT_EQ(r->exit->code, 4);
  EXPECT_TRUE(r->lines.empty());
}

TEST(LinuxProcessesLifetimeTest, DestroyedWithChildrenRunningFiresNothing) {
  boost::asio::io_context io;
  bool called = false;
  SpawnCallbacks cb{[&](std::string_view) { called = true; }, [&](ExitStatus) { called = true; }};
  auto processes = std::make_unique<LinuxProcesses>(io);
  Result<int> pid = processes->spawn(SpawnSpec{{"sleep", "100"}, {}, true}, cb);
  ASSERT_TRUE(pid.ok());
  processes.reset();
  ::kill(*pid, SIGKILL);
  int status = 0;
  EXPECT_EQ(::waitpid(*pid, &status, 0), *pid);  // nobody else reaps it now
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace autopilot::os
