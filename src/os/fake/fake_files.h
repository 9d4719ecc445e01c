// FakeFiles: an in-memory file tree for tests, with watches driven by the
// Timers and failures on demand. Linked into tests only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "os/files.h"
#include "os/timers.h"
#include "os/watch_registry.h"

namespace autopilot::os {

// Contract, beyond Files:
// - Paths are taken lexically: relative ones start at "/", "." and ".." are
//   resolved, and links are not followed. "/" exists from the start.
// - A Dir (open_dir) refuses a link made by symlink_for_test on its way,
//   as LinuxFiles' does; its locks are held in memory, shared by every Dir
//   of this FakeFiles.
// - Errors have the words and codes LinuxFiles gives (the same calls, paths
//   and strerror texts), e.g. "mkstemp /etc/.a.conf.autopilot-XXXXXX:
//   Permission denied".
// - Temp files are real entries (list() shows them) named
//   temp_name(basename) with a counter for the X's.
// - Every change to a directory's entries, or to a file in it, made through
//   Files or the helpers below, is reported to that directory's watches
//   through timers.after(0): never inline, so with FakeTimers a test sees
//   them at its next advance(), coalesced per directory as inotify reads are.
//   Temp files are not changes.
// - mtime is a counter (each change is one nanosecond later), inodes are
//   numbered from 1 and owners default to 0:0.
// - Destroy every Watch and StagedWrite before the FakeFiles.
class FakeFiles : public Files {
 public:
  explicit FakeFiles(Timers& timers);
  ~FakeFiles() override;
  FakeFiles(const FakeFiles&) = delete;
  FakeFiles& operator=(const FakeFiles&) = delete;

  using Files::read;
  Result<std::string> read(const std::string& path, const ReadLimits& limits) override;
  Result<std::optional<FileInfo>> stat(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  Result<void> make_dirs(const std::string& dir) override;
  Result<void> remove(const std::string& path) override;
  Result<std::unique_ptr<StagedWrite>> stage(const std::string& path, const std::string& content,
                                              const WriteOptions& options) override;
  Result<void> link_atomic(const std::string& target, const std::string& path) override;
  Result<std::unique_ptr<Dir>> open_dir(const std::string& path) override;
  Result<std::unique_ptr<Watch>> watch(const std::string& dir, OnChange on_change) override;

  // Writes `content` into `path` in place, as another program would,
  // making missing directories; no failure applies. Watches of its directory
  // hear of it unless `is_seen` is false (a change inotify would miss, as
  // through a symlink into another directory or on a network file system).
  void write_for_test(const std::string& path, const std::string& content, mode_t mode = 0644,
                      bool is_seen = true);
  // Puts a symbolic link to `target` at `path` (replacing a file there), as
  // another program would. Path-based calls see it as kOther and do not
  // follow it; a Dir refuses it.
  void symlink_for_test(const std::string& path, const std::string& target);
  // Removes a file or a whole directory tree, as another program would.
  void remove_for_test(const std::string& path);

  // As a directory of mode 0555 for a user other than root: making,
  // replacing and removing its entries fails with "Permission denied".
  void set_writable_for_test(const std::string& dir, bool is_writable);
  // The next rename (commit(), link_atomic()) fails with `err`; the temp
  // file or link is removed and the destination is untouched.
  void fail_next_rename_for_test(int err) { next_rename_error_ = err; }
  // The next temp file's write (stage()) fails with `err`.
  void fail_next_write_for_test(int err) { next_write_error_ = err; }

  // Watches not yet destroyed.
  size_t watch_count() const { return watches_.size(); }

 private:
  struct Node;
  class FakeStagedWrite;
  class FakeDir;
  class FakeLock;
  struct Temp {
    std::string key;    // normalised
    std::string shown;  // in the caller's spelling, for errors and temp_path()
  };

  static std::string normal(const std::string& path);
  Node* find(const std::string& normal_path);
  Error missing_error(std::string_view call, const std::string& path, const std::string& shown);
  Result<void> check_writable(std::string_view call, const std::string& dir, const std::string& shown);
  std::shared_ptr<Node> new_node(bool is_dir, mode_t mode);
  Result<Temp> make_temp(const std::string& dir, const std::string& base);
  Result<void> rename(const std::string& from, const std::string& to);
  void changed(const std::string& path);
  void deliver();

  Timers& timers_;
  std::map<std::string, std::shared_ptr<Node>> entries_;  // normalised path -> file or directory
  std::set<std::string> unwritable_;  // normalised directories
  std::set<std::string> held_locks_;  // normalised paths locked through a Dir
  std::optional<int> next_rename_error_, next_write_error_;
  std::uint64_t next_inode_ = 1, next_temp_ = 1, changes_ = 0;
  WatchRegistry watches_;  // by normalised directory
  std::vector<std::string> pending_;  // directories changed since the last delivery
  Timers::Id delivery_timer_ = 0;
};

}  // namespace autopilot::os
