// The file of a unix socket we listen on: made free before bind (a crashed
// run's stale socket is replaced, nothing else is) and removed afterwards
// only while it is still the one we made. Never follows a symlink at the
// path itself. Errors name the call and the path (os::sys_error).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"

namespace autopilot::net {

// The longest path a sockaddr_un holds (107 bytes and the terminating NUL).
constexpr size_t kMaxSocketPath = 107;

// Makes `path` free for a new socket: nothing there is fine; a socket nobody
// accepts on is unlinked; a socket someone listens on is refused ("another
// process is listening on PATH"), as is anything that is not a socket (a
// regular file, a directory, a symlink: "PATH exists and is not a socket;
// not replacing it"). The probe of a socket is a non-blocking connect.
Result<void> free_socket_path(const std::string& path);

// Who a socket file is (lstat), recorded right after bind.
struct SocketFile {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
};
Result<SocketFile> socket_file(const std::string& path);

// Unlinks the file if it is still that socket (not one a later process made
// at the same path). Errors are ignored: this runs on the way out.
void remove_socket_file(const SocketFile& file);

}  // namespace autopilot::net
