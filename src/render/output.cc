#include "render/output.h"

#include <csignal>
#include <string_view>

#include <fmt/format.h>

namespace autopilot::render {
namespace {

// Check and command output kept for the log; a chatty command must not grow
// memory without bound.
constexpr size_t kMaxLoggedLines = 200;
// Output lines repeated in the one-line failure summary.
constexpr size_t kSummaryLines = 3;

// The existing destination, as read before the swap.
struct Snapshot {
  std::string bytes;
  os::FileInfo info;
};

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

Result<std::optional<Snapshot>> read_existing(os::Files& files, const std::string& path) {
  auto bytes = files.read(path);
  if (!bytes) {
    if (bytes.error().code == os::kNotFound) return std::optional<Snapshot>{};
    return bytes.error();
  }
  auto info = files.stat(path);
  if (!info) return info.error();
  if (!*info) return std::optional<Snapshot>{};  // gone since: as if never there
  return std::optional<Snapshot>(Snapshot{std::move(*bytes), **info});
}

os::WriteOptions options_like(mode_t mode, const std::optional<Snapshot>& previous) {
  os::WriteOptions options{.mode = mode};
  if (previous) options.owner = os::WriteOptions::Owner{previous->info.uid, previous->info.gid};
  return options;
}

// The last output lines, for a one-line summary.
std::string output_tail(const std::vector<std::string>& lines) {
  if (lines.empty()) return "";
  size_t from = lines.size() > kSummaryLines ? lines.size() - kSummaryLines : 0;
  std::string tail;
  for (size_t i = from; i < lines.size(); ++i) tail += (i == from ? ": " : " | ") + lines[i];
  return tail;
}

}  // namespace

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kUnchanged: return "unchanged";
    case Outcome::kWritten: return "written";
    case Outcome::kCheckFailed: return "check failed";
    case Outcome::kCommandFailed: return "command failed";
  }
  return "unknown";
}

struct Output::Run {
  std::string content;
  std::vector<Done> dones;
  std::string dir;   // the destination's directory
  std::string base;  // the destination's file name
  std::optional<Snapshot> previous;
  mode_t mode = 0644;
  std::unique_ptr<os::Files::StagedWrite> staged;  // the new content while it is not swapped in
  bool is_backed_up = false;
};

struct Output::ProcessEnd {
  bool ok = false;
  std::string why;  // for a failure: "exited with status 1", "timed out after 200ms", the exec error
  std::vector<std::string> lines;
};

Output::Output(OutputSpec spec, os::Processes& processes, os::Timers& timers, os::Files& files, log::Log& log,
               std::function<os::Environment()> child_env)
    : spec_(std::move(spec)),
      processes_(processes),
      timers_(timers),
      files_(files),
      log_(log),
      child_env_(std::move(child_env)) {}

Output::~Output() {
  if (process_pid_) processes_.signal_group(process_pid_, SIGKILL);
  run_.reset();  // removes a temp file not yet swapped in
}

void Output::write(std::string content, Done done) {
  if (run_) {
    if (!pending_) pending_.emplace();
    pending_->content = std::move(content);
    pending_->dones.push_back(std::move(done));
    return;
  }
  std::vector<Done> dones;
  dones.push_back(std::move(done));
  start(std::move(content), std::move(dones));
}

void Output::start(std::string content, std::vector<Done> dones) {
  run_ = std::make_unique<Run>();
  run_->content = std::move(content);
  run_->dones = std::move(dones);
  auto changed = prepare();
  if (!changed) return finish(changed.error());
  if (!*changed) return finish(Outcome::kUnchanged);
  if (!spec_.check.empty()) return run_check();
  swap_in();
}

// Steps 1 and 2: false when the destination already holds the content.
Result<bool> Output::prepare() {
  Run& run = *run_;
  const std::string& dest = spec_.destination;
  size_t slash = dest.rfind('/');
  run.dir = slash == std::string::npos ? "." : slash == 0 ? "/" : dest.substr(0, slash);
  run.base = slash == std::string::npos ? dest : dest.substr(slash + 1);
  if (run.base.empty()) return make_error(fmt::format("destination {} names a directory", dest));

  auto previous = read_existing(files_, dest);
  if (!previous) return previous.error();
  run.previous = std::move(*previous);
  if (run.previous && run.previous->info.kind != os::FileKind::kFile) {
    return make_error(fmt::format("{} is not a regular file", dest));
  }
  run.mode = spec_.perms ? (*spec_.perms & 07777) : run.previous ? run.previous->info.mode : 0644;
  if (run.previous && run.previous->bytes == run.content && run.previous->info.mode == run.mode) return false;

  if (spec_.create_dest_dirs) {
    auto made = files_.make_dirs(run.dir);
    if (!made) return made.error();
  }
  auto staged = files_.stage(dest, run.content, options_like(run.mode, run.previous));
  if (!staged) return staged.error();
  run.staged = std::move(*staged);
  return true;
}

void Output::run_check() {
  auto argv = spec_.check;
  for (auto& arg : argv) {
    const std::string& temp = run_->staged->temp_path();
    arg = replace_all(replace_all(std::move(arg), "{{.TempFile}}", temp), "{{ .TempFile }}", temp);
  }
  run_process(std::move(argv), "check." + spec_.name, [this](const ProcessEnd& end) { on_check_end(end); });
}

void Output::on_check_end(const ProcessEnd& end) {
  if (end.ok) return swap_in();
  log_.warn(fmt::format("{}: check failed ({}); {} left unchanged{}", spec_.name, end.why, spec_.destination,
                        output_tail(end.lines)));
  finish(Outcome::kCheckFailed);  // removes the temp file
}

// Steps 4 and 5.
void Output::swap_in() {
  Run& run = *run_;
  if (spec_.backup && run.previous) {
    // Another name of the previous file, swapped in atomically over an older one.
    auto backed_up = files_.link_atomic(spec_.destination, spec_.destination + ".bak");
    if (!backed_up) return finish(backed_up.error());
    run.is_backed_up = true;
  }
  auto swapped = run.staged->commit();
  run.staged.reset();  // renamed, or removed by the failed commit
  if (!swapped) return finish(swapped.error());
  if (spec_.command.empty()) return finish(Outcome::kWritten);
  run_command();
}

void Output::run_command() {
  run_process(spec_.command, "command." + spec_.name, [this](const ProcessEnd& end) { on_command_end(end); });
}

void Output::on_command_end(const ProcessEnd& end) {
  if (end.ok) return finish(Outcome::kWritten);
  if (!run_->previous) {
    // Nothing to go back to. Removing the (checked) file would only keep the
    // service that reads it from ever starting: the usual first render, whose
    // reload command fails because the service does not run yet.
    log_.warn(fmt::format("{}: command failed ({}); {} is new, so it stays (nothing to roll back to){}", spec_.name,
                          end.why, spec_.destination, output_tail(end.lines)));
    return finish(Outcome::kWritten);
  }
  // The command is not run again: the service never loaded the new file, so
  // it still runs on the content we put back.
  auto restored = roll_back();
  if (!restored) {
    return finish(make_error(
        fmt::format("command failed ({}) and the rollback failed: {}", end.why, restored.error().message)));
  }
  log_.warn(fmt::format("{}: command failed ({}); {} {}{}", spec_.name, end.why,
                        run_->previous ? "restored the previous" : "removed the new", spec_.destination,
                        output_tail(end.lines)));
  finish(Outcome::kCommandFailed);
}

// Puts the previous file back: the .bak link itself when there is one (same
// inode, owner and mode), else a copy of the bytes read before the swap.
Result<void> Output::roll_back() {
  Run& run = *run_;
  const std::string& dest = spec_.destination;
  if (!run.previous) return files_.remove(dest);
  if (run.is_backed_up && files_.link_atomic(dest + ".bak", dest)) return {};
  // No backup, or someone removed or replaced the .bak: the copy in memory.
  return files_.write_atomic(dest, run.previous->bytes, options_like(run.previous->info.mode, run.previous));
}

void Output::run_process(std::vector<std::string> argv, const std::string& log_name,
                         std::function<void(const ProcessEnd&)> then) {
  struct State {
    std::vector<std::string> lines;
    size_t dropped = 0;
    bool is_timed_out = false;
    int pid = 0;
  };
  auto state = std::make_shared<State>();
  Duration timeout = spec_.command_timeout;
  auto on_line = [state](std::string_view line) {
    if (state->lines.size() < kMaxLoggedLines) {
      state->lines.emplace_back(line);
    } else {
      ++state->dropped;
    }
  };
  auto on_exit = lifetime_.bind([this, state, log_name, timeout, then](os::ExitStatus status) {
    process_timer_.cancel();
    process_pid_ = 0;
    ProcessEnd end{status.is_success() && !state->is_timed_out, "", std::move(state->lines)};
    if (state->is_timed_out) {
      end.why = "timed out after " + format_duration(timeout);
    } else if (!status.exec_error.empty()) {
      end.why = status.exec_error;  // it never ran
    } else if (status.signal) {
      end.why = fmt::format("killed by signal {}", status.signal);
    } else if (status.code) {
      end.why = fmt::format("exited with status {}", status.code);
    }
    auto level = end.ok ? log::Level::kInfo : log::Level::kWarn;
    for (const auto& line : end.lines) log_.write(level, line, log_name, state->pid);
    if (state->dropped) log_.write(level, fmt::format("({} more lines not logged)", state->dropped), log_name, state->pid);
    then(end);
  });
  os::SpawnSpec spec{std::move(argv), child_env_ ? child_env_() : os::Environment{}, true};
  auto pid = processes_.spawn(spec, {on_line, on_exit});
  if (!pid) return then(ProcessEnd{false, pid.error().message, {}});
  process_pid_ = state->pid = *pid;
  process_timer_.after(timeout, [this, state] {
    state->is_timed_out = true;
    processes_.signal_group(state->pid, SIGKILL);
  });
}

void Output::finish(Result<Outcome> result) {
  if (!result.ok()) result.error().message = fmt::format("{}: {}", spec_.name, result.error().message);
  auto run = std::move(run_);
  run->staged.reset();  // removes a temp file not swapped in
  for (auto& done : run->dones) deliveries_.emplace_back(std::move(done), result);
  if (!delivery_timer_.is_pending()) delivery_timer_.after(Duration{0}, [this] { deliver(); });
  if (pending_) {
    Pending next = std::move(*pending_);
    pending_.reset();
    start(std::move(next.content), std::move(next.dones));
  }
}

// Hands out results in the order the writes finished.
void Output::deliver() {
  auto batch = std::move(deliveries_);
  deliveries_.clear();
  auto self = lifetime_.observe();
  for (auto& [done, result] : batch) {
    if (self.has_ended()) return;  // a callback destroyed us
    if (done) done(std::move(result));
  }
}

}  // namespace autopilot::render
