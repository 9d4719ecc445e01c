#include "render/output.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "log/log.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"
#include "os/linux/linux_processes.h"
#include "os/linux/loop_testing.h"

namespace autopilot::render {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void put_file(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

mode_t mode_of(const std::string& path) { return stat_of(path).st_mode & 07777; }

size_t count_lines(const std::string& path) {
  std::string s = read_file(path);
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

class OutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "output_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    etc_ = root_ + "/etc";
    dest_ = etc_ + "/app.conf";
    marker_ = root_ + "/marker";
    log_path_ = root_ + "/autopilot.log";
    log_ = std::make_unique<log::Log>(log::LogConfig{log::Level::kDebug, log::Format::kDefault, log_path_});
    ASSERT_TRUE(log_->open().ok());
  }

  void TearDown() override {
    outputs_.clear();
    // Reap what a test left running (killed checks) before the loop goes.
    os::run_until(io_, [&] { return processes_.running() == 0; }, 5s);
    std::error_code ec;
    fs::permissions(etc_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }

  OutputSpec spec() {
    OutputSpec s;
    s.name = "t";
    s.destination = dest_;
    return s;
  }

  Output& make(OutputSpec s) {
    outputs_.push_back(std::make_unique<Output>(std::move(s), processes_, timers_, files_, *log_,
                                                [] { return std::vector<std::string>{"PATH=/usr/bin:/bin"}; }));
    return *outputs_.back();
  }

  // Writes and runs the loop until the result arrives.
  Result<Outcome> write(Output& out, std::string content) {
    std::optional<Result<Outcome>> result;
    out.write(std::move(content), [&](Result<Outcome> r) { result = std::move(r); });
    EXPECT_FALSE(result.has_value()) << "done called inline";
    EXPECT_TRUE(os::run_until(io_, [&] { return result.has_value(); })) << "no result";
    if (!result) return make_error("no result");
    return *result;
  }

  // Temp files the Output left in `dir`.
  size_t leftovers(const std::string& dir) {
    size_t n = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().filename().string().find(".autopilot-") != std::string::npos) ++n;
    }
    return n;
  }

  // A command that counts its runs in the marker file, then exits with `code`.
  std::vector<std::string> counting_command(int code = 0) {
    return {"sh", "-c", "echo run >> " + marker_ + "; exit " + std::to_string(code)};
  }

  std::string root_, etc_, dest_, marker_, log_path_;
  boost::asio::io_context io_;
  os::LinuxProcesses processes_{io_};
  os::AsioTimers timers_{io_};
  os::LinuxFiles files_{io_};
  std::unique_ptr<log::Log> log_;
  std::vector<std::unique_ptr<Output>> outputs_;
};

#define EXPECT_OUTCOME(result, want)                                              \
  do {                                                                            \
    auto r_ = (result);                                                           \
    ASSERT_TRUE(r_.ok()) << r_.error().message;                                   \
    EXPECT_STREQ(outcome_name(*r_), outcome_name(want));                          \
  } while (0)

TEST_F(OutputTest, NewFileIsWrittenWith0644InCreatedDirs) {
  auto& out = make(spec());
  EXPECT_OUTCOME(write(out, "hello\n"), Outcome::kWritten);
  EXPECT_EQ(read_file(dest_), "hello\n");
  EXPECT_EQ(mode_of(dest_), 0644u);
  EXPECT_EQ(leftovers(etc_), 0u);
  EXPECT_FALSE(fs::exists(dest_ + ".bak"));
}

TEST_F(OutputTest, UnchangedContentTouchesNothingAndRunsNoCommand) {
  auto s = spec();
  s.command = counting_command();
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "same\n"), Outcome::kWritten);
  EXPECT_EQ(count_lines(marker_), 1u);
  auto before = stat_of(dest_);

  EXPECT_OUTCOME(write(out, "same\n"), Outcome::kUnchanged);
  auto after = stat_of(dest_);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(count_lines(marker_), 1u);

  EXPECT_OUTCOME(write(out, "changed\n"), Outcome::kWritten);
  EXPECT_EQ(count_lines(marker_), 2u);
  EXPECT_EQ(read_file(dest_), "changed\n");
}

TEST_F(OutputTest, PermsOptionIsHonoured) {
  auto s = spec();
  s.perms = 0600;
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "secret\n"), Outcome::kWritten);
  EXPECT_EQ(mode_of(dest_), 0600u);
}

TEST_F(OutputTest, ModeDifferenceAloneRewrites) {
  fs::create_directories(etc_);
  put_file(dest_, "x\n", 0644);
  auto s = spec();
  s.perms = 0640;
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "x\n"), Outcome::kWritten);
  EXPECT_EQ(mode_of(dest_), 0640u);
  EXPECT_OUTCOME(write(out, "x\n"), Outcome::kUnchanged);
}

TEST_F(OutputTest, ExistingModeIsKeptByDefault) {
  fs::create_directories(etc_);
  put_file(dest_, "old\n", 0604);
  auto& out = make(spec());
  EXPECT_OUTCOME(write(out, "new\n"), Outcome::kWritten);
  EXPECT_EQ(read_file(dest_), "new\n");
  EXPECT_EQ(mode_of(dest_), 0604u);
}

TEST_F(OutputTest, PassingCheckLetsTheWriteThrough) {
  auto s = spec();
  s.check = {"sh", "-c", "exit 0"};
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "ok\n"), Outcome::kWritten);
  EXPECT_EQ(read_file(dest_), "ok\n");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, FailingCheckKeepsTheOldFileAndLogsItsOutput) {
  fs::create_directories(etc_);
  put_file(dest_, "old\n");
  auto before = stat_of(dest_);
  auto s = spec();
  s.check = {"sh", "-c", "echo bad config >&2; exit 1"};
  s.command = counting_command();
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "new\n"), Outcome::kCheckFailed);
  EXPECT_EQ(read_file(dest_), "old\n");
  EXPECT_EQ(stat_of(dest_).st_ino, before.st_ino);
  EXPECT_EQ(leftovers(etc_), 0u);
  EXPECT_FALSE(fs::exists(marker_));
  std::string logged = read_file(log_path_);
  EXPECT_NE(logged.find(" check.t "), std::string::npos) << logged;
  EXPECT_NE(logged.find(" warning: bad config\n"), std::string::npos) << logged;
  EXPECT_NE(logged.find(" warning: t: check failed (exited with status 1); " + dest_ + " left unchanged: bad config\n"),
            std::string::npos)
      << logged;
}

TEST_F(OutputTest, CheckReceivesTheTempFile) {
  auto s = spec();
  s.check = {"grep", "-q", "good", "{{.TempFile}}"};
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "good stuff\n"), Outcome::kWritten);
  EXPECT_OUTCOME(write(out, "bad stuff\n"), Outcome::kCheckFailed);
  EXPECT_EQ(read_file(dest_), "good stuff\n");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, CheckTempFileIsBesideTheDestinationWithItsContentAndMode) {
  auto s = spec();
  s.perms = 0640;
  // The spaced spelling, inside a larger argument.
  s.check = {"sh", "-c",
             "f=\"${0#file=}\"; case \"$f\" in " + etc_ +
                 "/.app.conf.autopilot-*) ;; *) exit 1;; esac; "
                 "test \"$(cat \"$f\")\" = payload && test \"$(stat -c %a \"$f\")\" = 640",
             "file={{ .TempFile }}"};
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "payload"), Outcome::kWritten);
}

TEST_F(OutputTest, CheckThatCannotStartFails) {
  auto s = spec();
  s.check = {"no-such-check-program"};
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "x\n"), Outcome::kCheckFailed);
  EXPECT_FALSE(fs::exists(dest_));
  EXPECT_EQ(leftovers(etc_), 0u);
  EXPECT_NE(read_file(log_path_).find("t: check failed (exec: \"no-such-check-program\": executable file not found in $PATH)"),
            std::string::npos)
      << read_file(log_path_);
}

TEST_F(OutputTest, CheckWhoseExecFailsLaterFailsWithTheError) {
  // The second run of a program does not wait for its exec (os/linux/spawn.h):
  // an exec that fails then still fails the check, with the exec error.
  fs::create_directories(etc_);
  std::string checker = etc_ + "/checker";
  put_file(checker, "#!/bin/sh\nexit 0\n");
  fs::permissions(checker, fs::perms(0755));
  auto s = spec();
  s.check = {checker};
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "one\n"), Outcome::kWritten);
  put_file(checker, "exit 0\n");  // executable, but no longer a format the kernel runs
  fs::permissions(checker, fs::perms(0755));
  EXPECT_OUTCOME(write(out, "two\n"), Outcome::kCheckFailed);
  EXPECT_EQ(read_file(dest_), "one\n");
  EXPECT_NE(read_file(log_path_).find("t: check failed (fork/exec " + checker + ": exec format error)"),
            std::string::npos)
      << read_file(log_path_);
}

TEST_F(OutputTest, CheckTimeoutKillsAndFails) {
  fs::create_directories(etc_);
  put_file(dest_, "old\n");
  auto s = spec();
  s.check = {"sleep", "5"};
  s.command_timeout = 200ms;
  auto& out = make(s);
  auto start = std::chrono::steady_clock::now();
  EXPECT_OUTCOME(write(out, "new\n"), Outcome::kCheckFailed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(read_file(dest_), "old\n");
  EXPECT_EQ(leftovers(etc_), 0u);
  EXPECT_NE(read_file(log_path_).find("t: check failed (timed out after 200ms)"), std::string::npos)
      << read_file(log_path_);
}

TEST_F(OutputTest, FailingCommandRestoresTheOldFileAndIsNotRerun) {
  fs::create_directories(etc_);
  put_file(dest_, "old\n", 0640);
  auto s = spec();
  s.command = counting_command(3);
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "new\n"), Outcome::kCommandFailed);
  EXPECT_EQ(read_file(dest_), "old\n");
  EXPECT_EQ(mode_of(dest_), 0640u);
  EXPECT_EQ(count_lines(marker_), 1u);
  EXPECT_EQ(leftovers(etc_), 0u);
  EXPECT_NE(read_file(log_path_).find("t: command failed (exited with status 3); restored the previous " + dest_),
            std::string::npos)
      << read_file(log_path_);
}

TEST_F(OutputTest, FailingCommandWithoutPreviousFileKeepsTheNewOne) {
  // The first render: the service the command reloads is not running yet.
  auto s = spec();
  s.command = {"sh", "-c", "echo reload failed; exit 1"};
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "new\n"), Outcome::kWritten);
  EXPECT_EQ(read_file(dest_), "new\n");
  EXPECT_EQ(leftovers(etc_), 0u);
  EXPECT_NE(read_file(log_path_).find("t: command failed (exited with status 1); " + dest_ +
                                      " is new, so it stays (nothing to roll back to): reload failed\n"),
            std::string::npos)
      << read_file(log_path_);
}

TEST_F(OutputTest, CommandTimeoutRollsBack) {
  fs::create_directories(etc_);
  put_file(dest_, "old\n");
  auto s = spec();
  s.command = {"sleep", "5"};
  s.command_timeout = 200ms;
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "new\n"), Outcome::kCommandFailed);
  EXPECT_EQ(read_file(dest_), "old\n");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, BackupKeepsThePreviousFile) {
  auto s = spec();
  s.backup = true;
  auto& out = make(s);
  EXPECT_OUTCOME(write(out, "v1\n"), Outcome::kWritten);
  EXPECT_FALSE(fs::exists(dest_ + ".bak"));
  EXPECT_OUTCOME(write(out, "v2\n"), Outcome::kWritten);
  EXPECT_EQ(read_file(dest_ + ".bak"), "v1\n");
  EXPECT_OUTCOME(write(out, "v3\n"), Outcome::kWritten);
  EXPECT_EQ(read_file(dest_ + ".bak"), "v2\n");
  EXPECT_EQ(read_file(dest_), "v3\n");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, RollbackFromBackupThenNextWrite) {
  fs::create_directories(etc_);
  put_file(dest_, "v1\n", 0640);
  auto before = stat_of(dest_);
  std::string fail_flag = root_ + "/fail";
  auto s = spec();
  s.backup = true;
  s.command = {"sh", "-c", "test -e " + fail_flag + " && exit 1; exit 0"};
  auto& out = make(s);

  put_file(fail_flag, "");
  EXPECT_OUTCOME(write(out, "v2\n"), Outcome::kCommandFailed);
  EXPECT_EQ(read_file(dest_), "v1\n");
  EXPECT_EQ(stat_of(dest_).st_ino, before.st_ino);  // the very file, back from .bak
  EXPECT_EQ(read_file(dest_ + ".bak"), "v1\n");
  EXPECT_EQ(leftovers(etc_), 0u);

  fs::remove(fail_flag);
  EXPECT_OUTCOME(write(out, "v3\n"), Outcome::kWritten);
  EXPECT_EQ(read_file(dest_), "v3\n");
  EXPECT_EQ(mode_of(dest_), 0640u);
  EXPECT_EQ(read_file(dest_ + ".bak"), "v1\n");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, ConcurrentWritesCoalesce) {
  auto s = spec();
  s.command = counting_command();
  auto& out = make(s);
  std::vector<std::string> results;
  for (std::string content : {"one\n", "two\n", "three\n"}) {
    out.write(content, [&results, content](Result<Outcome> r) {
      results.push_back(content + (r.ok() ? outcome_name(*r) : r.error().message));
    });
  }
  EXPECT_TRUE(results.empty());
  ASSERT_TRUE(os::run_until(io_, [&] { return results.size() == 3; }));
  // The first runs; the second is replaced by the third while queued.
  EXPECT_EQ(results, (std::vector<std::string>{"one\nwritten", "two\nwritten", "three\nwritten"}));
  EXPECT_EQ(count_lines(marker_), 2u);
  EXPECT_EQ(read_file(dest_), "three\n");
  EXPECT_FALSE(out.is_writing());
}

TEST_F(OutputTest, BackupFailureIsAnErrorAndLeavesNothing) {
  fs::create_directories(etc_);
  put_file(dest_, "old\n");
  fs::create_directories(dest_ + ".bak/occupied");
  auto s = spec();
  s.backup = true;
  auto& out = make(s);
  auto r = write(out, "new\n");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with("t: rename " + etc_ + "/.app.conf.autopilot-")) << r.error().message;
  EXPECT_TRUE(r.error().message.ends_with(" " + dest_ + ".bak: Is a directory")) << r.error().message;
  EXPECT_EQ(read_file(dest_), "old\n");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, ParentThatIsAFileIsAnError) {
  put_file(root_ + "/afile", "not a directory\n");
  auto s = spec();
  s.destination = root_ + "/afile/out.conf";
  auto& out = make(s);
  auto r = write(out, "x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "t: open " + root_ + "/afile/out.conf: Not a directory");
  EXPECT_EQ(read_file(root_ + "/afile"), "not a directory\n");
  EXPECT_EQ(leftovers(root_), 0u);
}

TEST_F(OutputTest, MissingDirectoryWithoutCreateDestDirsIsAnError) {
  auto s = spec();
  s.create_dest_dirs = false;
  auto& out = make(s);
  auto r = write(out, "x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "t: mkstemp " + etc_ + "/.app.conf.autopilot-XXXXXX: No such file or directory");
  EXPECT_FALSE(fs::exists(etc_));
}

TEST_F(OutputTest, UnwritableDirectoryIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  fs::create_directories(etc_);
  put_file(dest_, "old\n");
  ASSERT_EQ(::chmod(etc_.c_str(), 0555), 0);
  auto& out = make(spec());
  auto r = write(out, "new\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "t: mkstemp " + etc_ + "/.app.conf.autopilot-XXXXXX: Permission denied");
  EXPECT_EQ(read_file(dest_), "old\n");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, DestinationThatIsADirectoryIsAnError) {
  fs::create_directories(dest_);
  auto& out = make(spec());
  auto r = write(out, "x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "t: " + dest_ + " is not a regular file");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, RelativeDestination) {
  fs::create_directories(etc_);
  auto cwd = fs::current_path();
  fs::current_path(etc_);
  auto s = spec();
  s.destination = "rel.conf";
  auto& out = make(s);
  auto r = write(out, "rel\n");
  fs::current_path(cwd);
  EXPECT_OUTCOME(r, Outcome::kWritten);
  EXPECT_EQ(read_file(etc_ + "/rel.conf"), "rel\n");
  EXPECT_EQ(leftovers(etc_), 0u);
}

TEST_F(OutputTest, DestructionDuringCheckKillsItAndCleansUp) {
  fs::create_directories(etc_);
  put_file(dest_, "old\n");
  auto s = spec();
  s.check = {"sleep", "30"};
  auto out = std::make_unique<Output>(s, processes_, timers_, files_, *log_, nullptr);
  bool called = false;
  out->write("new\n", [&](Result<Outcome>) { called = true; });
  EXPECT_EQ(processes_.running(), 1u);
  EXPECT_EQ(leftovers(etc_), 1u);
  out.reset();
  EXPECT_EQ(leftovers(etc_), 0u);
  EXPECT_TRUE(os::run_until(io_, [&] { return processes_.running() == 0; }, 5s));
  os::run_for(io_, 50ms);
  EXPECT_FALSE(called);
  EXPECT_EQ(read_file(dest_), "old\n");
}

TEST_F(OutputTest, DoneMayDestroyTheOutput) {
  auto out = std::make_unique<Output>(spec(), processes_, timers_, files_, *log_, nullptr);
  int calls = 0;
  out->write("a\n", [&](Result<Outcome>) {
    ++calls;
    out.reset();
  });
  // Without check or command both writes finish at once, so both results
  // wait in one delivery batch; the first callback destroys the Output.
  out->write("b\n", [&](Result<Outcome>) { ++calls; });
  os::run_for(io_, 50ms);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace autopilot::render
