// Output: puts a rendered template on disk, consul-template's safe write made
// safer. The new content goes to a temp file beside the destination, is
// fsynced, can be vetted by a `check` command, and replaces the old file with
// one rename(2); a failing reload `command` rolls the file back. The old file
// is never modified in place, so readers see the old bytes or the new ones.
//
// Output knows files and processes only: not templates, catalogs or jobs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/lifetime.h"
#include "base/result.h"
#include "log/log.h"
#include "os/files.h"
#include "os/processes.h"
#include "os/timers.h"

namespace autopilot::render {

struct OutputSpec {
  std::string name;                  // for logs and errors: "template nginx"
  std::string destination;           // absolute, or relative to the working directory
  std::optional<mode_t> perms;       // default: the existing file's mode, else 0644
  bool backup = false;               // keep <destination>.bak (hard link of the previous file)
  bool create_dest_dirs = true;      // mkdir -p the destination's directory (0755)
  // argv run on the new temp file before the swap; "{{.TempFile}}" (or
  // "{{ .TempFile }}") anywhere in an argument becomes the temp file's path.
  // Empty: no check.
  std::vector<std::string> check;
  // argv run after a changed file was swapped in (e.g. nginx -s reload).
  // Empty: none.
  std::vector<std::string> command;
  // For check and command: past it the process group is SIGKILLed and the run
  // counts as failed.
  Duration command_timeout = std::chrono::seconds(30);
};

enum class Outcome {
  kUnchanged,      // same bytes and mode on disk: nothing touched, no command
  kWritten,        // swapped in, command (if any) succeeded
  kCheckFailed,    // check failed or timed out: temp file removed, old file untouched
  kCommandFailed,  // command failed or timed out: previous file restored
};

// "unchanged", "written", "check failed", "command failed".
const char* outcome_name(Outcome outcome);

class Output {
 public:
  using Done = std::function<void(Result<Outcome>)>;

  // All references must outlive the Output. `child_env` builds the
  // environment ("K=V") of each check and command; null means empty.
  Output(OutputSpec spec, os::Processes& processes, os::Timers& timers, os::Files& files, log::Log& log,
         std::function<os::Environment()> child_env);
  // Destruction while a write runs abandons it: a running check or command
  // has its process group SIGKILLed, a temp file not yet swapped in is
  // removed, a file already swapped in stays (no rollback: a command killed
  // half-way leaves the service state unknown either way), and no Done
  // callback fires afterwards, including queued ones not yet delivered.
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Swaps `content` in if it differs from the destination's bytes or mode.
  // `done` is called exactly once, on the loop (through Timers), never
  // inline. One write runs at a time: a write() while one runs is queued, and
  // a later one replaces the queued content (coalescing); every `done` of the
  // replaced writes gets the result of the write that finally ran.
  //
  // Steps: (1) read the destination: same bytes and mode -> kUnchanged.
  // (2) write a temp file `.<basename>.autopilot-XXXXXX` in the destination's
  // directory (creating it when create_dest_dirs) with os::Files::stage: all
  // bytes, fchown to the existing file's owner (EPERM ignored when not root),
  // fchmod, fsync.
  // (3) run `check`; failure -> kCheckFailed. (4) with `backup`, hard-link
  // the existing file to <destination>.bak (atomically replacing an older
  // one). (5) rename the temp file over the destination, fsync the directory
  // (os::Files: a directory that cannot be synced is not an error).
  // (6) run `command`; failure -> restore the previous file (from .bak, else
  // from the bytes read in step 1) without re-running the command ->
  // kCommandFailed. With no previous file there is nothing to restore: the
  // new (checked) file stays, with a warning, -> kWritten (the first render's
  // reload command fails while the service is not running yet).
  //
  // Errors (the destination's directory cannot be created or written, the
  // destination is not a regular file, a rename fails, a rollback fails) name
  // the call and the path: "template nginx: open /x/y: Not a directory".
  // The old file is untouched, except after a failed rollback.
  //
  // Logging: check and command output is logged line by line under
  // "check.<name>" / "command.<name>", at warn level when the run failed,
  // info otherwise, followed by one warn line for a failure. Writes and
  // errors themselves are left for the caller to log.
  //
  // Loop thread only. File I/O goes through os::Files, synchronously, on the
  // loop; processes never block it.
  void write(std::string content, Done done);

  bool is_writing() const { return run_ != nullptr; }
  const OutputSpec& spec() const { return spec_; }

 private:
  struct Run;
  struct ProcessEnd;

  void start(std::string content, std::vector<Done> dones);
  Result<bool> prepare();
  void run_check();
  void on_check_end(const ProcessEnd& end);
  void swap_in();
  void run_command();
  void on_command_end(const ProcessEnd& end);
  Result<void> roll_back();
  void run_process(std::vector<std::string> argv, const std::string& log_name,
                   std::function<void(const ProcessEnd&)> then);
  void finish(Result<Outcome> result);
  void deliver();

  OutputSpec spec_;
  os::Processes& processes_;
  os::Timers& timers_;
  os::Files& files_;
  log::Log& log_;
  std::function<os::Environment()> child_env_;

  std::unique_ptr<Run> run_;  // the write in progress
  struct Pending {
    std::string content;
    std::vector<Done> dones;
  };
  std::optional<Pending> pending_;  // the next write (latest content only)

  int process_pid_ = 0;             // the running check or command
  os::Timer process_timer_{timers_};

  std::vector<std::pair<Done, Result<Outcome>>> deliveries_;  // results not yet handed out
  os::Timer delivery_timer_{timers_};

  // Last: the process callbacks do nothing once the Output is gone.
  Lifetime lifetime_;
};

}  // namespace autopilot::render
