// The POSIX steps LinuxFiles and its Dir share (os/linux/linux_files.cc).
// Internal to os/linux.
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "os/files.h"

namespace autopilot::os {

// SIGCHLD is not SA_RESTART (os/linux/linux_processes.h): retry on EINTR.
template <class F>
auto no_eintr(F call) {
  decltype(call()) r;
  do {
    r = call();
  } while (r < 0 && errno == EINTR);
  return r;
}

// What `st` says (a link is kSymlink, when lstat'ed).
FileInfo info_of(const struct stat& st);
// Writes all of `bytes` to `fd`; errors name `path`.
Result<void> write_all(int fd, const std::string& bytes, const std::string& path);
// The names in the open directory `d` (not "." or ".."), sorted; closes it.
std::vector<std::string> list_open(DIR* d);
// The rest of a read, on the open `fd`: a regular file within the limits.
Result<std::string> read_open(int fd, const std::string& path, const ReadLimits& limits);

}  // namespace autopilot::os
