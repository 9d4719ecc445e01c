// LinuxDir: os::Files::Dir on a directory file descriptor. Every path below
// it is walked one name at a time with openat(O_NOFOLLOW) from that
// descriptor, and every change is made with mkdirat/unlinkat/renameat on
// the descriptor of its directory, so no symbolic link is followed between
// a check and a use (there is no separate check). The walk works on every
// kernel; catalog paths are at most three names deep.
#pragma once

#include <memory>
#include <string>

#include "os/files.h"

namespace autopilot::os {

// Files::open_dir for LinuxFiles. Calls retry on EINTR; descriptors are
// O_CLOEXEC. Loop thread only, as LinuxFiles.
Result<std::unique_ptr<Files::Dir>> open_linux_dir(const std::string& path);

}  // namespace autopilot::os
