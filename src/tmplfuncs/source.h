// Source: what a catalog template reads while it renders, and the record of
// what it read. Template functions (tmplfuncs/functions.h) ask the Source; the
// render area implements it with a CatalogCache (render/catalog_cache.h) that
// catalog watches keep current, and its Renderer re-renders when anything read
// changes.
//
// consul-template's multi-pass rule: data not loaded yet reads as empty and
// marks the pass incomplete (the Source remembers the miss); the Renderer
// writes the file only after a complete pass, so a half-loaded template never
// reaches the disk.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "base/result.h"
#include "discovery/catalog.h"
#include "tmpl/value.h"

namespace autopilot::tmplfuncs {

// One `service` query: `service "[TAG.]NAME[@DC][|FILTER]"` (a second
// argument is joined with `|`, as in `service "web" "any"`).
struct ServiceQuery {
  std::string name;
  std::string tag;  // "" = any
  // Wanted statuses. Empty (no filter) = healthy only: passing and warning,
  // which is what the catalog's healthy list holds (consul-template: the
  // server's "passing" list). `any` = every status.
  std::set<discovery::Status> statuses;

  bool healthy_only() const { return statuses.empty(); }
  bool operator<(const ServiceQuery& o) const {
    return std::tie(name, tag, statuses) < std::tie(o.name, o.tag, o.statuses);
  }
  bool operator==(const ServiceQuery&) const = default;
};

// Parses the query text (and the optional second argument). Errors are for
// people: `service "x|bogus": invalid filter "bogus" (any, passing, warning,
// critical, maintenance)`. `@DC` is refused (a catalog here has one
// datacenter), as are `?QUERY` and `~NEAR`.
Result<ServiceQuery> parse_service_query(const std::string& text, const std::string& second = "");

class Source {
 public:
  virtual ~Source() = default;
  // The instances matching `q`, sorted by (node, id) as consul-template does,
  // as a list of instance records (tmplfuncs/records.h: instance_list); nullopt
  // when not loaded yet. The list is immutable: a Source may hand out the same
  // one until its data changes (the Renderer's cache builds it once per
  // catalog delivery).
  virtual std::optional<tmpl::Value> service(const ServiceQuery& q) = 0;
  // Names of the services with live instances, sorted; null when not loaded.
  virtual const std::vector<discovery::ServiceSummary>* services() = 0;
  // KV entries under `prefix` (full keys, sorted); null when not loaded.
  // key/keyOrDefault read the prefix equal to the key and pick the exact one.
  virtual const std::vector<discovery::KvEntry>* kv(const std::string& prefix) = 0;
  // The process environment (the config's env), nullopt when unset.
  virtual std::optional<std::string> env(const std::string& name) = 0;
  // A file's contents (the `file` function); errors name the path.
  virtual Result<std::string> file(const std::string& path) = 0;
};

}  // namespace autopilot::tmplfuncs
