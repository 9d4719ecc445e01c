#include "os/linux/dir_watcher.h"

#include <fmt/format.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace autopilot::os {

DirWatcher::DirWatcher(boost::asio::io_context& io, std::function<void(const std::string&)> on_change,
                       std::string ignored_prefix)
    : io_(io), on_change_(std::move(on_change)), ignored_prefix_(std::move(ignored_prefix)) {}

DirWatcher::~DirWatcher() = default;  // the stream_descriptor closes the fd

Result<void> DirWatcher::start() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("inotify_init1: {}", std::strerror(errno)));
  stream_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
  read_more();
  return {};
}

Result<void> DirWatcher::watch(const std::string& dir, Events events) {
  if (!stream_) return make_error("inotify is not started");
  uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR;
  if (events != Events::kEntries) mask |= IN_CLOSE_WRITE;
  if (events == Events::kWritesAndAttrs) mask |= IN_ATTRIB;
  int wd = ::inotify_add_watch(stream_->native_handle(), dir.c_str(), mask);
  if (wd < 0) return make_error(fmt::format("inotify_add_watch {}: {}", dir, std::strerror(errno)));
  dirs_[wd] = dir;  // the same inode gives the same wd back
  return {};
}

bool DirWatcher::is_watching(const std::string& dir) const {
  for (const auto& [wd, watched] : dirs_) {
    if (watched == dir) return true;
  }
  return false;
}

void DirWatcher::read_more() {
  stream_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
                        if (alive.expired() || ec == boost::asio::error::operation_aborted) return;
                        on_readable(ec);
                      });
}

void DirWatcher::on_readable(boost::system::error_code ec) {
  if (ec) return;  // the fd broke; the periodic rescan still covers us
  alignas(inotify_event) char buf[16 * 1024];
  std::vector<std::string> changed;
  for (;;) {
    ssize_t n = ::read(stream_->native_handle(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t off = 0; off < n;) {
      auto* event = reinterpret_cast<inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      auto it = dirs_.find(event->wd);
      if (event->mask & IN_IGNORED) {
        if (it != dirs_.end()) dirs_.erase(it);
        continue;
      }
      std::string_view name = event->len > 0 ? std::string_view(event->name) : std::string_view();
      if (!ignored_prefix_.empty() && name.starts_with(ignored_prefix_)) continue;
      auto report = [&changed](const std::string& dir) {
        if (std::find(changed.begin(), changed.end(), dir) == changed.end()) changed.push_back(dir);
      };
      // IN_Q_OVERFLOW has wd -1: report every directory, the rescan way.
      if (event->mask & IN_Q_OVERFLOW) {
        for (const auto& [wd, dir] : dirs_) report(dir);
      } else if (it != dirs_.end()) {
        report(it->second);
      }
    }
  }
  // Callbacks may add watches (touching dirs_), so call them after the parse.
  for (const auto& dir : changed) on_change_(dir);
  read_more();
}

}  // namespace autopilot::os
