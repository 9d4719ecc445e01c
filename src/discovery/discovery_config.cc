#include "discovery/discovery_config.h"

#include "decode/decoder.h"
#include "discovery/embedded/embedded_catalog.h"

namespace autopilot::discovery {

std::string DiscoveryConfig::describe() const { return "embedded catalog at " + embedded_dir; }

Result<DiscoveryConfig> decode_discovery(const decode::Decoder& d, const decode::Node& n) {
  static const std::vector<std::string> kKeys{"embedded"};
  static const std::vector<std::string> kEmbeddedKeys{"dir"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  DiscoveryConfig c;
  if (auto embedded = d.field(n, "embedded")) {
    if (auto r = d.require_object(*embedded); !r) return r.error();
    if (auto r = d.only_keys(*embedded, kEmbeddedKeys); !r) return r.error();
    if (auto dir = d.field(*embedded, "dir")) {
      auto s = d.string(*dir);
      if (!s) return s.error();
      if (s->empty() || (*s)[0] != '/') return d.error(*dir, "must be an absolute directory path");
      c.embedded_dir = *s;
    }
  }
  return c;
}

Result<std::unique_ptr<Catalog>> open_catalog(const DiscoveryConfig& config, boost::asio::io_context& io,
                                              os::Timers& timers, log::Log& log) {
  embedded::EmbeddedOptions options;
  options.dir = config.embedded_dir;
  auto catalog = embedded::EmbeddedCatalog::open(options, io, timers, log);
  if (!catalog) return catalog.error();
  return std::unique_ptr<Catalog>(std::move(*catalog));
}

}  // namespace autopilot::discovery
