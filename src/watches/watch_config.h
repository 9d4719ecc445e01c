// WatchConfig: one entry of the config's `watches` list (ContainerPilot v3):
//
//   "watches": [{"name": "app", "interval": 5, "tag": "blue"}]
//
// `name` is the service to watch (events come from `watch.<name>`),
// `interval` the safety re-check in seconds (or a Go duration), `tag` an
// optional tag filter. `dc` is refused: every catalog here has one
// datacenter. Names must be unique.
#pragma once

#include <string>
#include <vector>

#include "base/duration.h"
#include "events/source.h"
#include "base/result.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::watches {

struct WatchConfig {
  std::string name;
  std::string tag;
  Duration interval{0};

  events::Source source() const { return events::Source::watch(name); }
  bool operator==(const WatchConfig&) const = default;
};

Result<std::vector<WatchConfig>> decode_watches(const decode::Decoder& d, const decode::Node& n);

}  // namespace autopilot::watches
