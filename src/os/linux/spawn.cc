#include "os/linux/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string_view>

namespace autopilot::os {
namespace {

// Go prints errno texts in lower case ("permission denied"); glibc
// capitalises them. Lowering the first letter matches for the usual errnos.
std::string errno_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// Go's findExecutable: a non-directory with any execute bit.
bool is_executable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111) != 0;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int move_above_stdio(int fd) {
  if (fd > 2) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

// The PATH in `env` (the last one wins), else `default_path`.
std::string_view path_of(const Environment& env, std::string_view default_path) {
  return env.path().value_or(default_path);
}

// What the child needs, prepared by the parent: the child shares our memory
// until it execs, so it only makes system calls (no allocation, no locks).
struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  int stdin_fd;   // /dev/null, or -1 to close 0
  int output_fd;  // stdout and stderr; -1: inherit
  int exec_errno = 0;  // written by the child when execve fails
};

int child_main(void* arg) {
  auto* plan = static_cast<ChildPlan*>(arg);
  // Every signal is blocked here (see spawn_errno). Back to the default
  // dispositions first (we ignore SIGPIPE and catch SIGCHLD, SIGTERM, ...),
  // then unblock: no handler of ours may ever run in the child.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);  // EINVAL for libc's own: fine
  }
  int fail = 0;
  if (::setpgid(0, 0) != 0) fail = errno;  // its own group: signal_group() reaches its children too
  if (!fail && plan->stdin_fd >= 0 && ::dup2(plan->stdin_fd, 0) < 0) fail = errno;
  if (!fail && plan->stdin_fd < 0) ::close(0);
  if (!fail && plan->output_fd >= 0) {
    // A make_pipe() write end is non-blocking (pipe2 sets both ends); the
    // program gets the blocking pipe it expects. The parent closes its copy.
    int flags = ::fcntl(plan->output_fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) ::fcntl(plan->output_fd, F_SETFL, flags & ~O_NONBLOCK);
    if (::dup2(plan->output_fd, 1) < 0 || ::dup2(plan->output_fd, 2) < 0) fail = errno;
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (!fail) {
    ::execve(plan->path, plan->argv, plan->envp);
    fail = errno;
  }
  plan->exec_errno = fail;
  ::_exit(127);
}

// The child runs on this stack until it execs. CLONE_VFORK suspends the caller
// until then, so one stack serves every spawn; the mutex covers a second
// thread (tests), never contended on the loop.
struct ChildStack {
  std::mutex lock;
  alignas(64) char bytes[64 * 1024];
};
ChildStack& child_stack() {
  static ChildStack stack;
  return stack;
}

// /dev/null for the child's stdin, opened once (close-on-exec); -1 when the
// image has none, and the child then starts with fd 0 closed.
int dev_null() {
  // Above 2: were it our own closed fd 0, dup2 onto 0 would keep its
  // close-on-exec flag and the child would start without a stdin.
  static const int fd = [] {
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return null_fd < 0 ? -1 : move_above_stdio(null_fd);
  }();
  return fd;
}

// clone(CLONE_VM | CLONE_VFORK) + execve, as glibc's posix_spawn does but
// without its per-call stack mapping and file-action checks; 0 or the errno of
// the child's set-up or exec, reported synchronously.
int spawn_errno(const std::string& path, const SpawnSpec& spec, int output_fd, pid_t& pid) {
  std::vector<char*> argv = c_strings(spec.argv);
  ChildPlan plan{path.c_str(), argv.data(), spec.env.envp(), dev_null(), output_fd};

  ChildStack& stack = child_stack();
  std::lock_guard hold(stack.lock);
  // Block everything so that no signal handler runs in the child while it
  // shares our memory; it restores its own mask before exec.
  sigset_t all, saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &saved);
  int child = ::clone(child_main, stack.bytes + sizeof stack.bytes, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  int err = child < 0 ? errno : 0;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (err != 0) return err;
  if (plan.exec_errno != 0) {
    // It has exited (status 127) without exec'ing: reap it here, so that the
    // caller, which gets an error and no pid, has nothing left to wait for.
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    return plan.exec_errno;
  }
  pid = child;
  return 0;
}

Error spawn_error(const std::string& path, int err) { return make_error("fork/exec " + path + ": " + errno_text(err)); }

}  // namespace

Result<std::string> look_path(const std::string& file, const Environment& env, std::string_view default_path) {
  if (file.find('/') != std::string::npos) return file;
  std::string_view rest = path_of(env, default_path);
  while (!rest.empty()) {  // an empty PATH has no entries, as in Go
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";  // as in Go and the shell
    std::string candidate = dir + "/" + file;
    if (is_executable(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return make_error("exec: \"" + file + "\": executable file not found in $PATH");
}

Result<PipeFds> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return make_error("pipe: " + errno_text(errno));
  PipeFds pipe{move_above_stdio(fds[0]), move_above_stdio(fds[1])};
  if (pipe.read < 0 || pipe.write < 0) {
    int err = errno;
    if (pipe.read >= 0) ::close(pipe.read);
    if (pipe.write >= 0) ::close(pipe.write);
    return make_error("pipe: " + errno_text(err));
  }
  return pipe;
}

Result<std::string> PathCache::look_path(const std::string& file, const Environment& env,
                                         std::string_view default_path) {
  if (file.find('/') != std::string::npos) return file;
  KeyLess::View key(file, path_of(env, default_path));
  if (auto it = paths_.find(key); it != paths_.end()) return it->second;
  auto found = os::look_path(file, env, default_path);
  if (!found) return found;
  if (paths_.size() >= kMaxEntries) paths_.clear();
  paths_.emplace(Key(key.first, key.second), *found);
  return found;
}

void PathCache::forget(const std::string& file, const Environment& env, std::string_view default_path) {
  if (auto it = paths_.find(KeyLess::View(file, path_of(env, default_path))); it != paths_.end()) paths_.erase(it);
}

Result<int> start_command(PathCache& paths, const SpawnSpec& spec, std::string_view default_path, int output_fd) {
  const std::string& file = spec.argv.at(0);
  auto path = paths.look_path(file, spec.env, default_path);
  if (!path) return path.error();
  pid_t pid = 0;
  int rc = spawn_errno(*path, spec, output_fd, pid);
  if ((rc == ENOENT || rc == EACCES) && file.find('/') == std::string::npos) {
    // The path we remembered is gone or changed: search PATH again, once.
    paths.forget(file, spec.env, default_path);
    auto again = paths.look_path(file, spec.env, default_path);
    if (!again) return again.error();
    path = std::move(again);
    rc = spawn_errno(*path, spec, output_fd, pid);
  }
  if (rc != 0) return spawn_error(*path, rc);
  return static_cast<int>(pid);
}

}  // namespace autopilot::os
