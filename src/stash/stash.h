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
// checks, without a token. Nothing here knows HTTP framing (stash_server.h)
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
#include "net/resolver.h"
#include "stash/file_store.h"
#include "stash/proxy_client.h"
#include "stash/stash_config.h"
#include "stash/stash_server.h"

namespace autopilot::stash {

inline constexpr const char* kHealthPath = "/_stash/health";

class Stash {
 public:
  // `catalog` may be null when no mount is a kv one. The error names a
  // basePath that cannot be opened.
  static Result<std::unique_ptr<Stash>> make(const StashConfig& config, boost::asio::io_context& loop,
                                             discovery::Catalog* catalog, log::Log& log);
  ~Stash();

  // The StashServer handler.
  void handle(const StashRequest& request, StashServer::Reply reply);

 private:
  struct Mount;
  Stash(boost::asio::io_context& loop, discovery::Catalog* catalog, log::Log& log);
  void serve(const Mount& mount, const std::vector<std::string>& rest, bool trailing_slash,
             const StashRequest& request, StashServer::Reply reply);

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
