// Processes: the seam for starting, signalling and reaping children.
// The real implementation (os/linux/linux_processes.h) runs on the event loop:
// exits arrive as loop events after the child has been reaped and its output
// drained. Tests above os/ use os/fake/fake_processes.h.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "os/environment.h"

namespace autopilot::os {

struct ExitStatus {
  int code = 0;    // exit code when the process exited
  int signal = 0;  // the signal that killed it, or 0
  // Set when the program never ran: its exec failed after spawn() had
  // returned (code is then 127). Go's words: "fork/exec <path>: <errno text>".
  std::string exec_error = {};

  bool is_success() const { return signal == 0 && code == 0; }
  // The status a shell would report: the code, or 128 + signal.
  int shell_code() const { return signal ? 128 + signal : code; }
};

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH from `env`
  Environment env;                // the child's whole environment
  bool capture_output = true;     // false: the child writes straight to our stdout/stderr
  // With capture_output: false captures stdout alone and leaves stderr ours
  // (a v2 sensor's value is its stdout; its diagnostics must not spoil it).
  bool capture_stderr = true;
};

struct SpawnCallbacks {
  // One call per complete line of the child's output (stdout and stderr are
  // one stream, in the order written, unless !capture_stderr), without the newline; a final
  // unterminated line is delivered before on_exit.
  std::function<void(std::string_view line)> on_line;
  // Exactly once, after the process is reaped and its pipes are drained.
  std::function<void(ExitStatus)> on_exit;
};

class Processes {
 public:
  virtual ~Processes() = default;

  // Starts a child in a new process group (pgid == pid). Fails, with the
  // exec error in Go/ContainerPilot's words, when the program cannot be
  // started; then no callback fires.
  virtual Result<int> spawn(const SpawnSpec& spec, SpawnCallbacks callbacks) = 0;

  // Sends `sig` to the process group led by `pid` (falls back to the pid
  // alone when the group is gone). A no-op for pids already reaped.
  virtual void signal_group(int pid, int sig) = 0;

  // Children spawned and not yet reaped.
  virtual size_t running() const = 0;
};

}  // namespace autopilot::os
