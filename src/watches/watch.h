// Watch: follows the healthy instances of one service in the catalog and
// publishes, from `watch.<name>`:
//   changed    the set changed (an id, address or port; tags and meta are
//              not changes, as in ContainerPilot);
//   healthy    after `changed`, when the set was empty and is not;
//   unhealthy  after `changed`, when the last healthy instance went away.
// The first look at the catalog publishes changed + healthy when it finds
// instances, and nothing when it finds none (as ContainerPilot).
//
// Event-driven (ContainerPilot polls, defect D10): the catalog's watch
// delivers a change within milliseconds; `interval` is only a safety
// re-check. Bursts are coalesced: the first change is published at once,
// later ones at most once per coalescing window (default 50 ms) with the set
// as it is then, so a 50-instance scale-out runs a hook a few times, not 50.
// A watch that fails (catalog unreachable) keeps its last set, says so once,
// and resumes from the last index it saw, so no change is missed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/lifetime.h"
#include "discovery/catalog.h"
#include "events/bus.h"
#include "log/log.h"
#include "os/timers.h"
#include "watches/watch_config.h"
#include "wiring/wiring.h"

namespace autopilot::watches {

// The watches area's own settings; the shared dependencies (a catalog is
// required) come from the Wiring.
struct WatchOptions {
  Duration coalesce{std::chrono::milliseconds(50)};
  Duration retry{std::chrono::seconds(1)};
};

class Watch {
 public:
  Watch(WatchConfig config, const Wiring& wiring, WatchOptions options = {});
  ~Watch();
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  void start();
  void stop();

  const WatchConfig& config() const { return config_; }
  // The set last published (sorted by id).
  const std::vector<discovery::Instance>& instances() const { return published_; }
  std::uint64_t publications() const { return publications_; }

 private:
  void subscribe();
  void schedule_recheck();
  void apply(std::vector<discovery::Instance> instances);
  void publish_now();
  std::vector<discovery::Instance> filter(std::vector<discovery::Instance> instances) const;

  WatchConfig config_;
  Wiring wiring_;
  WatchOptions options_;
  discovery::WatchHandle handle_;
  discovery::Index index_ = 0;
  bool synced_ = false;
  bool failing_ = false;
  std::vector<discovery::Instance> current_;
  std::vector<discovery::Instance> published_;
  os::Clock::time_point last_publish_{};
  std::uint64_t publications_ = 0;
  os::Timer coalesce_timer_{wiring_.timers}, recheck_timer_{wiring_.timers}, retry_timer_{wiring_.timers};
  Lifetime lifetime_;  // last: ends the catalog callbacks
};

// The watches of one config; reload keeps the unchanged ones running.
class Watches {
 public:
  explicit Watches(const Wiring& wiring, WatchOptions options = {}) : wiring_(wiring), options_(options) {}
  void start(std::vector<WatchConfig> configs);
  void reload(std::vector<WatchConfig> configs);
  void stop();
  const Watch* find(const std::string& name) const;

 private:
  Wiring wiring_;
  WatchOptions options_;
  std::vector<std::unique_ptr<Watch>> watches_;
};

}  // namespace autopilot::watches
