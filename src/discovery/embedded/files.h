// Small POSIX file helpers for the embedded catalog: atomic writes, bounded
// reads that never follow symlinks, directory listings, an exclusive flock
// guard and index files. Synchronous. Errors name the call and the path
// ("rename /run/x/.tmp-1 -> /run/x/a.json: No space left on device").
// Internal to discovery/embedded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "discovery/catalog.h"

namespace autopilot::discovery::embedded {

// Writes `content` to dir/name atomically: a temp file in `dir` (named
// ".tmp-<name>.XXXXXX", mode 0644), fsync when `sync`, then rename over the
// target.
// A reader sees the old content or the new one, never a mix.
Result<void> write_atomic(const std::string& dir, const std::string& name, const std::string& content, bool sync);

// The content of `path`, or nullopt if it does not exist. Refuses symlinks,
// non-regular files and files larger than `max_bytes`.
Result<std::optional<std::string>> read_small_file(const std::string& path, size_t max_bytes);

// Names in `dir` (not "." or ".."), unsorted; an absent dir is empty.
Result<std::vector<std::string>> list_dir(const std::string& dir);

// mkdir -p for one level below an existing parent; EEXIST is fine.
Result<void> make_dir(const std::string& path);

// Removes `path`; ENOENT is fine.
Result<void> remove_file(const std::string& path);

// An index stored as decimal text (0 when absent or unreadable: such files
// are only ever written by write_atomic, so they are never torn).
Index read_index_file(const std::string& path);

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
