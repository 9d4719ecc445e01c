#include "os/linux/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <linux/futex.h>

#include <atomic>
#include <chrono>
#include <cstdint>
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

// System calls for the child, straight to the kernel: it may share our
// memory while we run, so it must not write errno (our thread's) or take libc
// locks. They return -errno on failure.
#if defined(__x86_64__)
constexpr bool kRawSyscalls = true;
long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
  long ret;
  register long r10 asm("r10") = d;
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
constexpr bool kRawSyscalls = true;
long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
  register long x8 asm("x8") = n;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  register long x3 asm("x3") = d;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
#else
constexpr bool kRawSyscalls = false;  // every start waits for the exec: libc's errno is then ours to use
long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
  long ret = ::syscall(n, a, b, c, d);
  return ret < 0 ? -errno : ret;
}
#endif

// What the child needs, prepared by the parent: the child shares our memory
// until it execs, so it only makes system calls (no allocation, no locks).
struct ChildPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  int stdin_fd;   // /dev/null, or -1 to close 0
  int output_fd;  // stdout and stderr; -1: inherit
  bool output_stderr = true;  // false: output_fd is stdout alone, stderr is inherited
  std::atomic<int> exec_errno = 0;  // written by the child when it cannot exec
};

// Its whole frame is a few words: a stack slot of kSlotStack is plenty.
int child_main(void* arg) {
  auto* plan = static_cast<ChildPlan*>(arg);
  // Every signal is blocked here (see block_signals). Back to the default
  // dispositions first (we ignore SIGPIPE and catch SIGCHLD, SIGTERM, ...),
  // then unblock: no handler of ours may ever run in the child. A zeroed
  // kernel sigaction is SIG_DFL, no flags, an empty mask.
  const long dfl[4] = {};
  for (long sig = 1; sig <= 64; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sys(SYS_rt_sigaction, sig, reinterpret_cast<long>(dfl), 0, 8);
  }
  long rc = sys(SYS_setpgid, 0, 0);  // its own group: signal_group() reaches its children too
  if (rc >= 0 && plan->stdin_fd >= 0) rc = sys(SYS_dup3, plan->stdin_fd, 0, 0);  // our fds are > 2
  if (rc >= 0 && plan->stdin_fd < 0) sys(SYS_close, 0);
  if (rc >= 0 && plan->output_fd >= 0) {
    // A make_pipe() write end is non-blocking (pipe2 sets both ends); the
    // program gets the blocking pipe it expects. The parent closes its copy.
    long flags = sys(SYS_fcntl, plan->output_fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) sys(SYS_fcntl, plan->output_fd, F_SETFL, flags & ~O_NONBLOCK);
    rc = sys(SYS_dup3, plan->output_fd, 1, 0);
    if (rc >= 0 && plan->output_stderr) rc = sys(SYS_dup3, plan->output_fd, 2, 0);
  }
  const std::uint64_t none = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, 8);
  if (rc >= 0) {
    rc = sys(SYS_execve, reinterpret_cast<long>(plan->path), reinterpret_cast<long>(plan->argv),
             reinterpret_cast<long>(plan->envp));
  }
  plan->exec_errno.store(static_cast<int>(-rc), std::memory_order_relaxed);
  sys(SYS_exit_group, 127);
  return 127;
}

// Blocks every signal for its lifetime, so that no signal handler runs in a
// child while it shares our memory; the child restores its own mask.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &saved_);
  }
  ~SignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t saved_;
};

// The stack of waited starts: CLONE_VFORK suspends the caller until the exec,
// so one serves them all; the mutex covers a second thread (tests), never
// contended on the loop.
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

// A waited start: clone(CLONE_VM | CLONE_VFORK) + execve, as glibc's
// posix_spawn does but without its per-call stack mapping and file-action
// checks; 0 or the errno of the child's set-up or exec.
int spawn_errno(const std::string& path, const SpawnSpec& spec, int output_fd, pid_t& pid) {
  std::vector<char*> argv = c_strings(spec.argv);
  ChildPlan plan{path.c_str(), argv.data(), spec.env.envp(), dev_null(), output_fd, spec.capture_stderr};

  ChildStack& stack = child_stack();
  std::lock_guard hold(stack.lock);
  int child;
  int err;
  {
    SignalsBlocked blocked;
    child = ::clone(child_main, stack.bytes + sizeof stack.bytes, CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
    err = child < 0 ? errno : 0;
  }
  if (err != 0) return err;
  if (int exec_errno = plan.exec_errno.load(std::memory_order_relaxed); exec_errno != 0) {
    // It has exited (status 127) without exec'ing: reap it here, so that the
    // caller, which gets an error and no pid, has nothing left to wait for.
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    return exec_errno;
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

namespace {

constexpr size_t kSlotStack = 2048;

// Valgrind runs only the clones of fork, vfork and threads, and ends the
// process at any other; under it (its preload is in our environment), every
// start waits.
bool may_start_unwaited() {
  static const bool ok = [] {
    const char* preload = std::getenv("LD_PRELOAD");
    return kRawSyscalls && !(preload && std::strstr(preload, "/vgpreload_"));
  }();
  return ok;
}

}  // namespace

// An unwaited start's child and what it reads until its exec. A slot is free
// again once the kernel has zeroed `busy` (CLONE_CHILD_CLEARTID: at the
// child's exec or exit) and its exec error, if any, has been collected.
// The stacks are apart (Launcher::stacks_), so that only the few bytes the
// children use are ever touched.
struct Launcher::Slot {
  std::atomic<pid_t> busy = 0;
  pid_t pid = 0;
  std::string path;
  std::vector<std::string> args;
  std::vector<char*> argv;
  Environment env;  // keeps envp alive
  ChildPlan plan{};
};
static_assert(sizeof(std::atomic<pid_t>) == sizeof(pid_t));

Launcher::Launcher() = default;

// A child that has not exec'd yet still reads its slot: wait for it (the
// kernel wakes the futex when it clears `busy`). One that takes too long
// (stopped, say) keeps the memory for ever rather than reading freed memory.
Launcher::~Launcher() {
  if (!slots_) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (size_t i = 0; i < kSlots; ++i) {
    std::atomic<pid_t>& busy = slots_[i].busy;
    for (pid_t tid; (tid = busy.load(std::memory_order_acquire)) != 0;) {
      if (std::chrono::steady_clock::now() >= deadline) {
        (void)slots_.release();
        (void)stacks_.release();
        return;
      }
      struct timespec tick = {0, 10'000'000};
      ::syscall(SYS_futex, reinterpret_cast<pid_t*>(&busy), FUTEX_WAIT, tid, &tick, nullptr, 0);
    }
  }
}

Result<std::string> Launcher::resolve(const SpawnSpec& spec, std::string_view default_path) {
  return paths_.look_path(spec.argv.at(0), spec.env, default_path);
}

Result<int> Launcher::start(std::string path, const SpawnSpec& spec, std::string_view default_path, int output_fd) {
  if (may_start_unwaited() && proven_.contains(path)) {
    // One stat keeps what a waited start would tell at once, for the usual
    // change: the file is gone or no longer executable. Then it is looked
    // up again and started the waited way, as the first time.
    if (!is_executable(path)) {
      proven_.erase(path);
    } else if (size_t slot = free_slot(); slot < kSlots) {
      return start_unwaited(slot, path, spec, output_fd);
    }
  }
  return start_waited(spec.argv.at(0), std::move(path), spec, default_path, output_fd);
}

Result<int> Launcher::start_waited(const std::string& file, std::string found, const SpawnSpec& spec,
                                   std::string_view default_path, int output_fd) {
  Result<std::string> path = std::move(found);
  pid_t pid = 0;
  int rc = spawn_errno(*path, spec, output_fd, pid);
  if ((rc == ENOENT || rc == EACCES) && file.find('/') == std::string::npos) {
    // The path we remembered is gone or changed: search PATH again, once.
    paths_.forget(file, spec.env, default_path);
    auto again = paths_.look_path(file, spec.env, default_path);
    if (!again) return again.error();
    path = std::move(again);
    rc = spawn_errno(*path, spec, output_fd, pid);
  }
  if (rc != 0) return spawn_error(*path, rc);
  if (proven_.size() >= kMaxProven) proven_.clear();
  proven_.insert(*path);
  return static_cast<int>(pid);
}

Result<int> Launcher::start_unwaited(size_t index, const std::string& path, const SpawnSpec& spec, int output_fd) {
  Slot& slot = slots_[index];
  std::byte* stack_top = stacks_.get() + (index + 1) * kSlotStack;
  slot.path = path;
  slot.args = spec.argv;
  slot.argv = c_strings(slot.args);
  slot.env = spec.env;
  slot.plan.path = slot.path.c_str();
  slot.plan.argv = slot.argv.data();
  slot.plan.envp = slot.env.envp();
  slot.plan.stdin_fd = dev_null();
  slot.plan.output_fd = output_fd;
  slot.plan.output_stderr = spec.capture_stderr;
  slot.plan.exec_errno.store(0, std::memory_order_relaxed);
  slot.busy.store(1, std::memory_order_relaxed);
  int child;
  {
    SignalsBlocked blocked;
    child = ::clone(child_main, stack_top, CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, &slot.plan,
                    nullptr, nullptr, reinterpret_cast<pid_t*>(&slot.busy));
  }
  if (child < 0) {
    int err = errno;
    slot.busy.store(0, std::memory_order_relaxed);
    return spawn_error(path, err);
  }
  slot.pid = child;
  ++unwaited_starts_;
  return child;
}

size_t Launcher::free_slot() {
  if (!slots_) {
    slots_ = std::make_unique<Slot[]>(kSlots);
    stacks_ = std::make_unique_for_overwrite<std::byte[]>(kSlots * kSlotStack);  // not written: not resident
  }
  for (size_t i = 0; i < kSlots; ++i) {
    if (slots_[i].busy.load(std::memory_order_acquire) != 0) continue;
    collect(slots_[i]);
    return i;
  }
  return kSlots;
}

// A slot whose child is past its exec or gone: keeps its exec error, if any,
// for exec_error().
void Launcher::collect(Slot& slot) {
  if (slot.pid == 0) return;
  if (int err = slot.plan.exec_errno.load(std::memory_order_relaxed); err != 0) {
    failures_[slot.pid] = spawn_error(slot.path, err).message;
    // It must prove itself again, with a fresh look at PATH.
    proven_.erase(slot.path);
    paths_ = PathCache();
  }
  slot.pid = 0;
}

std::optional<std::string> Launcher::exec_error(int pid) {
  if (slots_) {
    for (size_t i = 0; i < kSlots; ++i) {
      Slot& slot = slots_[i];
      if (slot.pid == pid && slot.busy.load(std::memory_order_acquire) == 0) collect(slot);
    }
  }
  auto it = failures_.find(pid);
  if (it == failures_.end()) return std::nullopt;
  std::string error = std::move(it->second);
  failures_.erase(it);
  return error;
}

}  // namespace autopilot::os
