#include "watches/watch_config.h"

#include <map>

#include "decode/decoder.h"
#include "discovery/catalog.h"

namespace autopilot::watches {

using decode::Decoder;
using decode::Node;

namespace {

Result<WatchConfig> decode_watch(const Decoder& d, const Node& n) {
  static const std::vector<std::string> kKeys{"name", "interval", "tag", "dc"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  WatchConfig w;
  auto name = d.field(n, "name");
  if (!name) return d.error(n, "needs a 'name': the service to watch");
  auto s = d.string(*name);
  if (!s) return s.error();
  if (auto r = discovery::validate_service_name(*s); !r) return d.error(*name, r.error().message);
  w.name = *s;
  auto interval = d.field(n, "interval");
  if (!interval) return d.error(n, "needs an 'interval' (seconds between safety re-checks, e.g. 5)");
  auto i = d.duration(*interval, true);
  if (!i) return i.error();
  if (i->count() <= 0) return d.error(*interval, "must be > 0");
  if (*i < std::chrono::milliseconds(1)) return d.error(*interval, "cannot be less than 1ms");
  w.interval = *i;
  if (auto tag = d.field(n, "tag")) {
    auto t = d.string(*tag);
    if (!t) return t.error();
    w.tag = *t;
  }
  if (auto dc = d.field(n, "dc")) {
    auto t = d.string(*dc);
    if (!t) return t.error();
    if (!t->empty()) return d.error(*dc, "datacenters are not supported: a catalog here has exactly one");
  }
  return w;
}

}  // namespace

Result<std::vector<WatchConfig>> decode_watches(const Decoder& d, const Node& n) {
  if (auto r = d.require_array(n); !r) return r.error();
  std::vector<WatchConfig> out;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < n->size(); ++i) {
    Node e = d.element(n, i);
    auto w = decode_watch(d, e);
    if (!w) return w.error();
    if (auto [it, inserted] = seen.emplace(w->name, i); !inserted)
      return d.error(*d.field(e, "name"), "duplicate watch of \"" + w->name + "\" (also watches[" +
                                              std::to_string(it->second) + "]); events of both would come from watch." +
                                              w->name);
    out.push_back(std::move(*w));
  }
  return out;
}

}  // namespace autopilot::watches
