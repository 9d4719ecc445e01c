// LinuxProcesses: Processes on a Boost.Asio io_context, plus the reaper a
// PID 1 needs. One instance per process: it owns SIGCHLD and reaps every
// child of the process, including orphans re-parented to us.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "base/lifetime.h"
#include "os/linux/spawn.h"
#include "os/processes.h"

namespace autopilot::os {

// Contract, beyond Processes:
// - spawn() uses clone(CLONE_VM) and execve (os/linux/spawn.h: Launcher):
//   the first start of a program waits for its exec, later ones do not (an
//   exec that fails then is an exit with ExitStatus::exec_error set).
//   The child gets its own process group, stdin
//   from /dev/null, exactly spec.env as environment, default signal
//   dispositions and an empty signal mask. argv[0] without a '/' is looked up
//   in the PATH of spec.env (or kDefaultPath when spec.env has no PATH), with
//   Go's exec.LookPath rules, and the answer is remembered per (argv[0], PATH)
//   until exec'ing it fails (os/linux/spawn.h: PathCache). Errors are Go's
//   words, e.g.
//     exec: "nosuch": executable file not found in $PATH
//     fork/exec /bin/x: permission denied
// - With capture_output, stdout and stderr are one pipe (as in a terminal, the
//   order of the two is kept), read on the loop and split into lines; a line
//   longer than kMaxLine bytes is delivered in kMaxLine pieces. Without it the
//   child shares our fds 1 and 2.
// - on_exit fires once the child is reaped and the pipe hits EOF, or
//   kDrainGrace after the reap when a grandchild still holds the pipe open (it
//   is then closed, a pending partial line delivered first).
// - signal_group() does nothing for pids it did not spawn or already reaped,
//   so a recycled pid is never signalled by mistake.
// - All callbacks run on the loop, never inline from spawn() or signal_group().
// - The constructor makes us a child subreaper (PR_SET_CHILD_SUBREAPER) and
//   reaps zombies left from before. Every SIGCHLD reaps with waitpid(-1) until
//   nothing is left; pids we did not spawn are counted in orphans_reaped().
//   SIGCHLD is not SA_RESTART: other code must tolerate EINTR.
// - Loop thread only; destroy it before the io_context. Destroying it stops
//   reaping; children still running are left alone and their callbacks never
//   fire.
class LinuxProcesses : public Processes {
 public:
  static constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  static constexpr size_t kMaxLine = 64 * 1024;
  static constexpr std::chrono::milliseconds kDrainGrace{100};

  explicit LinuxProcesses(boost::asio::io_context& io);
  ~LinuxProcesses() override;

  LinuxProcesses(const LinuxProcesses&) = delete;
  LinuxProcesses& operator=(const LinuxProcesses&) = delete;

  Result<int> spawn(const SpawnSpec& spec, SpawnCallbacks callbacks) override;
  void signal_group(int pid, int sig) override;
  size_t running() const override { return children_.size(); }

  // Processes we reaped that we did not spawn (re-parented orphans).
  std::uint64_t orphans_reaped() const { return orphans_reaped_; }

  // For the end of a run when we are not PID 1 (PID 1's exit ends every
  // process of its namespace; a sub-reaper's does not): SIGTERM to every
  // remaining descendant (orphans re-parented to us and their children),
  // SIGKILL to what is left after `grace`, then `done(signalled)` on the loop
  // once none is left (or kKillWait after the SIGKILL, whatever remains);
  // `signalled` counts the processes that got the SIGTERM.
  // Call it once.
  void end_descendants(std::chrono::nanoseconds grace, std::function<void(size_t signalled)> done);
  static constexpr std::chrono::seconds kKillWait{2};
  // Spawns that did not wait for the child's exec (os/linux/spawn.h).
  std::uint64_t unwaited_starts() const { return launcher_.unwaited_starts(); }

  struct Child;  // defined in the .cc

 private:
  void wait_for_sigchld();
  void reap_all();
  void on_reaped(const std::shared_ptr<Child>& child, ExitStatus status);
  enum class Drain { kEmpty, kMore, kEnded };
  void wait_readable(const std::shared_ptr<Child>& child);
  void on_readable(const std::shared_ptr<Child>& child, boost::system::error_code ec);
  Drain drain(Child& child);
  void close_pipe_after_grace(const std::shared_ptr<Child>& child);
  void finish_if_done(const std::shared_ptr<Child>& child);
  // Signals every descendant; how many.
  size_t signal_descendants(int sig);
  void check_descendants_ended();

  boost::asio::io_context& io_;
  boost::asio::signal_set sigchld_;
  Launcher launcher_;
  std::map<int, std::shared_ptr<Child>> children_;  // spawned, not yet reaped
  std::vector<std::shared_ptr<Child>> draining_;    // reaped, pipes still open
  std::uint64_t orphans_reaped_ = 0;
  // end_descendants: its callback while it waits, and its timer.
  std::function<void(size_t)> on_descendants_ended_;
  size_t descendants_signalled_ = 0;
  std::unique_ptr<boost::asio::steady_timer> end_timer_;
  std::vector<char> buffer_ = std::vector<char>(16 * 1024);  // every pipe is read into it, one at a time
  // Last: a completion queued before our destruction finds it ended. The
  // handlers also share each Child: its pipe and buffers belong to the
  // pending read, whoever goes first.
  Lifetime lifetime_;
};

}  // namespace autopilot::os
