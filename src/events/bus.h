// Bus: delivers every published event to every subscriber, in publish order,
// on the event loop.
//
// Unlike ContainerPilot's bus (defect D6: synchronous delivery into bounded
// channels, so one stuck subscriber stalls every publisher), publish() never
// blocks and never runs a subscriber inline: it appends to a queue that the
// loop drains. Subscribers are loop code and must not block either; a job
// "stuck" on a hung process is just a state, not a blocked thread.
//
// The queue is bounded by coalescing: an event identical to one still waiting
// for delivery is counted and dropped, so the queue can never hold more than
// one entry per distinct (code, source). Subscribers see the same order.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "events/event.h"

namespace autopilot::events {

class Bus {
 public:
  using Handler = std::function<void(const Event&)>;
  using SubscriptionId = std::uint64_t;
  // Schedules a drain on the loop (e.g. asio::post); called at most once per
  // burst of publishes.
  using Scheduler = std::function<void(std::function<void()>)>;

  explicit Bus(Scheduler schedule) : schedule_(std::move(schedule)) {}

  SubscriptionId subscribe(Handler handler);
  // Safe to call from inside a handler; the subscriber gets no further events.
  void unsubscribe(SubscriptionId id);

  // Queues `event` for delivery and returns at once.
  void publish(Event event);

  size_t pending() const { return queue_.size(); }
  std::uint64_t published() const { return published_; }
  std::uint64_t coalesced() const { return coalesced_; }
  // Optional observer of every delivered event (metrics, debug log).
  void on_deliver(Handler observer) { observer_ = std::move(observer); }

 private:
  void drain();

  Scheduler schedule_;
  std::map<SubscriptionId, Handler> handlers_;
  SubscriptionId next_id_ = 1;
  std::deque<Event> queue_;
  std::set<std::pair<Code, Source>> queued_;  // what queue_ holds, for coalescing
  bool drain_scheduled_ = false;
  std::uint64_t published_ = 0;
  std::uint64_t coalesced_ = 0;
  Handler observer_;
};

}  // namespace autopilot::events
