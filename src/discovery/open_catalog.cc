// open_catalog(), apart from the decoding in discovery_config.cc, so that
// reading a config does not link the catalogs (fuzz/config_fuzz.cc).
#include <fmt/format.h>

#include "discovery/discovery_config.h"
#include "discovery/embedded/embedded_catalog.h"
#include "discovery/etcd/etcd_catalog.h"

namespace autopilot::discovery {

Result<std::unique_ptr<Catalog>> open_catalog(const DiscoveryConfig& config, boost::asio::io_context& io,
                                              os::Timers& timers, os::Files& files, log::Log& log) {
  if (config.etcd) {
    etcd::EtcdOptions options;
    for (const auto& text : config.etcd->endpoints) {
      auto endpoint = etcd::parse_endpoint(text);
      if (!endpoint) return endpoint.error();
      options.client.endpoints.push_back(*endpoint);
    }
    options.client.request_timeout = config.etcd->timeout;
    options.client.username = config.etcd->username;
    options.client.password = config.etcd->password;
    options.client.ca_pem = config.etcd->ca_pem;
    options.client.cert_pem = config.etcd->cert_pem;
    options.client.key_pem = config.etcd->key_pem;
    options.prefix = config.etcd->prefix;
    // etcd's authentication sends the password, then a token with every
    // request: over http:// anyone on the path reads both.
    if (!options.client.username.empty()) {
      for (const auto& endpoint : options.client.endpoints) {
        if (endpoint.tls) continue;
        log.warn(fmt::format("etcd: the username and password go to {} unencrypted (http://); use https://",
                             endpoint.url()));
      }
    }
    auto catalog = etcd::EtcdCatalog::open(std::move(options), io, timers, log);
    if (!catalog) return catalog.error();
    return std::unique_ptr<Catalog>(std::move(*catalog));
  }
  embedded::EmbeddedOptions options;
  options.dir = config.embedded_dir;
  auto catalog = embedded::EmbeddedCatalog::open(options, io, timers, files, log);
  if (!catalog) return catalog.error();
  return std::unique_ptr<Catalog>(std::move(*catalog));
}

}  // namespace autopilot::discovery
