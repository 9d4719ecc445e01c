// DirWatcher: inotify on the loop. Reports "something changed in DIR" for
// the directories it was asked to watch; the embedded catalog decides what
// to re-read. Internal to discovery/embedded.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"

namespace autopilot::discovery::embedded {

class DirWatcher {
 public:
  // `on_change(dir)` runs on the loop, once per inotify event (callers
  // coalesce), never inline. Events about temp files (".tmp-*") are dropped.
  DirWatcher(boost::asio::io_context& io, std::function<void(const std::string& dir)> on_change);
  ~DirWatcher();
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Creates the inotify instance and starts reading it.
  Result<void> start();
  // Watches `dir` for entries renamed in or out, created, deleted and (with
  // close_write) files closed after writing. Idempotent; re-adds a watch the
  // kernel dropped (the directory was removed and made again).
  Result<void> watch(const std::string& dir, bool close_write);
  bool is_watching(const std::string& dir) const;

 private:
  void read_more();
  void on_readable(boost::system::error_code ec);

  boost::asio::io_context& io_;
  std::function<void(const std::string&)> on_change_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> stream_;
  std::map<int, std::string> dirs_;  // watch descriptor -> directory
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace autopilot::discovery::embedded
