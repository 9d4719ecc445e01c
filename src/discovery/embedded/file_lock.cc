#include "discovery/embedded/file_lock.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <sstream>

namespace autopilot::discovery::embedded {

std::string describe_lock_holder(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  // /proc/locks: "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF"; waiters
  // show as "1: -> FLOCK ..." and are skipped.
  std::string device = fmt::format("{:02x}:{:02x}:{}", major(st.st_dev), minor(st.st_dev), st.st_ino);
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string number, type, advisory, access, pid, where;
    fields >> number >> type;
    if (type == "->") continue;
    fields >> advisory >> access >> pid >> where;
    if (type != "FLOCK" || where != device) continue;
    if (pid.empty() || pid == "0" || pid.starts_with('-')) return "";  // not in our pid namespace
    std::string comm;
    std::ifstream comm_file(fmt::format("/proc/{}/comm", pid));
    std::getline(comm_file, comm);
    return comm.empty() ? fmt::format("pid {}", pid) : fmt::format("pid {} ({})", pid, comm);
  }
  return "";
}

}  // namespace autopilot::discovery::embedded
