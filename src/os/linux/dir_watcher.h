// DirWatcher: inotify on the loop. Reports "something changed in DIR" for
// the directories it was asked to watch; the caller decides what to re-read
// (the embedded catalog its records, a template the files it read).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"

namespace autopilot::os {

class DirWatcher {
 public:
  // What a watch reports, beyond entries created, deleted and renamed in or out.
  enum class Events {
    kEntries,         // nothing more
    kClosedWrites,    // + files closed after writing (not every write: a file is seen whole)
    kWritesAndAttrs,  // + changes of attributes (mode, owner, times: `touch`)
  };

  // `on_change(dir)` runs on the loop, never inline: once for each directory
  // with events in what one read of the inotify fd returned (a burst may
  // still come as several reads: callers coalesce). Events about entries whose names start with
  // `ignored_prefix` (when not empty) are dropped.
  DirWatcher(boost::asio::io_context& io, std::function<void(const std::string& dir)> on_change,
             std::string ignored_prefix = "");
  ~DirWatcher();
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Creates the inotify instance and starts reading it.
  Result<void> start();
  // Watches `dir` for `events`. Idempotent; re-adds a watch the kernel
  // dropped (the directory was removed and made again).
  Result<void> watch(const std::string& dir, Events events);
  bool is_watching(const std::string& dir) const;

 private:
  void read_more();
  void on_readable(boost::system::error_code ec);

  boost::asio::io_context& io_;
  std::function<void(const std::string&)> on_change_;
  std::string ignored_prefix_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> stream_;
  std::map<int, std::string> dirs_;  // watch descriptor -> directory
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace autopilot::os
