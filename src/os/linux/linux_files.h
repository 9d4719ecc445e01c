// LinuxFiles: os::Files on POSIX calls, with watches through inotify
// (os/linux/dir_watcher.h) on the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "os/files.h"
#include "os/linux/dir_watcher.h"
#include "os/watch_registry.h"

namespace autopilot::os {

// Contract, beyond Files:
// - Calls retry on EINTR (SIGCHLD is not SA_RESTART: linux_processes.h).
// - File descriptors are O_CLOEXEC; reads open with O_NONBLOCK, so a FIFO
//   never blocks the loop.
// - All watches share one inotify instance, made at the first watch() (and
//   tried again at the next one when that fails). A directory removed and
//   made again is watched again only once watch() is called for it anew
//   (every watch of that name then reports again).
// - Loop thread only. Destroy every Watch first, and the LinuxFiles before
//   the io_context.
class LinuxFiles : public Files {
 public:
  explicit LinuxFiles(boost::asio::io_context& io);
  ~LinuxFiles() override;
  LinuxFiles(const LinuxFiles&) = delete;
  LinuxFiles& operator=(const LinuxFiles&) = delete;

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

 private:
  DirWatcher dir_watcher_;
  WatchRegistry watches_;
};

}  // namespace autopilot::os
