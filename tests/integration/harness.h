// A real autopilot process for integration tests: started with a config
// written to a temp dir, its combined stdout/stderr read line by line, and
// waited on with deadlines (never a bare sleep).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace autopilot::testing {

using namespace std::chrono_literals;

// A fresh directory under $TMPDIR, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

std::string autopilot_bin();
std::string source_dir();

struct Exit {
  int code = -1;    // exit code, or -1
  int signal = 0;   // terminating signal
};

class Process {
 public:
  // argv[0] is the program; env entries "K=V" are added to ours.
  Process(std::vector<std::string> argv, std::vector<std::string> env = {});
  ~Process();

  int pid() const { return pid_; }
  // Reads output until a line matches `pattern` or the deadline passes.
  // Returns the matching line.
  std::optional<std::string> wait_for(const std::string& pattern, std::chrono::milliseconds timeout = 10s);
  // Waits for the exit, reading the rest of the output.
  // Reads output until some line, old or new, matches `pattern`: for lines
  // whose order is not defined (jobs started together).
  bool wait_seen(const std::string& pattern, std::chrono::milliseconds timeout = 10s);
  std::optional<Exit> wait_exit(std::chrono::milliseconds timeout = 15s);
  // Reads output (without consuming it for wait_for) until `done()` holds,
  // checking it at least every 100 ms; false when `timeout` passes first.
  // For conditions outside the process's output, such as a file it writes.
  bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s);
  void signal(int sig) const;
  const std::vector<std::string>& lines() const { return lines_; }
  std::string output() const;
  // Index of the first line matching `pattern`, or -1.
  int find(const std::string& pattern) const;
  int count(const std::string& pattern) const;

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);

  int pid_ = -1;
  int fd_ = -1;
  std::string partial_;
  bool unterminated_ = false;  // the output ended without a newline
  std::vector<std::string> lines_;
  size_t scanned_ = 0;
  std::optional<Exit> exit_;
};

// Runs `autopilot -config <file>` with the given config text.
Process run_autopilot(const TempDir& dir, const std::string& config, std::vector<std::string> env = {},
                      std::vector<std::string> extra_args = {});

// Child pids of `pid` (from /proc/<pid>/task/*/children).
std::vector<int> children_of(int pid);

// The whole content of a file ("" when it cannot be read).
std::string read_text(const std::string& path);
// The pid of the demo app (examples/discovery/demo_app) a process runs, from
// its "demo_app listening on ... pid N" line; -1 when it never says so.
int demo_app_pid(Process& p);
// Zombie processes whose parent is `pid`.
int zombies_of(int pid);
// The state letter of /proc/<pid>/stat ('R', 'S', 'Z', ...), or '\0' when it is gone.
char process_state(int pid);

}  // namespace autopilot::testing
