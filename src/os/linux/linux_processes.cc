#include "os/linux/linux_processes.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <csignal>
#include <utility>

#include "os/linux/spawn.h"

namespace autopilot::os {

namespace asio = boost::asio;

namespace {

// The read end of the child's stdout and stderr (one pipe for both: their
// order is kept, and a spawn costs one pipe, not two). It is non-blocking; the
// loop only tells us when it is readable and we read it ourselves, into one
// buffer shared by every child (LinuxProcesses::buffer_).
struct OutputPipe {
  OutputPipe(asio::io_context& io, int fd) : descriptor(io, fd) {}
  asio::posix::stream_descriptor descriptor;
  std::string pending;  // bytes after the last newline
};

// Reads per turn before yielding to the loop: a child that writes without
// pause cannot starve the others.
constexpr int kReadsPerTurn = 8;

ExitStatus exit_status(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) status.code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) status.signal = WTERMSIG(wait_status);
  return status;
}

}  // namespace

struct LinuxProcesses::Child {
  explicit Child(asio::io_context& io) : grace(io) {}
  int pid = 0;
  SpawnCallbacks callbacks;
  std::unique_ptr<OutputPipe> pipe;  // null without capture_output; stays once closed, !is_open()
  bool is_reaped = false;
  bool is_finished = false;
  ExitStatus status;
  asio::steady_timer grace;

  bool pipe_open() const { return pipe && pipe->descriptor.is_open(); }

  void emit(std::string_view line) {
    if (callbacks.on_line) callbacks.on_line(line);
  }

  // Delivers every complete line in p.pending, and kMaxLine pieces of an
  // over-long one, keeping the rest for the next read.
  void emit_lines(OutputPipe& p) {
    std::string_view rest = p.pending;
    for (;;) {
      size_t newline = rest.find('\n');
      if (newline != std::string_view::npos && newline <= kMaxLine) {
        emit(rest.substr(0, newline));
        rest.remove_prefix(newline + 1);
      } else if (rest.size() > kMaxLine) {
        emit(rest.substr(0, kMaxLine));
        rest.remove_prefix(kMaxLine);
      } else {
        break;
      }
    }
    p.pending.erase(0, p.pending.size() - rest.size());
  }

  void close_pipe() {
    if (!pipe_open()) return;
    if (!pipe->pending.empty()) emit(pipe->pending);
    pipe->pending.clear();
    boost::system::error_code ignored;
    pipe->descriptor.close(ignored);
  }
};

LinuxProcesses::LinuxProcesses(asio::io_context& io) : io_(io), sigchld_(io, SIGCHLD) {
  // Orphans of our descendants come to us even when we are not PID 1.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  reap_all();  // zombies from before the handler existed
  wait_for_sigchld();
}

LinuxProcesses::~LinuxProcesses() {
  boost::system::error_code ignored;
  sigchld_.cancel(ignored);
  auto abandon = [](Child& child) {
    boost::system::error_code ec;
    child.is_finished = true;
    child.grace.cancel();
    if (child.pipe) child.pipe->descriptor.close(ec);
  };
  for (auto& [pid, child] : children_) abandon(*child);
  for (auto& child : draining_) abandon(*child);
}

Result<int> LinuxProcesses::spawn(const SpawnSpec& spec, SpawnCallbacks callbacks) {
  if (spec.argv.empty()) return make_error("exec: no command");
  // Resolve before making pipes: a name not in PATH costs nothing more.
  Result<std::string> path = launcher_.resolve(spec, kDefaultPath);
  if (!path) return path.error();

  auto child = std::make_shared<Child>(io_);
  child->callbacks = std::move(callbacks);
  PipeFds out;
  if (spec.capture_output) {
    Result<PipeFds> o = make_pipe();
    if (!o) return o.error();
    out = *o;
    // The descriptor owns the read end from here on, also on failure.
    child->pipe = std::make_unique<OutputPipe>(io_, out.read);
  }

  Result<int> pid = launcher_.start(std::move(*path), spec, kDefaultPath, out.write);
  if (out.write >= 0) ::close(out.write);
  if (!pid) return pid.error();

  child->pid = *pid;
  children_[*pid] = child;
  if (child->pipe) wait_readable(child);
  return *pid;
}

void LinuxProcesses::signal_group(int pid, int sig) {
  if (children_.count(pid) == 0) return;  // reaped: the pid may be reused
  if (::kill(-pid, sig) != 0 && errno == ESRCH) ::kill(pid, sig);
}

void LinuxProcesses::wait_for_sigchld() {
  sigchld_.async_wait(lifetime_.bind([this](boost::system::error_code ec, int) {
    if (ec) return;
    wait_for_sigchld();
    reap_all();
  }));
}

// SIGCHLDs coalesce, so one signal may stand for many exits: reap until
// nothing is left.
void LinuxProcesses::reap_all() {
  for (;;) {
    int wait_status = 0;
    pid_t pid = ::waitpid(-1, &wait_status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return check_descendants_ended();  // 0: children left, none exited; ECHILD: no children
    auto it = children_.find(pid);
    if (it == children_.end()) {
      ++orphans_reaped_;
      continue;
    }
    std::shared_ptr<Child> child = std::move(it->second);
    children_.erase(it);
    ExitStatus status = exit_status(wait_status);
    if (auto error = launcher_.exec_error(pid)) status.exec_error = std::move(*error);
    on_reaped(child, std::move(status));
  }
}

// --- the end of a run ----------------------------------------------------------

namespace {

// Every descendant of `pid`, from /proc/PID/task/TID/children (children
// first, then theirs).
std::vector<int> descendants_of(int pid) {
  std::vector<int> out;
  std::vector<int> parents{pid};
  for (size_t next = 0; next < parents.size() && out.size() < 100000; ++next) {
    std::error_code ec;
    std::string tasks = "/proc/" + std::to_string(parents[next]) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
      std::ifstream children(task.path() / "children");
      int child;
      while (children >> child) {
        out.push_back(child);
        parents.push_back(child);
      }
    }
  }
  return out;
}

}  // namespace

size_t LinuxProcesses::signal_descendants(int sig) {
  auto pids = descendants_of(::getpid());
  for (int pid : pids) ::kill(pid, sig);
  return pids.size();
}

void LinuxProcesses::end_descendants(std::chrono::nanoseconds grace, std::function<void(size_t)> done) {
  descendants_signalled_ = signal_descendants(SIGTERM);
  on_descendants_ended_ = std::move(done);
  end_timer_ = std::make_unique<asio::steady_timer>(io_);
  end_timer_->expires_after(grace);
  end_timer_->async_wait(lifetime_.bind([this](boost::system::error_code ec) {
    if (ec || !on_descendants_ended_) return;
    (void)signal_descendants(SIGKILL);
    end_timer_->expires_after(kKillWait);
    end_timer_->async_wait(lifetime_.bind([this](boost::system::error_code ec) {
      if (ec || !on_descendants_ended_) return;
      auto done = std::exchange(on_descendants_ended_, nullptr);
      done(descendants_signalled_);
    }));
  }));
  // Posted: done never runs inline, and a quick exit needs no SIGCHLD.
  asio::post(io_, lifetime_.bind([this] { check_descendants_ended(); }));
}

// After each reap while end_descendants waits: none left means done. A
// grandchild's exit reaches us only once its parent is gone, as a SIGCHLD.
void LinuxProcesses::check_descendants_ended() {
  if (!on_descendants_ended_ || !descendants_of(::getpid()).empty()) return;
  end_timer_->cancel();
  auto done = std::exchange(on_descendants_ended_, nullptr);
  done(descendants_signalled_);
}

void LinuxProcesses::on_reaped(const std::shared_ptr<Child>& child, ExitStatus status) {
  child->is_reaped = true;
  child->status = status;
  // Its output is usually all there, EOF included: take it now, and the exit
  // needs no timer.
  if (child->pipe_open() && drain(*child) == Drain::kEnded) child->close_pipe();
  if (!child->pipe_open()) {
    finish_if_done(child);
    return;
  }
  // A grandchild may hold the pipe open for ever; wait only a little.
  draining_.push_back(child);
  child->grace.expires_after(kDrainGrace);
  child->grace.async_wait(lifetime_.bind([this, child](boost::system::error_code ec) {
    if (ec || child->is_finished) return;
    close_pipe_after_grace(child);
  }));
}

void LinuxProcesses::wait_readable(const std::shared_ptr<Child>& child) {
  child->pipe->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                     lifetime_.bind([this, child](boost::system::error_code ec) {
                                       if (child->is_finished || !child->pipe_open()) return;
                                       on_readable(child, ec);
                                     }));
}

void LinuxProcesses::on_readable(const std::shared_ptr<Child>& child, boost::system::error_code ec) {
  Drain drained = ec ? Drain::kEnded : drain(*child);
  if (drained == Drain::kEmpty) {
    wait_readable(child);
  } else if (drained == Drain::kMore) {
    // Come back after the others had their turn. No readiness event is needed
    // for that: the data is already there.
    asio::post(io_, lifetime_.bind([this, child] {
      if (child->is_finished || !child->pipe_open()) return;
      on_readable(child, {});
    }));
  } else {
    child->close_pipe();  // EOF, or an error that ends the stream the same way
    finish_if_done(child);
  }
}

// Reads until the pipe is empty (EAGAIN: the loop will say when there is more;
// the descriptor is edge-triggered, so stopping earlier could miss the EOF) or
// ended, or kReadsPerTurn reads were made.
LinuxProcesses::Drain LinuxProcesses::drain(Child& child) {
  OutputPipe& p = *child.pipe;
  int fd = p.descriptor.native_handle();
  for (int reads = 0; reads < kReadsPerTurn; ++reads) {
    ssize_t n = ::read(fd, buffer_.data(), buffer_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Drain::kEmpty;
    if (n <= 0) return Drain::kEnded;
    p.pending.append(buffer_.data(), static_cast<size_t>(n));
    child.emit_lines(p);
  }
  return Drain::kMore;
}

void LinuxProcesses::close_pipe_after_grace(const std::shared_ptr<Child>& child) {
  child->close_pipe();
  finish_if_done(child);
}

void LinuxProcesses::finish_if_done(const std::shared_ptr<Child>& child) {
  if (!child->is_reaped || child->pipe_open() || child->is_finished) return;
  child->is_finished = true;
  child->grace.cancel();
  std::erase(draining_, child);
  if (child->callbacks.on_exit) child->callbacks.on_exit(child->status);
}

}  // namespace autopilot::os
