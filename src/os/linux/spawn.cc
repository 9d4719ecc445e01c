#include "os/linux/spawn.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
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

// Owns the two posix_spawn attribute objects for the length of one call.
struct SpawnAttrs {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

// The PATH in `env` (the last one wins), else `default_path`.
std::string_view path_of(const std::vector<std::string>& env, const std::string& default_path) {
  std::string_view path = default_path;
  for (const std::string& kv : env) {
    if (kv.starts_with("PATH=")) path = std::string_view(kv).substr(5);
  }
  return path;
}

// posix_spawn; 0 or the exec errno.
int spawn_errno(const std::string& path, const SpawnSpec& spec, int out_fd, int err_fd, pid_t& pid) {
  SpawnAttrs a;
  posix_spawn_file_actions_addopen(&a.actions, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&a.actions, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&a.actions, err_fd, 2);

  // We ignore SIGPIPE and asio catches SIGCHLD and friends; a child must
  // start from the defaults, with nothing blocked.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&a.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&a.attr, 0);  // pgid = the child's pid
  posix_spawnattr_setsigmask(&a.attr, &none);
  posix_spawnattr_setsigdefault(&a.attr, &all);

  std::vector<char*> argv = c_strings(spec.argv);
  std::vector<char*> envp = c_strings(spec.env);
  // glibc's posix_spawn uses CLONE_VFORK and returns the child's exec errno,
  // so an exec failure is reported here, synchronously.
  return ::posix_spawn(&pid, path.c_str(), &a.actions, &a.attr, argv.data(), envp.data());
}

Error spawn_error(const std::string& path, int err) { return make_error("fork/exec " + path + ": " + errno_text(err)); }

}  // namespace

Result<std::string> look_path(const std::string& file, const std::vector<std::string>& env,
                              const std::string& default_path) {
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
  if (::pipe2(fds, O_CLOEXEC) != 0) return make_error("pipe: " + errno_text(errno));
  PipeFds pipe{move_above_stdio(fds[0]), move_above_stdio(fds[1])};
  if (pipe.read < 0 || pipe.write < 0) {
    int err = errno;
    if (pipe.read >= 0) ::close(pipe.read);
    if (pipe.write >= 0) ::close(pipe.write);
    return make_error("pipe: " + errno_text(err));
  }
  return pipe;
}

Result<int> start_process(const std::string& path, const SpawnSpec& spec, int out_fd, int err_fd) {
  pid_t pid = 0;
  if (int rc = spawn_errno(path, spec, out_fd, err_fd, pid); rc != 0) return spawn_error(path, rc);
  return static_cast<int>(pid);
}

Result<std::string> PathCache::look_path(const std::string& file, const std::vector<std::string>& env,
                                         const std::string& default_path) {
  if (file.find('/') != std::string::npos) return file;
  auto key = std::pair(file, std::string(path_of(env, default_path)));
  if (auto it = paths_.find(key); it != paths_.end()) return it->second;
  auto found = os::look_path(file, env, default_path);
  if (!found) return found;
  if (paths_.size() >= kMaxEntries) paths_.clear();
  paths_.emplace(std::move(key), *found);
  return found;
}

void PathCache::forget(const std::string& file, const std::vector<std::string>& env, const std::string& default_path) {
  paths_.erase(std::pair(file, std::string(path_of(env, default_path))));
}

Result<int> start_command(PathCache& paths, const SpawnSpec& spec, const std::string& default_path, int out_fd,
                          int err_fd) {
  const std::string& file = spec.argv.at(0);
  auto path = paths.look_path(file, spec.env, default_path);
  if (!path) return path.error();
  pid_t pid = 0;
  int rc = spawn_errno(*path, spec, out_fd, err_fd, pid);
  if ((rc == ENOENT || rc == EACCES) && file.find('/') == std::string::npos) {
    // The path we remembered is gone or changed: search PATH again, once.
    paths.forget(file, spec.env, default_path);
    auto again = paths.look_path(file, spec.env, default_path);
    if (!again) return again.error();
    path = std::move(again);
    rc = spawn_errno(*path, spec, out_fd, err_fd, pid);
  }
  if (rc != 0) return spawn_error(*path, rc);
  return static_cast<int>(pid);
}

}  // namespace autopilot::os
