#include "watches/watch.h"

#include <algorithm>

#include <fmt/format.h>

namespace autopilot::watches {
namespace {

using discovery::Instance;
using events::Code;

// What makes two sets different for `changed`: ids, addresses and ports.
bool same_endpoints(const std::vector<Instance>& a, const std::vector<Instance>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Instance& x, const Instance& y) {
    return x.id == y.id && x.address == y.address && x.port == y.port;
  });
}

std::string describe(const std::vector<Instance>& set) {
  constexpr size_t kShown = 10;
  std::string out = fmt::format("{} healthy instance{}", set.size(), set.size() == 1 ? "" : "s");
  if (set.empty()) return out;
  out += " [";
  for (size_t i = 0; i < set.size() && i < kShown; ++i) {
    if (i) out += ' ';
    out += set[i].address + ":" + std::to_string(set[i].port);
  }
  if (set.size() > kShown) out += fmt::format(" ... {} more", set.size() - kShown);
  return out + "]";
}

}  // namespace

Watch::Watch(WatchConfig config, const Wiring& wiring, WatchOptions options)
    : config_(std::move(config)), wiring_(wiring), options_(options) {}

Watch::~Watch() { stop(); }

void Watch::start() {
  subscribe();
  schedule_recheck();
}

void Watch::stop() {
  handle_.cancel();
  for (auto* timer : {&coalesce_timer_, &recheck_timer_, &retry_timer_}) timer->cancel();
}

std::vector<Instance> Watch::filter(std::vector<Instance> instances) const {
  if (!config_.tag.empty()) {
    std::erase_if(instances, [&](const Instance& i) {
      return std::find(i.tags.begin(), i.tags.end(), config_.tag) == i.tags.end();
    });
  }
  std::sort(instances.begin(), instances.end(), [](const Instance& a, const Instance& b) { return a.id < b.id; });
  return instances;
}

void Watch::subscribe() {
  auto on_update = [this](Result<discovery::WatchUpdate> u) {
    if (!u) {
      if (!failing_) wiring_.log.warn(fmt::format("watch {}: {}; retrying", config_.name, u.error().message));
      failing_ = true;
      handle_ = {};
      retry_timer_.after(options_.retry, [this] { subscribe(); });
      return;
    }
    if (failing_) wiring_.log.info(fmt::format("watch {}: the catalog answers again", config_.name));
    failing_ = false;
    if (auto* m = wiring_.operator_metrics) m->watch_deliveries->with({config_.name}).inc();
    index_ = u->index;
    apply(filter(std::move(u->instances)));
  };
  handle_ = wiring_.catalog->watch_service(config_.name, true, index_, lifetime_.bind(std::move(on_update)));
}

void Watch::schedule_recheck() {
  recheck_timer_.after(config_.interval, [this] {
    schedule_recheck();
    wiring_.catalog->list(config_.name, true, lifetime_.bind([this](Result<std::vector<Instance>> list) {
      if (!list) return;  // the watch itself reports failures
      apply(filter(std::move(*list)));
    }));
  });
}

void Watch::apply(std::vector<Instance> instances) {
  current_ = std::move(instances);
  if (!synced_) {
    synced_ = true;
    if (current_.empty()) {
      wiring_.log.info(fmt::format("watch {}: no healthy instances yet", config_.name));
      return;
    }
    return publish_now();
  }
  if (coalesce_timer_.is_pending()) return;  // the pending publication takes the newest set
  if (same_endpoints(current_, published_)) return;
  auto now = wiring_.timers.now();
  auto next = last_publish_ + options_.coalesce;
  if (publications_ == 0 || now >= next) return publish_now();
  coalesce_timer_.after(next - now, [this] { publish_now(); });
}

void Watch::publish_now() {
  if (same_endpoints(current_, published_) && publications_ > 0) return;
  bool was_empty = published_.empty();
  published_ = current_;
  last_publish_ = wiring_.timers.now();
  ++publications_;
  wiring_.log.info(fmt::format("watch {}: changed: {}", config_.name, describe(published_)));
  const events::Source source = config_.source();
  wiring_.bus.publish({Code::kStatusChanged, source});
  if (was_empty && !published_.empty()) wiring_.bus.publish({Code::kStatusHealthy, source});
  if (!was_empty && published_.empty()) wiring_.bus.publish({Code::kStatusUnhealthy, source});
}

void Watches::start(std::vector<WatchConfig> configs) {
  for (auto& c : configs) {
    watches_.push_back(std::make_unique<Watch>(std::move(c), wiring_, options_));
    watches_.back()->start();
  }
}

void Watches::reload(std::vector<WatchConfig> configs) {
  std::vector<std::unique_ptr<Watch>> old = std::move(watches_);
  watches_.clear();
  for (auto& c : configs) {
    auto it = std::find_if(old.begin(), old.end(), [&](const auto& w) { return w && w->config() == c; });
    if (it != old.end()) {
      watches_.push_back(std::move(*it));
      continue;
    }
    wiring_.log.info(fmt::format("reload: starting watch {}", c.name));
    watches_.push_back(std::make_unique<Watch>(std::move(c), wiring_, options_));
    watches_.back()->start();
  }
  for (auto& w : old)
    if (w) wiring_.log.info(fmt::format("reload: watch {} removed", w->config().name));
}

void Watches::stop() {
  for (auto& w : watches_) w->stop();
}

const Watch* Watches::find(const std::string& name) const {
  for (const auto& w : watches_)
    if (w->config().name == name) return w.get();
  return nullptr;
}

}  // namespace autopilot::watches
