// Files: the seam for the file system. Everything above os/ that reads,
// writes, lists or watches files goes through this, so tests can run on an
// in-memory tree (os/fake/fake_files.h) and make it fail on purpose. The real
// implementation is os/linux/linux_files.h.
//
// Calls are synchronous and run on the loop thread: they are meant for small
// files on local file systems (configs, templates, catalog records). Errors
// name the call and the path, as leveldb's PosixError does:
//   "rename /etc/.app.conf.autopilot-Zb3kQx /etc/app.conf: Is a directory"
// and an error about a path that does not exist has code kNotFound.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace autopilot::os {

// Error::code when the path (or a directory on the way) does not exist:
// gRPC's NOT_FOUND, the code space Error::code already speaks (base/result.h).
inline constexpr int kNotFound = 5;
// Error::code when a Dir met a symbolic link below it (ELOOP's number).
inline constexpr int kRefusedLink = 40;

// The temp file stage() makes beside `name`: ".<name>.autopilot-XXXXXX" (the
// X's become a unique suffix). Watches never report such entries.
std::string temp_name(std::string_view name);
bool is_temp_name(std::string_view name);

// The error of a failed system call about `path`, in the words every Files
// implementation uses: "CALL PATH: <strerror(err)>", code kNotFound for ENOENT.
Error sys_error(std::string_view call, std::string_view path, int err);

// kSymlink only from Dir::stat, which does not follow links.
enum class FileKind { kFile, kDirectory, kOther, kSymlink };

// What stat() finds, through symlinks.
struct FileInfo {
  FileKind kind = FileKind::kFile;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point mtime{};
  mode_t mode = 0;  // permission bits only (07777)
  std::uint64_t inode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool operator==(const FileInfo&) const = default;
};

struct ReadLimits {
  size_t max_bytes = std::numeric_limits<size_t>::max();  // a larger file is an error
  bool follow_symlinks = true;  // false: a symlink is an error (for directories others write into)
};

struct WriteOptions {
  mode_t mode = 0644;  // set with fchmod: the umask does not apply
  // Given: the file gets this owner (chown before chmod, which a non-root
  // chown would undo; EPERM is ignored when we are not root). Else ours.
  struct Owner {
    uid_t uid;
    gid_t gid;
  };
  std::optional<Owner> owner = std::nullopt;
  // fsync the file before the rename and the directory after it. A directory
  // that cannot be synced is not an error: the file is in place already and
  // only its durability across a crash is weaker.
  bool durable = true;
};

class Files {
 public:
  // A directory watch; destroying it ends it: no callback runs afterwards.
  class Watch {
   public:
    virtual ~Watch() = default;
  };

  // A write prepared by stage(): the new content in a temp file beside the
  // destination, durable and with its final mode and owner, not yet visible
  // under the destination's name. Destroying it before commit() removes the
  // temp file.
  class StagedWrite {
   public:
    virtual ~StagedWrite() = default;
    // Where the new content is, for a command that vets it first.
    virtual const std::string& temp_path() const = 0;
    // Renames the temp file over the destination (readers see the old bytes
    // or the new ones, never a mix), then syncs the directory. On failure the
    // temp file is removed and the destination is untouched. Once only.
    virtual Result<void> commit() = 0;
  };

  // An exclusive lock on a file (flock(2)), held until destroyed.
  class Lock {
   public:
    virtual ~Lock() = default;
  };

  // A directory that others may write into (the embedded catalog), opened
  // once: every path given to it is relative to it ("services/web/a1.json",
  // plain names joined by '/': no "", ".", ".." or leading '/'), and is
  // reached from the open directory without following a symbolic link, on
  // the way or at the end. A link anywhere below is refused with
  // "PATH is a symbolic link: refused" (PATH the link's full path), so a link
  // planted there cannot send a write, a removal or a read elsewhere (code
  // kRefusedLink). The
  // directory itself is whatever the path named when it was opened (the
  // opener chose it); renaming or replacing it later does not move the
  // handle. Errors otherwise as Files' ("open PATH: ...", code kNotFound).
  class Dir {
   public:
    virtual ~Dir() = default;
    // The path it was opened with.
    virtual const std::string& path() const = 0;
    // The directory itself (fstat), and its mode set (fchmod: no umask).
    virtual Result<FileInfo> info() = 0;
    virtual Result<void> set_mode(mode_t mode) = 0;

    // Files::read of a regular file no larger than `max_bytes`.
    virtual Result<std::string> read(const std::string& rel, size_t max_bytes) = 0;
    // What lstat(2) finds (a link is kSymlink); nothing there: nullopt.
    virtual Result<std::optional<FileInfo>> stat(const std::string& rel) = 0;
    // The names in the directory `rel`, sorted, as Files::list.
    virtual Result<std::vector<std::string>> list(const std::string& rel) = 0;
    // One directory (its parent must exist) with `mode` whatever the umask;
    // an existing directory is fine (its mode is kept).
    virtual Result<void> make_dir(const std::string& rel, mode_t mode) = 0;
    // Removes the file (or link) `rel`; already gone is fine.
    virtual Result<void> remove(const std::string& rel) = 0;
    // Files::write_atomic: a temp file beside `rel`, renamed over it.
    virtual Result<void> write_atomic(const std::string& rel, const std::string& content,
                                      const WriteOptions& options) = 0;
    // Takes an exclusive lock on the file `rel` (made with `mode`, whatever
    // the umask; a file of ours with another mode is brought to it) if it is
    // free: nullptr when another open file holds it. Never waits. The file
    // is opened read-only, so a failed attempt changes nothing others
    // watch; with `notify_release`, releasing the lock is reported to
    // watches of its directory (a close after writing), to wake waiters.
    virtual Result<std::unique_ptr<Lock>> try_lock(const std::string& rel, mode_t mode, bool notify_release) = 0;
  };

  using OnChange = std::function<void(const std::string& dir)>;

  virtual ~Files() = default;

  // The whole content of a regular file. Errors: "open PATH: <strerror>"
  // (code kNotFound when it does not exist), "PATH is not a regular file"
  // (a directory, a FIFO: never blocks), "PATH is larger than N bytes",
  // "read PATH: <strerror>".
  virtual Result<std::string> read(const std::string& path, const ReadLimits& limits) = 0;
  Result<std::string> read(const std::string& path) { return read(path, ReadLimits{}); }

  // Nothing there (or a dangling symlink): nullopt. Errors: "stat PATH: ...".
  virtual Result<std::optional<FileInfo>> stat(const std::string& path) = 0;

  // The names in `dir` (not "." or ".."), sorted. Errors: "opendir DIR: ..."
  // (code kNotFound when it does not exist).
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;

  // mkdir -p, new directories with mode 0755 (before the umask). Existing
  // directories are fine. Errors: "mkdir DIR: <strerror>" for the first one
  // that cannot be made ("Not a directory" when a file is in the way).
  virtual Result<void> make_dirs(const std::string& dir) = 0;

  // Removes the file `path` (unlink: not a directory). A path already gone
  // is fine. Errors: "unlink PATH: ...".
  virtual Result<void> remove(const std::string& path) = 0;

  // Step one of write_atomic: a temp file named temp_name(basename) in the
  // destination's directory (which must exist), all of `content` written.
  // Errors: "mkstemp DIR/.NAME.autopilot-XXXXXX: ...", then "write", "fchown",
  // "fchmod", "fsync", "close" with the temp file's path; nothing is left behind.
  virtual Result<std::unique_ptr<StagedWrite>> stage(const std::string& path, const std::string& content,
                                                      const WriteOptions& options) = 0;

  // Replaces `path` with `content` atomically: stage(), then commit().
  // "rename TEMP PATH: ..." when the rename fails; the old file is untouched.
  Result<void> write_atomic(const std::string& path, const std::string& content, const WriteOptions& options = {});

  // Makes `path` one more name (a hard link) of the file `target` names,
  // atomically replacing whatever `path` named: a new link under a temp name
  // (temp_name of target's basename, in path's directory), renamed over
  // `path`, then the directory synced. Both must be on one file system.
  // Errors: "link TARGET TEMP: ...", "rename TEMP PATH: ..."; on failure
  // `path` is untouched and no temp link is left.
  virtual Result<void> link_atomic(const std::string& target, const std::string& path) = 0;

  // Opens the directory `path` (following links in `path` itself) as a Dir.
  // Errors: "open PATH: ..." (code kNotFound when it does not exist).
  virtual Result<std::unique_ptr<Dir>> open_dir(const std::string& path) = 0;

  // Calls `on_change(dir)` on the loop, never inline, after entries of `dir`
  // were created, removed or renamed in or out, files in it were closed after
  // writing, or their attributes changed; a burst may come as one call or
  // several (callers re-read what they care about). Temp files (is_temp_name)
  // are not changes. Several watches of one directory are independent. Errors
  // (no inotify, its watch limit, no such directory) leave the caller to
  // poll. The Watch must not outlive the Files.
  virtual Result<std::unique_ptr<Watch>> watch(const std::string& dir, OnChange on_change) = 0;
};

}  // namespace autopilot::os
