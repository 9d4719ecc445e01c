// The spawn step of LinuxProcesses (clone + execve), kept apart from the loop plumbing.
// Internal to os/linux.
#pragma once

#include <map>
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
// (the file vanished or changed): start_command then searches again, once.
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
// closed. start_command makes the write end blocking again in the child.
struct PipeFds {
  int read = -1;
  int write = -1;
};
Result<PipeFds> make_pipe();

// Starts spec.argv[0], looked up through `paths`, with spec.argv and exactly
// spec.env, in a new process group, stdin /dev/null, default signal
// dispositions and an empty signal mask. stdout and stderr both go to
// output_fd (made blocking in the child), or are inherited when it is -1. When the cached path no longer
// execs (ENOENT, EACCES) it is looked up afresh and started once more.
// Returns the pid, or look_path's error, or Go's error text:
// "fork/exec <path>: <errno text>".
Result<int> start_command(PathCache& paths, const SpawnSpec& spec, std::string_view default_path, int output_fd);

}  // namespace autopilot::os
