// The spawn step of LinuxProcesses (clone + execve), kept apart from the loop plumbing.
// Internal to os/linux.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "os/processes.h"

namespace autopilot::os {

// Go's exec.LookPath, but over the PATH in `env` ("PATH=..."; the last one
// wins), or `default_path` when env has none. A name containing '/' is
// returned as is. Error: exec: "name": executable file not found in $PATH
Result<std::string> look_path(const std::string& file, const Environment& env, std::string_view default_path);

// look_path's answers, kept per (name, PATH) so that a periodic job does not
// search PATH (a stat per directory tried) on every run. Only found paths are
// kept. An answer is trusted until exec'ing it fails with ENOENT or EACCES
// (the file vanished or changed): Launcher then searches again.
// As with a shell's command hash, a binary installed later in an earlier PATH
// directory is not seen while the cached one still runs.
class PathCache {
 public:
  static constexpr size_t kMaxEntries = 256;  // then it starts over

  Result<std::string> look_path(const std::string& file, const Environment& env, std::string_view default_path);
  void forget(const std::string& file, const Environment& env, std::string_view default_path);
  size_t size() const { return paths_.size(); }

 private:
  using Key = std::pair<std::string, std::string>;  // (name, PATH)
  // Compares keys with (name, PATH) views too: a lookup copies no strings.
  struct KeyLess {
    using is_transparent = void;
    using View = std::pair<std::string_view, std::string_view>;
    static View view(const Key& k) { return {k.first, k.second}; }
    static View view(const View& v) { return v; }
    bool operator()(const auto& a, const auto& b) const { return view(a) < view(b); }
  };
  std::map<Key, std::string, KeyLess> paths_;  // -> the path found
};

// A close-on-exec, non-blocking pipe whose ends are both >= 3, so they cannot
// collide with the child's 0, 1 and 2 even when our own standard fds are
// closed. Launcher makes the write end blocking again in the child.
struct PipeFds {
  int read = -1;
  int write = -1;
};
Result<PipeFds> make_pipe();

// Starts commands: spec.argv[0], looked up in the PATH of spec.env, with
// spec.argv and exactly spec.env, in a new process group, stdin /dev/null,
// default signal dispositions and an empty signal mask. stdout and stderr both
// go to output_fd (made blocking in the child), or are inherited when it is -1.
//
// clone(CLONE_VM) + execve, in two ways:
// - The first start of a program waits for its exec (CLONE_VFORK), so that an
//   exec error comes back from start() itself, in Go's words:
//   "fork/exec <path>: <errno text>". When a remembered PATH answer no longer
//   execs (ENOENT, EACCES), the name is looked up afresh and started once more.
// - Once a program has exec'd, later starts of it do not wait: the child runs
//   on a stack slot of its own until its exec, and the caller goes on at once
//   (a periodic job's run costs the loop no sleep and wake-up). The child then
//   makes only raw system calls, since it shares our memory while we run.
//   The file is still checked (one stat): one that is gone or no longer
//   executable is looked up and started the waited way again. Should the exec
//   fail after all (say, the file was replaced by one of another format), the
//   child exits with status 127 and exec_error() has the error once it is
//   reaped; the program must prove itself again.
// With no free slot, on an architecture without the raw calls, or under
// valgrind (which cannot run such a child), a start waits.
class Launcher {
 public:
  static constexpr size_t kSlots = 16;
  static constexpr size_t kMaxProven = 256;  // then it starts over

  Launcher();
  ~Launcher();
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  // spec.argv[0] looked up in PATH (remembered in a PathCache), for start().
  Result<std::string> resolve(const SpawnSpec& spec, std::string_view default_path);
  // Starts spec with `path`, resolve()'s answer.
  Result<int> start(std::string path, const SpawnSpec& spec, std::string_view default_path, int output_fd);
  // For a reaped child that start() did not wait for: why its exec failed,
  // or nothing when it ran. Each failure is told once.
  std::optional<std::string> exec_error(int pid);

  // Starts that did not wait for the exec (for tests).
  std::uint64_t unwaited_starts() const { return unwaited_starts_; }

 private:
  struct Slot;
  Result<int> start_waited(const std::string& file, std::string path, const SpawnSpec& spec,
                           std::string_view default_path, int output_fd);
  Result<int> start_unwaited(size_t slot, const std::string& path, const SpawnSpec& spec, int output_fd);
  size_t free_slot();  // kSlots when none is free
  void collect(Slot& slot);

  PathCache paths_;
  std::set<std::string, std::less<>> proven_;  // paths that exec'd
  std::unique_ptr<Slot[]> slots_;        // made at the first unwaited start
  std::unique_ptr<std::byte[]> stacks_;  // kSlotStack bytes per slot
  std::map<int, std::string> failures_;  // pid -> exec error, until reaped
  std::uint64_t unwaited_starts_ = 0;
};

}  // namespace autopilot::os
