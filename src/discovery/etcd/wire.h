// The etcd catalog's key layout and the JSON shapes of the gateway's KV
// messages (base64 bytes, int64 as strings, zero values omitted: see
// ../shared/reference/etcd-v3-gateway.md §2). Pure functions; internal to
// discovery/etcd.
//
// Layout under the prefix (default "/autopilot/"):
//   services/NAME/ID  an instance (JSON, instance_json.h), bound to its lease
//   ids/ID            NAME, bound to the same lease: finds an id's record
//   kv/KEY            the KV store of templates (`key`, `ls`, `tree`)
//   locks/NAME        a held lock (holder's node), bound to the holder's lease
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "discovery/catalog.h"

namespace autopilot::discovery::etcd {

using Json = nlohmann::json;
using LeaseId = std::int64_t;

inline constexpr const char* kDefaultPrefix = "/autopilot/";

struct Layout {
  std::string prefix = kDefaultPrefix;  // ends with '/'

  std::string services_root() const { return prefix + "services/"; }
  std::string service_dir(std::string_view name) const { return services_root() + std::string(name) + "/"; }
  std::string instance_key(std::string_view name, std::string_view id) const {
    return service_dir(name) + std::string(id);
  }
  std::string id_key(std::string_view id) const { return prefix + "ids/" + std::string(id); }
  std::string kv_root() const { return prefix + "kv/"; }
  std::string kv_key(std::string_view key) const { return kv_root() + std::string(key); }
  std::string lock_key(std::string_view name) const { return prefix + "locks/" + std::string(name); }
};

// The range_end that makes [prefix, range_end) every key starting with
// `prefix` (the prefix with its last byte + 1; "\0" = to the end).
std::string prefix_end(std::string_view prefix);

// A key-value as the gateway reports it, decoded.
struct Kv {
  std::string key;
  std::string value;
  Index create_revision = 0;
  Index mod_revision = 0;
  LeaseId lease = 0;
};

// An int64 field given as a string or a number; absent = 0. Malformed = 0.
std::int64_t int_field(const Json& object, const char* name);
// header.revision of a reply.
Index revision_of(const Json& reply);
// A KeyValue message (as in range replies and watch events).
Result<Kv> kv_from_json(const Json& kv);
// Every `kvs` of a range reply (none = empty).
Result<std::vector<Kv>> kvs_of(const Json& range_reply);

// One `result` of a watch stream, read. Fields of the wrong type count as
// absent (a frame comes from the network: nothing here throws).
struct WatchFrame {
  struct Event {
    bool is_delete = false;  // `type` "DELETE"; anything else is a PUT
    Kv kv;
  };
  bool canceled = false;
  std::int64_t compact_revision = 0;
  std::string cancel_reason;
  std::vector<Event> events;      // in the frame's order; events without a kv are skipped
  std::vector<Error> malformed;   // events whose kv could not be read (skipped)
};
WatchFrame read_watch_frame(const Json& frame);

// Request bodies.
Json range_request(std::string_view key, std::string_view range_end = {}, bool keys_only = false);
Json put_op(std::string_view key, std::string_view value, LeaseId lease = 0);
Json delete_op(std::string_view key);
// A txn compare: the key's `target` ("CREATE", "MOD", "VERSION") `result`
// ("EQUAL", "GREATER") `value`. Targets: "CREATE", "MOD", "VERSION", "LEASE".
Json compare(std::string_view key, const char* target, const char* result, std::int64_t value);

}  // namespace autopilot::discovery::etcd
