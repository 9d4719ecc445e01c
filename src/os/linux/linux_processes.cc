#include "os/linux/linux_processes.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <utility>

#include "os/linux/spawn.h"

namespace autopilot::os {

namespace asio = boost::asio;

namespace {

struct OutputPipe {
  OutputPipe(asio::io_context& io, int fd, Stream s) : descriptor(io, fd), stream(s) {}
  asio::posix::stream_descriptor descriptor;
  Stream stream;
  std::array<char, 16 * 1024> buffer;
  std::string pending;  // bytes after the last newline
};

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
  std::vector<std::unique_ptr<OutputPipe>> pipes;  // closed ones stay, !is_open()
  size_t open_pipes = 0;
  bool is_reaped = false;
  bool is_finished = false;
  ExitStatus status;
  asio::steady_timer grace;

  void emit(Stream stream, std::string_view line) {
    if (callbacks.on_line) callbacks.on_line(stream, line);
  }

  // Delivers every complete line in p.pending, and kMaxLine pieces of an
  // over-long one, keeping the rest for the next read.
  void emit_lines(OutputPipe& p) {
    std::string_view rest = p.pending;
    for (;;) {
      size_t newline = rest.find('\n');
      if (newline != std::string_view::npos && newline <= kMaxLine) {
        emit(p.stream, rest.substr(0, newline));
        rest.remove_prefix(newline + 1);
      } else if (rest.size() > kMaxLine) {
        emit(p.stream, rest.substr(0, kMaxLine));
        rest.remove_prefix(kMaxLine);
      } else {
        break;
      }
    }
    p.pending.erase(0, p.pending.size() - rest.size());
  }

  void close_pipe(OutputPipe& p) {
    if (!p.descriptor.is_open()) return;
    if (!p.pending.empty()) emit(p.stream, p.pending);
    p.pending.clear();
    boost::system::error_code ignored;
    p.descriptor.close(ignored);
    --open_pipes;
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
    for (auto& p : child.pipes) p->descriptor.close(ec);
  };
  for (auto& [pid, child] : children_) abandon(*child);
  for (auto& child : draining_) abandon(*child);
}

Result<int> LinuxProcesses::spawn(const SpawnSpec& spec, SpawnCallbacks callbacks) {
  if (spec.argv.empty()) return make_error("exec: no command");
  // Resolve before making pipes: a name not in PATH costs nothing more.
  if (auto found = paths_.look_path(spec.argv[0], spec.env, kDefaultPath); !found) return found.error();

  auto child = std::make_shared<Child>(io_);
  child->callbacks = std::move(callbacks);
  PipeFds out, err;
  if (spec.capture_output) {
    Result<PipeFds> o = make_pipe();
    if (!o) return o.error();
    out = *o;
    Result<PipeFds> e = make_pipe();
    if (!e) {
      ::close(out.read);
      ::close(out.write);
      return e.error();
    }
    err = *e;
    // The descriptors own the read ends from here on, also on failure.
    child->pipes.push_back(std::make_unique<OutputPipe>(io_, out.read, Stream::kStdout));
    child->pipes.push_back(std::make_unique<OutputPipe>(io_, err.read, Stream::kStderr));
  }

  Result<int> pid = start_command(paths_, spec, kDefaultPath, out.write, err.write);
  if (out.write >= 0) ::close(out.write);
  if (err.write >= 0) ::close(err.write);
  if (!pid) return pid.error();

  child->pid = *pid;
  child->open_pipes = child->pipes.size();
  children_[*pid] = child;
  for (size_t i = 0; i < child->pipes.size(); ++i) read_more(child, i);
  return *pid;
}

void LinuxProcesses::signal_group(int pid, int sig) {
  if (children_.count(pid) == 0) return;  // reaped: the pid may be reused
  if (::kill(-pid, sig) != 0 && errno == ESRCH) ::kill(pid, sig);
}

void LinuxProcesses::wait_for_sigchld() {
  sigchld_.async_wait([this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec, int) {
    if (ec || alive.expired()) return;
    wait_for_sigchld();
    reap_all();
  });
}

// SIGCHLDs coalesce, so one signal may stand for many exits: reap until
// nothing is left.
void LinuxProcesses::reap_all() {
  for (;;) {
    int wait_status = 0;
    pid_t pid = ::waitpid(-1, &wait_status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return;  // 0: children left, none exited; ECHILD: no children
    auto it = children_.find(pid);
    if (it == children_.end()) {
      ++orphans_reaped_;
      continue;
    }
    std::shared_ptr<Child> child = std::move(it->second);
    children_.erase(it);
    on_reaped(child, exit_status(wait_status));
  }
}

void LinuxProcesses::on_reaped(const std::shared_ptr<Child>& child, ExitStatus status) {
  child->is_reaped = true;
  child->status = status;
  if (child->open_pipes == 0) {
    finish_if_done(child);
    return;
  }
  // A grandchild may hold the pipes open for ever; wait only a little.
  draining_.push_back(child);
  child->grace.expires_after(kDrainGrace);
  child->grace.async_wait([this, child, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired() || child->is_finished) return;
    close_pipes_after_grace(child);
  });
}

void LinuxProcesses::read_more(const std::shared_ptr<Child>& child, size_t pipe) {
  OutputPipe& p = *child->pipes[pipe];
  p.descriptor.async_read_some(asio::buffer(p.buffer), [this, child, pipe, alive = std::weak_ptr<int>(alive_)](
                                                           boost::system::error_code ec, size_t n) {
    if (alive.expired() || child->is_finished) return;
    on_read(child, pipe, ec, n);
  });
}

void LinuxProcesses::on_read(const std::shared_ptr<Child>& child, size_t pipe, boost::system::error_code ec, size_t n) {
  OutputPipe& p = *child->pipes[pipe];
  if (!p.descriptor.is_open()) return;  // closed after the grace period
  p.pending.append(p.buffer.data(), n);
  child->emit_lines(p);
  if (!ec) {
    read_more(child, pipe);
    return;
  }
  child->close_pipe(p);  // EOF, or an error that ends the stream the same way
  finish_if_done(child);
}

void LinuxProcesses::close_pipes_after_grace(const std::shared_ptr<Child>& child) {
  for (auto& p : child->pipes) child->close_pipe(*p);
  finish_if_done(child);
}

void LinuxProcesses::finish_if_done(const std::shared_ptr<Child>& child) {
  if (!child->is_reaped || child->open_pipes > 0 || child->is_finished) return;
  child->is_finished = true;
  child->grace.cancel();
  std::erase(draining_, child);
  if (child->callbacks.on_exit) child->callbacks.on_exit(child->status);
}

}  // namespace autopilot::os
