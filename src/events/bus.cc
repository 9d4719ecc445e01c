#include "events/bus.h"

#include <vector>

namespace autopilot::events {

Bus::SubscriptionId Bus::subscribe(Handler handler) {
  SubscriptionId id = next_id_++;
  handlers_.emplace(id, std::move(handler));
  return id;
}

void Bus::unsubscribe(SubscriptionId id) { handlers_.erase(id); }

void Bus::publish(Event event) {
  ++published_;
  if (!queued_.emplace(event.code, event.source).second) {
    ++coalesced_;
    return;
  }
  queue_.push_back(std::move(event));
  if (!drain_scheduled_) {
    drain_scheduled_ = true;
    schedule_([this] { drain(); });
  }
}

void Bus::drain() {
  drain_scheduled_ = false;
  // Deliver only what is queued now; events published by handlers go to the
  // next drain, so one chatty subscriber cannot starve the rest of the loop.
  size_t n = queue_.size();
  for (size_t i = 0; i < n && !queue_.empty(); ++i) {
    Event event = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase({event.code, event.source});
    if (observer_) observer_(event);
    // Copy the ids: handlers may subscribe or unsubscribe while we deliver.
    std::vector<SubscriptionId> ids;
    ids.reserve(handlers_.size());
    for (const auto& [id, h] : handlers_) ids.push_back(id);
    for (SubscriptionId id : ids) {
      auto it = handlers_.find(id);
      if (it != handlers_.end()) it->second(event);
    }
  }
  if (!queue_.empty() && !drain_scheduled_) {
    drain_scheduled_ = true;
    schedule_([this] { drain(); });
  }
}

}  // namespace autopilot::events
