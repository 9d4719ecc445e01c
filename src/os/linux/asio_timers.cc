#include "os/linux/asio_timers.h"

#include <algorithm>
#include <utility>

namespace autopilot::os {

AsioTimers::AsioTimers(boost::asio::io_context& io) : io_(io) {}

AsioTimers::~AsioTimers() = default;

Clock::time_point AsioTimers::now() const { return Clock::now(); }

Timers::Id AsioTimers::after(Duration delay, std::function<void()> fire) {
  return arm(now() + delay, slack_for(delay), std::move(fire));
}

Timers::Id AsioTimers::at(Clock::time_point deadline, std::function<void()> fire) {
  return arm(deadline, slack_for(deadline - now()), std::move(fire));
}

Timers::Id AsioTimers::arm(Clock::time_point wanted, Duration slack, std::function<void()> fire) {
  Clock::time_point deadline = wanted + slack;
  if (auto joined = deadlines_.lower_bound(wanted); joined != deadlines_.end() && joined->first <= deadline)
    deadline = joined->first;
  ++deadlines_[deadline];
  Id id = next_id_++;
  auto entry = std::make_unique<Entry>(Entry{boost::asio::steady_timer(io_), std::move(fire), deadline});
  entry->timer.expires_at(deadline);
  // The map entry, not the handler, owns `fire`: cancel() erases it, so a
  // completion that was already queued finds nothing to call.
  entry->timer.async_wait(lifetime_.bind([this, id](boost::system::error_code ec) {
    if (!ec) on_expiry(id);
  }));
  timers_.emplace(id, std::move(entry));
  return id;
}

void AsioTimers::erase(std::map<Id, std::unique_ptr<Entry>>::iterator it) {
  auto d = deadlines_.find(it->second->deadline);
  if (d != deadlines_.end() && --d->second == 0) deadlines_.erase(d);
  timers_.erase(it);
}

void AsioTimers::cancel(Id id) {
  if (auto it = timers_.find(id); it != timers_.end()) erase(it);
}

void AsioTimers::on_expiry(Id id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  std::function<void()> fire = std::move(it->second->fire);
  erase(it);
  fire();
}

}  // namespace autopilot::os
