#include "os/watch_registry.h"

#include <vector>

namespace autopilot::os {

class WatchRegistry::Handle : public Files::Watch {
 public:
  Handle(WatchRegistry& registry, std::uint64_t id) : registry_(registry), id_(id) {}
  ~Handle() override { registry_.remove(id_); }

 private:
  WatchRegistry& registry_;
  std::uint64_t id_;
};

std::unique_ptr<Files::Watch> WatchRegistry::add(std::string key, std::string dir, Files::OnChange on_change) {
  std::uint64_t id = next_id_++;
  watches_.emplace(id, Entry{std::move(key), std::move(dir), std::move(on_change)});
  return std::make_unique<Handle>(*this, id);
}

void WatchRegistry::notify(const std::string& key) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, entry] : watches_) {
    if (entry.key == key) ids.push_back(id);
  }
  for (auto id : ids) {
    auto it = watches_.find(id);
    if (it == watches_.end()) continue;  // ended by an earlier callback
    // Copies: the callback may end its own watch.
    Files::OnChange on_change = it->second.on_change;
    std::string dir = it->second.dir;
    on_change(dir);
  }
}

void WatchRegistry::remove(std::uint64_t id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  std::string key = std::move(it->second.key);
  watches_.erase(it);
  for (const auto& [other, entry] : watches_) {
    if (entry.key == key) return;  // still watched
  }
  if (on_unwatched_) on_unwatched_(key);
}

}  // namespace autopilot::os
