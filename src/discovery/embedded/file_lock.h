// FileLock: an exclusive flock(2) held for a scope, around the embedded
// catalog's changes (store.h: catalog.lock). Never waits: a lock held by
// another process is reported at once, and the caller retries later on its
// loop (EmbeddedCatalog). Internal to discovery/embedded.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/result.h"

namespace autopilot::discovery::embedded {

// Holds an exclusive flock on `path` for its lifetime.
class FileLock {
 public:
  // Takes the lock if it is free; nullopt when another open file description
  // holds it. Creates the file with `mode` (set with fchmod, whatever the
  // umask; an existing file of ours is brought to `mode` too): a file that
  // others cannot open is a lock they cannot freeze, since a read-only
  // descriptor is enough to flock.
  static Result<std::optional<FileLock>> try_acquire(const std::string& path, mode_t mode);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// Who holds a flock on `path`, from /proc/locks and /proc/PID/comm:
// "pid 1234 (flock)"; "" when it cannot be told (no /proc, another pid
// namespace, released meanwhile).
std::string describe_lock_holder(const std::string& path);

}  // namespace autopilot::discovery::embedded
