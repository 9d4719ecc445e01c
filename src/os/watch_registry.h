// WatchRegistry: the directory watches a Files implementation hands out
// (os/files.h: Files::watch), shared by LinuxFiles and FakeFiles: the
// handles, and a delivery that survives callbacks ending watches.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "os/files.h"

namespace autopilot::os {

class WatchRegistry {
 public:
  // `on_unwatched(key)` runs when the last watch of `key` ends.
  explicit WatchRegistry(std::function<void(const std::string& key)> on_unwatched = nullptr)
      : on_unwatched_(std::move(on_unwatched)) {}
  WatchRegistry(const WatchRegistry&) = delete;
  WatchRegistry& operator=(const WatchRegistry&) = delete;

  // A watch of the directory `key` (as the implementation spells it),
  // reported to `on_change` as `dir` (as the caller spelled it). The handle
  // must not outlive the registry.
  std::unique_ptr<Files::Watch> add(std::string key, std::string dir, Files::OnChange on_change);
  // Calls every watch of `key` there was when the call began, unless an
  // earlier callback ended it.
  void notify(const std::string& key);
  size_t size() const { return watches_.size(); }

 private:
  class Handle;
  struct Entry {
    std::string key;
    std::string dir;
    Files::OnChange on_change;
  };
  void remove(std::uint64_t id);

  std::function<void(const std::string&)> on_unwatched_;
  std::map<std::uint64_t, Entry> watches_;  // by id, in creation order
  std::uint64_t next_id_ = 1;
};

}  // namespace autopilot::os
