#include "stash/file_store.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/strings.h"

namespace autopilot::stash {
namespace {

constexpr int kFileFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

// The slow path: one component at a time, no symlink followed at all.
int walk_nofollow(int dir, const std::string& relative) {
  auto names = split(relative, '/');
  int at = dir;
  for (size_t i = 0; i < names.size(); ++i) {
    bool last = i + 1 == names.size();
    int flags = last ? kFileFlags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(at, names[i].c_str(), flags);
    int saved = errno;
    if (at != dir) ::close(at);
    if (fd < 0) {
      errno = saved;
      return -1;
    }
    at = fd;
  }
  return at;
}

}  // namespace

Result<FileStore> FileStore::open(const std::string& base_path, Resolve resolve) {
  int fd = ::open(base_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("open {}: {}", base_path, std::strerror(errno)));
  return FileStore(fd, resolve);
}

FileStore::~FileStore() {
  if (dir_ >= 0) ::close(dir_);
}

int FileStore::open_beneath(const std::string& relative) const {
  if (resolve_ == Resolve::kNoSymlinks) return walk_nofollow(dir_, relative);
  open_how how{};
  how.flags = kFileFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir_, relative.c_str(), &how, sizeof how);
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) return walk_nofollow(dir_, relative);
  return static_cast<int>(fd);
}

Result<std::optional<FileObject>> FileStore::read(const std::vector<std::string>& segments) const {
  if (segments.empty()) return std::optional<FileObject>();
  // Plain names only, whatever the caller checked: the walk would follow
  // "..", and a '/' or NUL would change what is opened.
  for (const auto& name : segments)
    if (name.empty() || name == "." || name == ".." || name.find_first_of(std::string_view("/\0", 2)) != std::string::npos)
      return std::optional<FileObject>();
  std::string relative = join(segments, "/");
  int fd = open_beneath(relative);
  if (fd < 0) {
    // ENOENT, ENOTDIR, EXDEV (left the directory), ELOOP (a symlink with
    // O_NOFOLLOW), EACCES...: all "not found" to the client.
    return std::optional<FileObject>();
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::optional<FileObject>();
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileSize) {
    ::close(fd);
    return make_error(fmt::format("{}: larger than {} bytes", relative, kMaxFileSize));
  }
  FileObject file;
  file.content.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < file.content.size()) {
    ssize_t n = ::pread(fd, file.content.data() + done, file.content.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      return make_error(fmt::format("read {}: {}", relative, std::strerror(saved)));
    }
    if (n == 0) break;  // shrank meanwhile: serve what was there
    done += static_cast<size_t>(n);
  }
  file.content.resize(done);
  ::close(fd);
  file.etag = fmt::format("\"{:x}-{:x}-{:x}\"", static_cast<std::uint64_t>(st.st_ino), done,
                          static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                              static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  return std::optional<FileObject>(std::move(file));
}

}  // namespace autopilot::stash
