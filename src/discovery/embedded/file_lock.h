// Who holds the embedded catalog's lock files (store.h: catalog.lock,
// locks/NAME.lock), for the log line of a change that finds one busy. The
// locks themselves are os::Files::Dir::try_lock, never waited for.
// Internal to discovery/embedded.
#pragma once

#include <string>

namespace autopilot::discovery::embedded {

// Who holds a flock on `path`, from /proc/locks and /proc/PID/comm:
// "pid 1234 (flock)"; "" when it cannot be told (no /proc, another pid
// namespace, released meanwhile).
std::string describe_lock_holder(const std::string& path);

}  // namespace autopilot::discovery::embedded
