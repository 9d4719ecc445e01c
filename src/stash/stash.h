// Stash: what `autopilot stash` serves, StashBox's model (stashbox.md): a
// list of mounts, each a URL path prefix backed by a provider. The longest
// mount that covers a request's path answers it:
//   file   the rest of the path, opened beneath basePath (file_store.h);
//   env    the variable's content (decoded from base64 when asked), only at
//          the mount's exact path;
//   proxy  GET host + basePath + the rest of the path (proxy_client.h);
//   kv     the catalog key prefix + the rest of the path.
// Every answer has an ETag; a matching If-None-Match gets 304. A missing
// object, a refused path (request_path.h) and a directory are 404 or 400;
// a mount with a token wants `Authorization: Bearer <token>` (401 without,
// compared in constant time). GET /_stash/health answers 200 for health
// checks, without a token; any method other than GET and HEAD gets 405.
// Nothing here knows HTTP framing (net/http_server.h, with kServerLimits)
// or jobs; it never logs a secret (no bodies, no tokens).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/lifetime.h"
#include "discovery/catalog.h"
#include "log/log.h"
#include "net/http_server.h"
#include "net/resolver.h"
#include "stash/file_store.h"
#include "stash/proxy_client.h"
#include "stash/stash_config.h"

namespace autopilot::stash {

inline constexpr const char* kHealthPath = "/_stash/health";

// The server's bounds: small requests (a GET has no body), many clients,
// and a slow one cut off after 10 s.
inline constexpr net::HttpLimits kServerLimits{.header_bytes = 8 * 1024,
                                               .body_bytes = 1024,
                                               .connections = 1024,
                                               .read_timeout = std::chrono::milliseconds(10'000),
                                               .write_timeout = std::chrono::milliseconds(30'000),
                                               .handshake_timeout = std::chrono::milliseconds(10'000)};

class Stash {
 public:
  // `catalog` may be null when no mount is a kv one. The error names a
  // basePath that cannot be opened.
  static Result<std::unique_ptr<Stash>> make(const StashConfig& config, boost::asio::io_context& loop,
                                             discovery::Catalog* catalog, log::Log& log);
  ~Stash();

  // The server's handler (net::HttpServer::AsyncHandler).
  void handle(const net::HttpRequest& request, net::HttpServer::Reply reply);

 private:
  struct Mount;
  Stash(boost::asio::io_context& loop, discovery::Catalog* catalog, log::Log& log);
  void serve(const Mount& mount, const std::vector<std::string>& rest, bool trailing_slash,
             const net::HttpRequest& request, net::HttpServer::Reply reply);

  discovery::Catalog* catalog_;
  log::Log& log_;
  net::Resolver resolver_;
  ProxyClient proxy_;
  std::vector<Mount> mounts_;  // longest first
  Lifetime lifetime_;
};

// Whether an If-None-Match header value matches `etag` (weak comparison,
// "*" matches anything), as RFC 9110 13.1.2.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace autopilot::stash
