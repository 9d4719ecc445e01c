// DiscoveryConfig: the config's `discovery` key, which says which catalog
// this autopilot uses, and open_catalog(), which opens it.
//
//   "discovery": {"embedded": {"dir": "/run/autopilot/catalog"}}
//
// The embedded catalog is the default when `discovery` is absent. (The etcd
// backend adds `"discovery": {"etcd": {...}}`.) ContainerPilot's top-level
// `consul` key is accepted for compatibility and ignored with a warning.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "base/result.h"
#include "discovery/catalog.h"
#include "log/log.h"
#include "os/timers.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::discovery {

inline constexpr const char* kDefaultEmbeddedDir = "/run/autopilot/catalog";

struct DiscoveryConfig {
  std::string embedded_dir = kDefaultEmbeddedDir;

  bool operator==(const DiscoveryConfig&) const = default;
  // For logs: "embedded catalog at /run/autopilot/catalog".
  std::string describe() const;
};

Result<DiscoveryConfig> decode_discovery(const decode::Decoder& d, const decode::Node& n);

// Opens the configured catalog on `io`.
Result<std::unique_ptr<Catalog>> open_catalog(const DiscoveryConfig& config, boost::asio::io_context& io,
                                              os::Timers& timers, log::Log& log);

}  // namespace autopilot::discovery
