#include "os/linux/asio_timers.h"

#include <algorithm>
#include <utility>

namespace autopilot::os {

AsioTimers::AsioTimers(boost::asio::io_context& io) : io_(io) {}

AsioTimers::~AsioTimers() = default;

Clock::time_point AsioTimers::now() const { return Clock::now(); }

Clock::time_point coalesce(Clock::time_point deadline, Duration delay) {
  Duration grain = std::min(delay / kCoalesceDivisor, kMaxCoalesce);
  if (grain <= Duration::zero()) return deadline;
  auto since_epoch = deadline.time_since_epoch();
  auto cells = (since_epoch + grain - Duration(1)) / grain;  // rounded up
  return Clock::time_point(cells * grain);
}

Timers::Id AsioTimers::after(Duration delay, std::function<void()> fire) {
  Id id = next_id_++;
  auto entry = std::make_unique<Entry>(Entry{boost::asio::steady_timer(io_), std::move(fire)});
  entry->timer.expires_at(coalesce(now() + delay, delay));
  // The map entry, not the handler, owns `fire`: cancel() erases it, so a
  // completion that was already queued finds nothing to call.
  entry->timer.async_wait([this, id, alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    on_expiry(id);
  });
  timers_.emplace(id, std::move(entry));
  return id;
}

void AsioTimers::cancel(Id id) { timers_.erase(id); }

void AsioTimers::on_expiry(Id id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  std::function<void()> fire = std::move(it->second->fire);
  timers_.erase(it);
  fire();
}

}  // namespace autopilot::os
