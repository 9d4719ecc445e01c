// FileLock: an exclusive flock(2) held for a scope, around the embedded
// catalog's changes (store.h: catalog.lock). Synchronous. Internal to
// discovery/embedded.
#pragma once

#include <string>

#include "base/result.h"

namespace autopilot::discovery::embedded {

// Holds an exclusive flock on `path` (created if needed) for its lifetime.
// Blocks until the lock is free; the critical sections it guards are a few
// small file writes.
class FileLock {
 public:
  static Result<FileLock> acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace autopilot::discovery::embedded
