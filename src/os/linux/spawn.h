// The posix_spawn step of LinuxProcesses, kept apart from the loop plumbing.
// Internal to os/linux.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "os/processes.h"

namespace autopilot::os {

// Go's exec.LookPath, but over the PATH in `env` ("PATH=..."; the last one
// wins), or `default_path` when env has none. A name containing '/' is
// returned as is. Error: exec: "name": executable file not found in $PATH
Result<std::string> look_path(const std::string& file, const std::vector<std::string>& env,
                              const std::string& default_path);

// A close-on-exec pipe whose ends are both >= 3, so they cannot collide with
// the child's 0, 1 and 2 even when our own standard fds are closed.
struct PipeFds {
  int read = -1;
  int write = -1;
};
Result<PipeFds> make_pipe();

// Starts `path` with spec.argv and exactly spec.env, in a new process group,
// stdin /dev/null, default signal dispositions and an empty signal mask.
// stdout/stderr go to out_fd/err_fd, or are inherited when those are -1.
// Returns the pid, or Go's error text: "fork/exec <path>: <errno text>".
Result<int> start_process(const std::string& path, const SpawnSpec& spec, int out_fd, int err_fd);

}  // namespace autopilot::os
