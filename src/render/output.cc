#include "render/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
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
  mode_t mode = 0;  // permission bits only
  uid_t uid = 0;
  gid_t gid = 0;
};

struct Owner {
  uid_t uid;
  gid_t gid;
};

// SIGCHLD is not SA_RESTART (os/linux/linux_processes.h): retry on EINTR.
template <class F>
auto no_eintr(F call) {
  decltype(call()) r;
  do {
    r = call();
  } while (r < 0 && errno == EINTR);
  return r;
}

Error sys_error(std::string_view call, std::string_view path, int err) {
  return make_error(fmt::format("{} {}: {}", call, path, std::strerror(err)));
}

std::string join_path(const std::string& dir, std::string_view name) {
  return dir.ends_with('/') ? dir + std::string(name) : fmt::format("{}/{}", dir, name);
}

std::string temp_pattern(const std::string& dir, const std::string& base) {
  return join_path(dir, fmt::format(".{}.autopilot-XXXXXX", base));
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

Result<std::optional<Snapshot>> read_existing(const std::string& path) {
  // O_NONBLOCK: a FIFO at the destination must not hang the loop in open().
  int fd = no_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY); });
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Snapshot>{};
    return sys_error("open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return sys_error("fstat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(fmt::format("{} is not a regular file", path));
  }
  Snapshot snap{{}, static_cast<mode_t>(st.st_mode & 07777), st.st_uid, st.st_gid};
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = no_eintr([&] { return ::read(fd, buf, sizeof buf); });
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return sys_error("read", path, err);
    }
    if (n == 0) break;
    snap.bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<Snapshot>(std::move(snap));
}

// mkdir -p with mode 0755 (before the umask).
Result<void> ensure_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? Result<void>() : sys_error("mkdir", dir, ENOTDIR);
  if (errno != ENOENT) return sys_error("stat", dir, errno);
  size_t slash = dir.find_last_not_of('/');
  slash = slash == std::string::npos ? slash : dir.rfind('/', slash);
  if (slash != std::string::npos && slash > 0) {
    auto parent = ensure_dir(dir.substr(0, slash));
    if (!parent) return parent;
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir", dir, errno);
  return {};
}

Result<void> write_all(int fd, const std::string& bytes, const std::string& path) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = no_eintr([&] { return ::write(fd, bytes.data() + off, bytes.size() - off); });
    if (n < 0) return sys_error("write", path, errno);
    off += static_cast<size_t>(n);
  }
  return {};
}

// Writes `bytes` to a new temp file in `dir`, durable and with its final
// owner and mode; returns its path. Nothing is left behind on failure.
Result<std::string> write_temp(const std::string& dir, const std::string& base, const std::string& bytes,
                               mode_t mode, std::optional<Owner> owner) {
  std::string path = temp_pattern(dir, base);
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  // glibc scribbles on the pattern even when it fails: report the pattern.
  if (fd < 0) return sys_error("mkstemp", temp_pattern(dir, base), errno);
  auto fail = [&](Error error) -> Result<std::string> {
    ::close(fd);
    ::unlink(path.c_str());
    return error;
  };
  if (auto written = write_all(fd, bytes, path); !written) return fail(written.error());
  // chown before chmod: a non-root chown clears set-id bits.
  if (owner && ::fchown(fd, owner->uid, owner->gid) != 0 && !(errno == EPERM && ::geteuid() != 0)) {
    return fail(sys_error("fchown", path, errno));
  }
  if (::fchmod(fd, mode) != 0) return fail(sys_error("fchmod", path, errno));
  if (no_eintr([&] { return ::fsync(fd); }) != 0) return fail(sys_error("fsync", path, errno));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return sys_error("close", path, err);
  }
  return path;
}

// A new hard link to `target` under a fresh temp name in `dir`.
Result<std::string> link_to_temp(const std::string& target, const std::string& dir, const std::string& base) {
  for (int attempt = 0;; ++attempt) {
    // mkstemp picks an unused name; link(2) then needs it free again.
    std::string path = temp_pattern(dir, base);
    int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) return sys_error("mkstemp", temp_pattern(dir, base), errno);
    ::close(fd);
    ::unlink(path.c_str());
    if (::link(target.c_str(), path.c_str()) == 0) return path;
    if (errno != EEXIST || attempt == 8) return sys_error("link", fmt::format("{} {}", target, path), errno);
  }
}

// rename(2) that removes `from` on failure.
Result<void> rename_over(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) return {};
  int err = errno;
  ::unlink(from.c_str());
  return sys_error("rename", fmt::format("{} {}", from, to), err);
}

// Makes a rename in `dir` durable.
Result<void> sync_dir(const std::string& dir) {
  int fd = no_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return sys_error("open", dir, errno);
  int rc = no_eintr([&] { return ::fsync(fd); });
  int err = errno;
  ::close(fd);
  if (rc != 0) return sys_error("fsync", dir, err);
  return {};
}

// Replaces <dest>.bak with another link to `dest`, atomically.
Result<void> make_backup(const std::string& dest, const std::string& dir, const std::string& base) {
  auto temp = link_to_temp(dest, dir, base);
  if (!temp) return temp.error();
  auto renamed = rename_over(*temp, dest + ".bak");
  if (!renamed) return renamed;
  // rename(2) does nothing when both names already are the same file (a .bak
  // left by a rollback); then the temp link is still there.
  ::unlink(temp->c_str());
  return {};
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
  std::string temp;  // the temp file while it is not swapped in
  bool is_backed_up = false;
};

struct Output::ProcessEnd {
  bool ok = false;
  std::string why;  // for a failure: "exited with status 1", "timed out after 200ms", the exec error
  std::vector<std::string> lines;
};

Output::Output(OutputSpec spec, os::Processes& processes, os::Timers& timers, log::Log& log,
               std::function<os::Environment()> child_env)
    : spec_(std::move(spec)), processes_(processes), timers_(timers), log_(log), child_env_(std::move(child_env)) {}

Output::~Output() {
  alive_.reset();
  if (process_timer_) timers_.cancel(process_timer_);
  if (delivery_timer_) timers_.cancel(delivery_timer_);
  if (process_pid_) processes_.signal_group(process_pid_, SIGKILL);
  if (run_ && !run_->temp.empty()) ::unlink(run_->temp.c_str());
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

  auto previous = read_existing(dest);
  if (!previous) return previous.error();
  run.previous = std::move(*previous);
  run.mode = spec_.perms ? (*spec_.perms & 07777) : run.previous ? run.previous->mode : 0644;
  if (run.previous && run.previous->bytes == run.content && run.previous->mode == run.mode) return false;

  if (spec_.create_dest_dirs) {
    auto made = ensure_dir(run.dir);
    if (!made) return made.error();
  }
  std::optional<Owner> owner;
  if (run.previous) owner = Owner{run.previous->uid, run.previous->gid};
  auto temp = write_temp(run.dir, run.base, run.content, run.mode, owner);
  if (!temp) return temp.error();
  run.temp = std::move(*temp);
  return true;
}

void Output::run_check() {
  auto argv = spec_.check;
  for (auto& arg : argv) {
    arg = replace_all(replace_all(std::move(arg), "{{.TempFile}}", run_->temp), "{{ .TempFile }}", run_->temp);
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
    auto backed_up = make_backup(spec_.destination, run.dir, run.base);
    if (!backed_up) return finish(backed_up.error());
    run.is_backed_up = true;
  }
  auto swapped = rename_over(run.temp, spec_.destination);
  run.temp.clear();  // renamed, or removed by rename_over
  if (!swapped) return finish(swapped.error());
  // The new content is in place and may be read already; a directory that
  // cannot be synced only weakens durability across a crash.
  if (auto synced = sync_dir(run.dir); !synced) log_.warn(fmt::format("{}: {}", spec_.name, synced.error().message));
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
  if (!run.previous) {
    if (::unlink(dest.c_str()) != 0 && errno != ENOENT) return sys_error("unlink", dest, errno);
    return sync_dir(run.dir);
  }
  if (run.is_backed_up) {
    auto link = link_to_temp(dest + ".bak", run.dir, run.base);
    if (link && rename_over(*link, dest)) return sync_dir(run.dir);
    // Someone removed or replaced the .bak: fall back to the copy in memory.
  }
  auto temp = write_temp(run.dir, run.base, run.previous->bytes, run.previous->mode,
                         Owner{run.previous->uid, run.previous->gid});
  if (!temp) return temp.error();
  auto renamed = rename_over(*temp, dest);
  if (!renamed) return renamed;
  return sync_dir(run.dir);
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
  std::weak_ptr<bool> alive = alive_;
  Duration timeout = spec_.command_timeout;
  auto on_line = [state](std::string_view line) {
    if (state->lines.size() < kMaxLoggedLines) {
      state->lines.emplace_back(line);
    } else {
      ++state->dropped;
    }
  };
  auto on_exit = [this, alive, state, log_name, timeout, then](os::ExitStatus status) {
    if (alive.expired()) return;
    if (process_timer_) timers_.cancel(process_timer_);
    process_timer_ = 0;
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
  };
  os::SpawnSpec spec{std::move(argv), child_env_ ? child_env_() : os::Environment{}, true};
  auto pid = processes_.spawn(spec, {on_line, on_exit});
  if (!pid) return then(ProcessEnd{false, pid.error().message, {}});
  process_pid_ = state->pid = *pid;
  process_timer_ = timers_.after(timeout, [this, alive, state] {
    if (alive.expired()) return;
    process_timer_ = 0;
    state->is_timed_out = true;
    processes_.signal_group(state->pid, SIGKILL);
  });
}

void Output::finish(Result<Outcome> result) {
  if (!result.ok()) result.error().message = fmt::format("{}: {}", spec_.name, result.error().message);
  auto run = std::move(run_);
  if (!run->temp.empty()) ::unlink(run->temp.c_str());
  for (auto& done : run->dones) deliveries_.emplace_back(std::move(done), result);
  if (!delivery_timer_) {
    std::weak_ptr<bool> alive = alive_;
    delivery_timer_ = timers_.after(Duration{0}, [this, alive] {
      if (alive.expired()) return;
      delivery_timer_ = 0;
      deliver();
    });
  }
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
  std::weak_ptr<bool> alive = alive_;
  for (auto& [done, result] : batch) {
    if (alive.expired()) return;  // a callback destroyed us
    if (done) done(std::move(result));
  }
}

}  // namespace autopilot::render
