#include "os/linux/linux_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include "base/strings.h"
#include "os/linux/posix_files.h"

namespace autopilot::os {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// An owned descriptor (or a borrowed one, not closed).
class Fd {
 public:
  Fd() = default;
  Fd(int fd, bool owned) : fd_(fd), owned_(owned) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)), owned_(other.owned_) {}
  Fd& operator=(Fd&& other) noexcept {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    owned_ = other.owned_;
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0 && owned_) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool owned_ = true;
};

// The error of an openat(O_NOFOLLOW) of `name` in `at` (`path` in full):
// ELOOP means that the name itself is a link, and so may ENOTDIR with
// O_DIRECTORY (checked before O_NOFOLLOW by the kernel).
Error open_error(int at, const std::string& name, const std::string& path, int err) {
  struct stat st {};
  if (err == ENOTDIR && ::fstatat(at, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) err = ELOOP;
  if (err == ELOOP) {
    Error error = make_error(fmt::format("{} is a symbolic link: refused", path));
    error.code = kRefusedLink;
    return error;
  }
  return sys_error("open", path, err);
}

class LinuxLock : public Files::Lock {
 public:
  LinuxLock(int lock_fd, int notify_fd) : lock_fd_(lock_fd), notify_fd_(notify_fd) {}
  ~LinuxLock() override {
    ::close(lock_fd_);  // first: free the lock, then wake the waiters
    if (notify_fd_ >= 0) ::close(notify_fd_);
  }

 private:
  int lock_fd_, notify_fd_;
};

class LinuxDir : public Files::Dir {
 public:
  LinuxDir(std::string path, int fd) : path_(std::move(path)), fd_(fd, true) {}

  const std::string& path() const override { return path_; }

  Result<FileInfo> info() override {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return sys_error("fstat", path_, errno);
    return info_of(st);
  }

  Result<void> set_mode(mode_t mode) override {
    if (::fchmod(fd_.get(), mode) != 0) return sys_error("chmod", path_, errno);
    return {};
  }

  Result<std::string> read(const std::string& rel, size_t max_bytes) override {
    auto parent = open_parent(rel);
    if (!parent) return parent.error();
    std::string path = full(rel);
    Fd fd(no_eintr([&] {
            return ::openat(parent->first.get(), parent->second.c_str(),
                            O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
          }),
          true);
    if (fd.get() < 0) return open_error(parent->first.get(), parent->second, path, errno);
    return read_open(fd.get(), path, ReadLimits{max_bytes, false});
  }

  Result<std::optional<FileInfo>> stat(const std::string& rel) override {
    auto parent = open_parent(rel);
    if (!parent) {
      if (parent.error().code == kNotFound) return std::optional<FileInfo>();
      return parent.error();
    }
    struct stat st {};
    if (::fstatat(parent->first.get(), parent->second.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return std::optional<FileInfo>();
      return sys_error("stat", full(rel), errno);
    }
    return std::optional<FileInfo>(info_of(st));
  }

  Result<std::vector<std::string>> list(const std::string& rel) override {
    auto dir = open_dir_at(rel);
    if (!dir) return dir.error();
    DIR* d = ::fdopendir(dir->get());
    if (d == nullptr) return sys_error("opendir", full(rel), errno);
    dir->release();  // closedir closes it
    return list_open(d);
  }

  Result<void> make_dir(const std::string& rel, mode_t mode) override {
    auto parent = open_parent(rel);
    if (!parent) return parent.error();
    int at = parent->first.get();
    const std::string& name = parent->second;
    bool made = ::mkdirat(at, name.c_str(), mode) == 0;
    if (!made && errno != EEXIST) return sys_error("mkdir", full(rel), errno);
    // Made or found, it must be a directory and not a link; a new one gets
    // `mode` past the umask.
    Fd fd(no_eintr([&] { return ::openat(at, name.c_str(), kDirFlags); }), true);
    if (fd.get() < 0) return open_error(at, name, full(rel), errno);
    if (made && ::fchmod(fd.get(), mode) != 0) return sys_error("chmod", full(rel), errno);
    return {};
  }

  Result<void> remove(const std::string& rel) override {
    auto parent = open_parent(rel);
    if (!parent) return parent.error().code == kNotFound ? Result<void>() : Result<void>(parent.error());
    if (::unlinkat(parent->first.get(), parent->second.c_str(), 0) != 0 && errno != ENOENT)
      return sys_error("unlink", full(rel), errno);
    return {};
  }

  Result<void> write_atomic(const std::string& rel, const std::string& content,
                            const WriteOptions& options) override {
    auto parent = open_parent(rel);
    if (!parent) return parent.error();
    int at = parent->first.get();
    auto temp = make_temp(at, rel, parent->second);
    if (!temp) return temp.error();
    auto& [fd, temp_name] = *temp;
    std::string temp_path = full(rel.substr(0, rel.size() - parent->second.size()) + temp_name);
    auto fail = [&](Error error) -> Result<void> {
      ::unlinkat(at, temp_name.c_str(), 0);
      return error;
    };
    if (auto written = write_all(fd.get(), content, temp_path); !written) return fail(written.error());
    // chown before chmod: a non-root chown clears set-id bits.
    if (options.owner && ::fchown(fd.get(), options.owner->uid, options.owner->gid) != 0 &&
        !(errno == EPERM && ::geteuid() != 0)) {
      return fail(sys_error("fchown", temp_path, errno));
    }
    if (::fchmod(fd.get(), options.mode) != 0) return fail(sys_error("fchmod", temp_path, errno));
    if (options.durable && no_eintr([&] { return ::fsync(fd.get()); }) != 0)
      return fail(sys_error("fsync", temp_path, errno));
    if (::close(fd.release()) != 0) return fail(sys_error("close", temp_path, errno));
    // renameat replaces whatever `rel` names, a planted link included,
    // without following it.
    if (::renameat(at, temp_name.c_str(), at, parent->second.c_str()) != 0)
      return fail(sys_error("rename", fmt::format("{} {}", temp_path, full(rel)), errno));
    if (options.durable) (void)no_eintr([&] { return ::fsync(at); });
    return {};
  }

  Result<std::unique_ptr<Files::Lock>> try_lock(const std::string& rel, mode_t mode, bool notify_release) override {
    auto parent = open_parent(rel);
    if (!parent) return parent.error();
    int at = parent->first.get();
    const char* name = parent->second.c_str();
    Fd fd(no_eintr([&] { return ::openat(at, name, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode); }), true);
    if (fd.get() < 0) return open_error(at, name, full(rel), errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & 07777) != mode) {
      (void)::fchmod(fd.get(), mode);  // made under a umask, or by an older autopilot (0644)
    }
    if (no_eintr([&] { return ::flock(fd.get(), LOCK_EX | LOCK_NB); }) != 0) {
      if (errno == EWOULDBLOCK) return std::unique_ptr<Files::Lock>();
      return sys_error("flock", full(rel), errno);
    }
    int notify = -1;
    if (notify_release) {
      // A write-mode descriptor, closed after the lock is freed: its close
      // is what the waiters' watches hear.
      notify = no_eintr([&] { return ::openat(at, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW); });
      if (notify < 0) return open_error(at, name, full(rel), errno);
    }
    return std::unique_ptr<Files::Lock>(std::make_unique<LinuxLock>(fd.release(), notify));
  }

 private:
  std::string full(const std::string& rel) const {
    return rel.empty() ? path_ : (path_.ends_with('/') ? path_ : path_ + "/") + rel;
  }

  // The names of `rel`, which must be plain: a ".." would leave the
  // directory, and "" or "." would name something else than was meant.
  Result<std::vector<std::string>> names_of(const std::string& rel) const {
    auto names = split(rel, '/');
    for (const auto& name : names)
      if (name.empty() || name == "." || name == ".." || name.find('\0') != std::string::npos)
        return make_error(fmt::format("{}: \"{}\" is not a plain relative path", path_, rel));
    return names;
  }

  // The directory `names[0..count)`, walked from fd_ one name at a time.
  Result<Fd> walk(const std::vector<std::string>& names, size_t count) const {
    Fd at(fd_.get(), false);
    std::string path = path_;
    for (size_t i = 0; i < count; ++i) {
      path += "/" + names[i];
      int next = no_eintr([&] { return ::openat(at.get(), names[i].c_str(), kDirFlags); });
      if (next < 0) return open_error(at.get(), names[i], path, errno);
      at = Fd(next, true);
    }
    return at;
  }

  // The directory holding `rel`'s last name, and that name.
  Result<std::pair<Fd, std::string>> open_parent(const std::string& rel) const {
    auto names = names_of(rel);
    if (!names) return names.error();
    auto at = walk(*names, names->size() - 1);
    if (!at) return at.error();
    return std::pair<Fd, std::string>(std::move(*at), names->back());
  }

  Result<Fd> open_dir_at(const std::string& rel) const {
    auto names = names_of(rel);
    if (!names) return names.error();
    return walk(*names, names->size());  // at least one name: a descriptor of its own
  }

  // A new temp file (temp_name of `base`) in `at`, opened for writing.
  Result<std::pair<Fd, std::string>> make_temp(int at, const std::string& rel, const std::string& base) const {
    static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0;; ++attempt) {
      std::string name = temp_name(base);
      for (size_t i = name.size() - 6; i < name.size(); ++i) name[i] = kChars[::arc4random_uniform(sizeof kChars - 1)];
      int fd = no_eintr([&] { return ::openat(at, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600); });
      if (fd >= 0) return std::pair<Fd, std::string>(Fd(fd, true), name);
      if (errno != EEXIST || attempt == 8) {
        std::string dir = rel.substr(0, rel.size() - base.size());
        return sys_error("mkstemp", full(dir + temp_name(base)), errno);
      }
    }
  }

  std::string path_;
  Fd fd_;
};

}  // namespace

Result<std::unique_ptr<Files::Dir>> open_linux_dir(const std::string& path) {
  int fd = no_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return sys_error("open", path, errno);
  return std::unique_ptr<Files::Dir>(std::make_unique<LinuxDir>(path, fd));
}

}  // namespace autopilot::os
