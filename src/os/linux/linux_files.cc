#include "os/linux/linux_files.h"

#include "os/linux/linux_dir.h"
#include "os/linux/posix_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace autopilot::os {
namespace {

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string temp_pattern(const std::string& dir, const std::string& base) {
  return (dir.ends_with('/') ? dir : dir + "/") + temp_name(base);
}

// Writes `bytes` to a new temp file beside `dest`, with its final owner and
// mode (durable when asked); returns its path. Nothing is left behind on failure.
Result<std::string> write_temp(const std::string& dest, const std::string& bytes, const WriteOptions& options) {
  std::string pattern = temp_pattern(dir_of(dest), base_of(dest));
  std::string path = pattern;
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  // glibc scribbles on the pattern even when it fails: report the pattern.
  if (fd < 0) return sys_error("mkstemp", pattern, errno);
  auto fail = [&](Error error) -> Result<std::string> {
    ::close(fd);
    ::unlink(path.c_str());
    return error;
  };
  if (auto written = write_all(fd, bytes, path); !written) return fail(written.error());
  // chown before chmod: a non-root chown clears set-id bits.
  if (options.owner && ::fchown(fd, options.owner->uid, options.owner->gid) != 0 &&
      !(errno == EPERM && ::geteuid() != 0)) {
    return fail(sys_error("fchown", path, errno));
  }
  // mkstemp makes 0600; fchmod, unlike open's mode, ignores the umask.
  if (::fchmod(fd, options.mode) != 0) return fail(sys_error("fchmod", path, errno));
  if (options.durable && no_eintr([&] { return ::fsync(fd); }) != 0) return fail(sys_error("fsync", path, errno));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return sys_error("close", path, err);
  }
  return path;
}

// rename(2) that removes `from` on failure.
Result<void> rename_over(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) return {};
  int err = errno;
  ::unlink(from.c_str());
  return sys_error("rename", fmt::format("{} {}", from, to), err);
}

// Makes a rename in `dir` durable. Best effort: the rename is done already.
void sync_dir(const std::string& dir) {
  int fd = no_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return;
  (void)no_eintr([&] { return ::fsync(fd); });
  ::close(fd);
}

// A new hard link to `target` under a fresh temp name in `dir`.
Result<std::string> link_to_temp(const std::string& target, const std::string& dir, const std::string& base) {
  for (int attempt = 0;; ++attempt) {
    // mkstemp picks an unused name; link(2) then needs it free again.
    std::string pattern = temp_pattern(dir, base);
    std::string path = pattern;
    int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) return sys_error("mkstemp", pattern, errno);
    ::close(fd);
    ::unlink(path.c_str());
    if (::link(target.c_str(), path.c_str()) == 0) return path;
    if (errno != EEXIST || attempt == 8) return sys_error("link", fmt::format("{} {}", target, path), errno);
  }
}

class LinuxStagedWrite : public Files::StagedWrite {
 public:
  LinuxStagedWrite(std::string temp, std::string dest, bool durable)
      : temp_(std::move(temp)), dest_(std::move(dest)), durable_(durable) {}
  ~LinuxStagedWrite() override {
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }
  const std::string& temp_path() const override { return temp_; }
  Result<void> commit() override {
    if (temp_.empty()) return make_error(fmt::format("{}: committed already", dest_));
    auto renamed = rename_over(temp_, dest_);
    temp_.clear();  // renamed, or removed by rename_over
    if (renamed && durable_) sync_dir(dir_of(dest_));
    return renamed;
  }

 private:
  std::string temp_, dest_;
  bool durable_;
};

}  // namespace

FileInfo info_of(const struct stat& st) {
  FileKind kind = S_ISREG(st.st_mode)   ? FileKind::kFile
                  : S_ISDIR(st.st_mode) ? FileKind::kDirectory
                  : S_ISLNK(st.st_mode) ? FileKind::kSymlink
                                        : FileKind::kOther;
  auto mtime = std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return FileInfo{kind,
                  static_cast<std::uint64_t>(st.st_size),
                  std::chrono::system_clock::time_point(
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(mtime)),
                  static_cast<mode_t>(st.st_mode & 07777),
                  static_cast<std::uint64_t>(st.st_ino),
                  st.st_uid,
                  st.st_gid};
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

std::vector<std::string> list_open(DIR* d) {
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> read_open(int fd, const std::string& path, const ReadLimits& limits) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_error("fstat", path, errno);
  if (!S_ISREG(st.st_mode)) return make_error(fmt::format("{} is not a regular file", path));
  auto too_large = [&] { return make_error(fmt::format("{} is larger than {} bytes", path, limits.max_bytes)); };
  if (static_cast<std::uint64_t>(st.st_size) > limits.max_bytes) return too_large();
  std::string content;
  char buf[64 * 1024];
  for (;;) {  // to EOF, not st_size: /proc files say 0
    ssize_t n = no_eintr([&] { return ::read(fd, buf, sizeof buf); });
    if (n < 0) return sys_error("read", path, errno);
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > limits.max_bytes) return too_large();
  }
  return content;
}

LinuxFiles::LinuxFiles(boost::asio::io_context& io)
    : dir_watcher_(io, [this](const std::string& dir) { watches_.notify(dir); }, is_temp_name),
      watches_([this](const std::string& dir) { dir_watcher_.unwatch(dir); }) {}

LinuxFiles::~LinuxFiles() = default;

Result<std::string> LinuxFiles::read(const std::string& path, const ReadLimits& limits) {
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (limits.follow_symlinks ? 0 : O_NOFOLLOW);
  int fd = no_eintr([&] { return ::open(path.c_str(), flags); });
  if (fd < 0) return sys_error("open", path, errno);
  auto content = read_open(fd, path, limits);
  ::close(fd);
  return content;
}

Result<std::optional<FileInfo>> LinuxFiles::stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<FileInfo>();
    return sys_error("stat", path, errno);
  }
  return std::optional<FileInfo>(info_of(st));
}

Result<std::vector<std::string>> LinuxFiles::list(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return sys_error("opendir", dir, errno);
  return list_open(d);
}

Result<void> LinuxFiles::make_dirs(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? Result<void>() : sys_error("mkdir", dir, ENOTDIR);
  if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return {};
  if (errno != ENOENT) return sys_error("mkdir", dir, errno);
  // A parent is missing: make it, then this one.
  size_t slash = dir.find_last_not_of('/');
  slash = slash == std::string::npos ? slash : dir.rfind('/', slash);
  if (slash == std::string::npos || slash == 0) return sys_error("mkdir", dir, ENOENT);
  if (auto parent = make_dirs(dir.substr(0, slash)); !parent) return parent;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir", dir, errno);
  return {};
}

Result<void> LinuxFiles::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sys_error("unlink", path, errno);
  return {};
}

Result<std::unique_ptr<Files::StagedWrite>> LinuxFiles::stage(const std::string& path, const std::string& content,
                                                               const WriteOptions& options) {
  if (base_of(path).empty()) return make_error(fmt::format("{} names a directory", path));
  auto temp = write_temp(path, content, options);
  if (!temp) return temp.error();
  return std::unique_ptr<StagedWrite>(std::make_unique<LinuxStagedWrite>(std::move(*temp), path, options.durable));
}

Result<void> LinuxFiles::link_atomic(const std::string& target, const std::string& path) {
  std::string dir = dir_of(path);
  auto temp = link_to_temp(target, dir, base_of(target));
  if (!temp) return temp.error();
  auto renamed = rename_over(*temp, path);
  if (!renamed) return renamed;
  // rename(2) does nothing when both names already are the same file (a
  // backup left by a rollback); then the temp link is still there.
  ::unlink(temp->c_str());
  sync_dir(dir);
  return {};
}

Result<std::unique_ptr<Files::Dir>> LinuxFiles::open_dir(const std::string& path) { return open_linux_dir(path); }

Result<std::unique_ptr<Files::Watch>> LinuxFiles::watch(const std::string& dir, OnChange on_change) {
  if (!dir_watcher_.is_started()) {
    if (auto started = dir_watcher_.start(); !started) return started.error();
  }
  if (auto watched = dir_watcher_.watch(dir); !watched) return watched.error();
  return watches_.add(dir, dir, std::move(on_change));
}

}  // namespace autopilot::os
