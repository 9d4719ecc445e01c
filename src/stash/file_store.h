// FileStore: the `file` provider's directory. Opens a request's path beneath
// basePath and nowhere else: with openat2(RESOLVE_BENEATH), the kernel
// refuses any step out of the directory, through "..", an absolute symlink
// or a relative one that climbs out, while symlinks that stay inside work.
// Where openat2 is missing (ENOSYS, older kernels or seccomp filters) it
// walks the path one name at a time with O_NOFOLLOW, refusing every symlink.
//
// Only regular files are served: a directory, FIFO or device is "not found"
// (no listings; FIFOs are opened non-blocking so one cannot stall the loop).
// Files are small configs and secrets read whole on the loop, bounded by
// kMaxFileSize.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace autopilot::stash {

struct FileObject {
  std::string content;
  std::string etag;  // quoted; from inode, size and mtime
};

class FileStore {
 public:
  static constexpr std::uint64_t kMaxFileSize = 64 * 1024 * 1024;

  enum class Resolve {
    kBeneath,     // openat2(RESOLVE_BENEATH), else kNoSymlinks when the kernel refuses it
    kNoSymlinks,  // the walk alone (tests of the fallback)
  };

  // Opens the directory; the error names it.
  static Result<FileStore> open(const std::string& base_path, Resolve resolve = Resolve::kBeneath);
  FileStore(FileStore&& other) noexcept : dir_(other.dir_), resolve_(other.resolve_) { other.dir_ = -1; }
  FileStore& operator=(FileStore&& other) noexcept {
    std::swap(dir_, other.dir_);
    std::swap(resolve_, other.resolve_);
    return *this;
  }
  FileStore(const FileStore&) = delete;
  ~FileStore();

  // nullopt: no such regular file beneath basePath (or refused). An error:
  // it exists but could not be read (for a 500).
  Result<std::optional<FileObject>> read(const std::vector<std::string>& segments) const;

 private:
  FileStore(int dir, Resolve resolve) : dir_(dir), resolve_(resolve) {}
  int open_beneath(const std::string& relative) const;

  int dir_ = -1;
  Resolve resolve_ = Resolve::kBeneath;
};

}  // namespace autopilot::stash
