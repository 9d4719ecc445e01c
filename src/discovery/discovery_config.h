// DiscoveryConfig: the config's `discovery` key, which says which catalog
// this autopilot uses, and open_catalog(), which opens it.
//
//   "discovery": {"embedded": {"dir": "/run/autopilot/catalog"}}
//
//   "discovery": {"etcd": {
//     "endpoints": ["http://etcd-1:2379", "http://etcd-2:2379"],  // or "a,b"
//     "prefix": "/autopilot/", "timeout": "1s",
//     "username": "...", "password": "...",
//     "tls": {"ca_file": "...", "cert_file": "...", "key_file": "...",
//             "ca": "<base64 PEM>", "cert": "<base64 PEM>", "key": "<base64 PEM>"}}}
//
// The embedded catalog is the default when `discovery` is absent. TLS files
// are read (and base64 decoded) when the config is loaded, so a missing file
// is a config error with its position. ContainerPilot's top-level `consul`
// key is accepted for compatibility and ignored with a warning.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/result.h"
#include "discovery/catalog.h"
#include "log/log.h"
#include "os/files.h"
#include "os/timers.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::discovery {

inline constexpr const char* kDefaultEmbeddedDir = "/run/autopilot/catalog";

struct EtcdConfig {
  std::vector<std::string> endpoints;  // as written; checked at decode
  std::string prefix = "/autopilot/";
  Duration timeout = std::chrono::seconds(1);
  std::string username;
  std::string password;  // never logged
  std::string ca_pem, cert_pem, key_pem;

  bool operator==(const EtcdConfig&) const = default;
};

struct DiscoveryConfig {
  std::string embedded_dir = kDefaultEmbeddedDir;
  std::optional<EtcdConfig> etcd;  // set: etcd instead of the embedded catalog

  bool operator==(const DiscoveryConfig&) const = default;
  // For logs: "embedded catalog at /run/autopilot/catalog",
  // "etcd at http://a:2379,http://b:2379 (prefix /autopilot/)".
  std::string describe() const;
};

Result<DiscoveryConfig> decode_discovery(const decode::Decoder& d, const decode::Node& n);

// Opens the configured catalog on `io`; the embedded one keeps its records
// through `files`.
Result<std::unique_ptr<Catalog>> open_catalog(const DiscoveryConfig& config, boost::asio::io_context& io,
                                              os::Timers& timers, os::Files& files, log::Log& log);

}  // namespace autopilot::discovery
