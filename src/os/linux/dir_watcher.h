// DirWatcher: inotify on the loop. Reports "something changed in DIR" for
// the directories it was asked to watch; the caller decides what to re-read.
// Used through os::Files::watch (os/linux/linux_files.h).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/lifetime.h"
#include "base/result.h"

namespace autopilot::os {

class DirWatcher {
 public:
  // `on_change(dir)` runs on the loop, never inline: once for each directory
  // with events in what one read of the inotify fd returned (a burst may
  // still come as several reads: callers coalesce). The events: entries
  // created, deleted and renamed in or out, files closed after writing (not
  // every write: a file is seen whole), changes of attributes (mode, owner,
  // times: `touch`). Events about entries for which `is_ignored(name)` holds
  // (when given) are dropped.
  DirWatcher(boost::asio::io_context& io, std::function<void(const std::string& dir)> on_change,
             std::function<bool(std::string_view name)> is_ignored = nullptr);
  ~DirWatcher();
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Creates the inotify instance and starts reading it.
  Result<void> start();
  bool is_started() const { return stream_ != nullptr; }
  // Watches `dir`. Idempotent; re-adds a watch the kernel dropped (the
  // directory was removed and made again). Two names of one directory are
  // both reported.
  Result<void> watch(const std::string& dir);
  // Stops reporting `dir`; a no-op when it is not watched.
  void unwatch(const std::string& dir);
  bool is_watching(const std::string& dir) const;

 private:
  void read_more();
  void on_readable(boost::system::error_code ec);
  void forget(const std::string& dir);

  boost::asio::io_context& io_;
  std::function<void(const std::string&)> on_change_;
  std::function<bool(std::string_view)> is_ignored_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> stream_;
  std::map<int, std::vector<std::string>> dirs_;  // watch descriptor -> the names it was added under
  Lifetime lifetime_;  // last: a wakeup queued before our destruction is dropped
};

}  // namespace autopilot::os
