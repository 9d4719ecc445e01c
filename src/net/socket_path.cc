#include "net/socket_path.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "os/files.h"

namespace autopilot::net {
namespace {

// Whether something accepts on the socket at `path`. Non-blocking, so a full
// backlog (EAGAIN) reads as "alive" instead of blocking the caller.
bool is_listened_on(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::close(fd);
  return r == 0 || err == EAGAIN || err == EINPROGRESS;
}

}  // namespace

Result<void> free_socket_path(const std::string& path) {
  if (path.empty() || path.size() > kMaxSocketPath)
    return make_error("socket path \"" + path + "\" must be 1 to " + std::to_string(kMaxSocketPath) + " bytes long");
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return os::sys_error("lstat", path, errno);
  }
  if (!S_ISSOCK(st.st_mode)) return make_error(path + " exists and is not a socket; not replacing it");
  if (is_listened_on(path)) return make_error("another process is listening on " + path);
  // A crashed run's socket: nobody accepts on it any more.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return os::sys_error("unlink", path, errno);
  return {};
}

Result<SocketFile> socket_file(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return os::sys_error("lstat", path, errno);
  return SocketFile{path, st.st_dev, st.st_ino};
}

void remove_socket_file(const SocketFile& file) {
  struct stat st {};
  if (::lstat(file.path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode) || st.st_dev != file.dev || st.st_ino != file.ino) return;
  ::unlink(file.path.c_str());
}

}  // namespace autopilot::net
