#include "os/linux/dir_watcher.h"

#include <fmt/format.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace autopilot::os {

DirWatcher::DirWatcher(boost::asio::io_context& io, std::function<void(const std::string&)> on_change,
                       std::function<bool(std::string_view)> is_ignored)
    : io_(io), on_change_(std::move(on_change)), is_ignored_(std::move(is_ignored)) {}

DirWatcher::~DirWatcher() = default;  // the stream_descriptor closes the fd

Result<void> DirWatcher::start() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return make_error(fmt::format("inotify_init1: {}", std::strerror(errno)));
  stream_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
  read_more();
  return {};
}

Result<void> DirWatcher::watch(const std::string& dir) {
  if (!stream_) return make_error("inotify is not started");
  uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB | IN_ONLYDIR;
  int wd = ::inotify_add_watch(stream_->native_handle(), dir.c_str(), mask);
  if (wd < 0) return make_error(fmt::format("inotify_add_watch {}: {}", dir, std::strerror(errno)));
  auto& names = dirs_[wd];  // the same inode gives the same wd back
  if (std::find(names.begin(), names.end(), dir) != names.end()) return {};
  forget(dir);  // under an older wd: the directory there was replaced
  dirs_[wd].push_back(dir);
  return {};
}

void DirWatcher::unwatch(const std::string& dir) { forget(dir); }

// Drops `dir` from the names of its wd, and the kernel's watch with the last one.
void DirWatcher::forget(const std::string& dir) {
  for (auto it = dirs_.begin(); it != dirs_.end(); ++it) {
    auto& names = it->second;
    auto found = std::find(names.begin(), names.end(), dir);
    if (found == names.end()) continue;
    names.erase(found);
    if (names.empty()) {
      if (stream_) ::inotify_rm_watch(stream_->native_handle(), it->first);
      dirs_.erase(it);
    }
    return;
  }
}

bool DirWatcher::is_watching(const std::string& dir) const {
  for (const auto& [wd, names] : dirs_) {
    if (std::find(names.begin(), names.end(), dir) != names.end()) return true;
  }
  return false;
}

void DirWatcher::read_more() {
  stream_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      lifetime_.bind([this](boost::system::error_code ec) {
                        if (ec == boost::asio::error::operation_aborted) return;
                        on_readable(ec);
                      }));
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
      if (is_ignored_ && !name.empty() && is_ignored_(name)) continue;
      auto report = [&changed](const std::string& dir) {
        if (std::find(changed.begin(), changed.end(), dir) == changed.end()) changed.push_back(dir);
      };
      // IN_Q_OVERFLOW has wd -1: report every directory, the rescan way.
      if (event->mask & IN_Q_OVERFLOW) {
        for (const auto& [wd, names] : dirs_) {
          for (const auto& dir : names) report(dir);
        }
      } else if (it != dirs_.end()) {
        for (const auto& dir : it->second) report(dir);
      }
    }
  }
  // Callbacks may add watches (touching dirs_), so call them after the parse.
  for (const auto& dir : changed) on_change_(dir);
  read_more();
}

}  // namespace autopilot::os
