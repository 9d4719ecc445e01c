#include "discovery/embedded/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace autopilot::discovery::embedded {
namespace {

Error sys_error(std::string_view call, const std::string& path) {
  return make_error(fmt::format("{} {}: {}", call, path, std::strerror(errno)));
}

Result<void> write_all(int fd, const std::string& content, const std::string& path) {
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write", path);
    off += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace

Result<void> write_atomic(const std::string& dir, const std::string& name, const std::string& content, bool sync) {
  // mkostemp picks a name no other writer (process or call) uses.
  std::string tmp = dir + "/.tmp-" + name + ".XXXXXX";
  std::string target = dir + "/" + name;
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return sys_error("mkostemp", tmp);
  Result<void> written = write_all(fd, content, tmp);
  // Records are read by other users' autopilots too (mkostemp makes 0600).
  if (written && ::fchmod(fd, 0644) != 0) written = sys_error("fchmod", tmp);
  if (written && sync && ::fsync(fd) != 0) written = sys_error("fsync", tmp);
  ::close(fd);
  if (written && ::rename(tmp.c_str(), target.c_str()) != 0) {
    written = make_error(fmt::format("rename {} -> {}: {}", tmp, target, std::strerror(errno)));
  }
  if (!written) ::unlink(tmp.c_str());
  return written;
}

Result<std::optional<std::string>> read_small_file(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return sys_error("open", path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return make_error(fmt::format("read {}: not a regular file of at most {} bytes", path, max_bytes));
  }
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::read(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto error = sys_error("read", path);
      ::close(fd);
      return error;
    }
    if (n == 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  content.resize(off);
  return std::optional<std::string>(std::move(content));
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return names;
    return sys_error("opendir", dir);
  }
  while (dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  return names;
}

Result<void> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir", path);
  return {};
}

Result<void> remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("unlink", path);
  return {};
}

Index read_index_file(const std::string& path) {
  auto content = read_small_file(path, 64);
  if (!content || !content->has_value()) return 0;
  const std::string& text = **content;
  Index value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

Result<FileLock> FileLock::acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return sys_error("open", path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    auto error = sys_error("flock", path);
    ::close(fd);
    return error;
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the description drops the flock
}

}  // namespace autopilot::discovery::embedded
