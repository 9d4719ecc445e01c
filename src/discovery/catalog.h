// Catalog: the one seam between autopilot and a service catalog. Everything
// that registers, heartbeats, lists or watches instances, or uses the small
// KV store and locks, goes through this interface and nothing talks past it.
// Backends: embedded/ (a directory shared by the autopilots of one host) and,
// later, etcd/ (many hosts). The shape follows what a distributed store
// offers: instances bound to a TTL (a lease), a catalog-wide monotonically
// increasing revision ("index"), watches resumable from an index, KV entries
// with create/mod revisions and compare-and-set, and locks that die with
// their holder. This area knows nothing of jobs, health checks or config.
//
// Threading and completion rules (every backend):
// - Call a Catalog from its event loop's thread only.
// - Every operation is asynchronous: it returns at once and its callback runs
//   later on the loop, exactly once, never inline from the call (an etcd
//   backend cannot answer synchronously, so no caller may rely on it).
//   Callbacks never run after the Catalog is destroyed.
// - Every result is a Result<T>. Argument errors (invalid name, key or TTL)
//   also arrive through the callback, never as a return value or exception.
// - Records written by other processes are untrusted: backends validate them
//   and skip (with one warning) anything malformed or invalid.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"  // Duration
#include "base/result.h"

namespace autopilot::discovery {

// A catalog revision. 0 means "nothing seen yet"; every change (register,
// status change, deregister, expiry, put, delete) gets a larger index than
// every change before it. Heartbeats are not changes (as an etcd lease
// keep-alive is not).
using Index = std::uint64_t;

enum class Status { kPassing, kWarning, kCritical, kMaintenance };

// "passing", "warning", "critical", "maintenance" (Consul's words).
std::string_view status_name(Status status);
Result<Status> parse_status(std::string_view text);
// Healthy instances are the ones traffic may go to: passing or warning.
inline bool is_healthy(Status status) { return status == Status::kPassing || status == Status::kWarning; }

struct Instance {
  std::string id;       // unique in the whole catalog
  std::string name;     // the service name
  std::string address;  // an IP address or a host name (validate_instance); not resolved
  int port = 0;         // 0..65535
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  Status status = Status::kPassing;
  std::string node;  // the host or container that registered it (informative)

  bool operator==(const Instance&) const = default;
};

// A service as consul-template's `services` shows it: its name and the tags
// of all its live instances, each once, sorted.
struct ServiceSummary {
  std::string name;
  std::vector<std::string> tags;

  bool operator==(const ServiceSummary&) const = default;
};
// The summaries of the services these instances belong to, sorted by name.
std::vector<ServiceSummary> summarize(const std::vector<Instance>& instances);

struct KvEntry {
  std::string key;
  std::string value;
  Index create_index = 0;  // the revision that created the key
  Index mod_index = 0;     // the revision of the last put

  bool operator==(const KvEntry&) const = default;
};

// What a service watch delivers: the whole current set (sorted by id), and
// the index it reflects. Resuming a watch from `index` misses no change.
struct WatchUpdate {
  Index index = 0;
  std::vector<Instance> instances;
};

// What a prefix watch delivers: every entry under the prefix, sorted by key.
struct KvUpdate {
  Index index = 0;
  std::vector<KvEntry> entries;
};

template <class T>
using Callback = std::function<void(Result<T>)>;

// Cancels something ongoing (a watch, a wait for a lock) when cancel() is
// called or the handle is destroyed. After cancel() returns, the callback
// never runs again, even if a delivery was already queued. Movable, not
// copyable; a default-constructed handle cancels nothing. Must not outlive
// the Catalog that made it.
class Handle {
 public:
  Handle() = default;
  explicit Handle(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Handle(Handle&& other) noexcept : cancel_(std::move(other.cancel_)) { other.cancel_ = nullptr; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { cancel(); }

  void cancel();
  bool is_active() const { return static_cast<bool>(cancel_); }

 private:
  std::function<void()> cancel_;
};
using WatchHandle = Handle;

// A held lock. It is released by release() or by destroying the handle, and
// also, whatever the process does, when the holder dies (process exit or
// kill; for etcd, when its lease expires). Must not outlive its Catalog.
class Lock {
 public:
  virtual ~Lock() = default;
  virtual const std::string& name() const = 0;
  // Idempotent; returns at once. The embedded catalog frees the lock before
  // returning; a backend with a server (etcd) as soon as the server has
  // applied the release (milliseconds): another process may take it then.
  virtual void release() = 0;
  virtual bool is_held() const = 0;
  // Called on the loop if the lock is lost while held (etcd: lease expired
  // during a partition). The embedded catalog never loses a lock.
  virtual void on_lost(std::function<void()> callback) = 0;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // --- instances -----------------------------------------------------------
  // Registers `instance` bound to `ttl` (> 0): unless heartbeat() pushes its
  // expiry forward, it vanishes `ttl` after this call. Registering an id that
  // exists replaces it (also when it was under another service name).
  virtual void register_instance(Instance instance, Duration ttl, Callback<void> done) = 0;
  // Pushes the expiry of `id` to now + its ttl. Fails with ErrorKind::kNotFound
  // when the record expired or vanished, so the caller knows to register
  // again (ContainerPilot defect D3).
  virtual void heartbeat(const std::string& id, Callback<void> done) = 0;
  // Changes the status (a change; extends nothing). Unknown id: as heartbeat.
  virtual void set_status(const std::string& id, Status status, Callback<void> done) = 0;
  // Removes `id`. Removing an id that is not there is not an error.
  virtual void deregister(const std::string& id, Callback<void> done) = 0;
  // The live instances of `service`, sorted by id; only healthy ones when
  // healthy_only. An unknown service is an empty list, not an error.
  virtual void list(const std::string& service, bool healthy_only, Callback<std::vector<Instance>> done) = 0;
  // The services with at least one live instance (any status), sorted by
  // name, each with the tags of its live instances.
  virtual void services(Callback<std::vector<ServiceSummary>> done) = 0;

  // --- watches -------------------------------------------------------------
  // Calls `on_update` on the loop whenever the set of live instances of
  // `service` (healthy ones only, when healthy_only) changes, with the whole
  // new set. With from_index 0 the current set is delivered first. With the
  // index of an update already seen, the next update comes as soon as the
  // service changed after it (possibly with an unchanged set after a resume:
  // delivery is at least once, never lost). Bursts are coalesced: at most one
  // update per watch per loop turn. Errors (e.g. an invalid name) arrive as a
  // failed Result, after which the watch is dead.
  virtual WatchHandle watch_service(const std::string& service, bool healthy_only, Index from_index,
                                    std::function<void(Result<WatchUpdate>)> on_update) = 0;
  // The same for the KV entries whose key starts with `prefix` ("" = all).
  virtual WatchHandle watch_prefix(const std::string& prefix, Index from_index,
                                   std::function<void(Result<KvUpdate>)> on_update) = 0;

  // --- KV --------------------------------------------------------------------
  virtual void get(const std::string& key, Callback<std::optional<KvEntry>> done) = 0;
  // Creates or overwrites; yields the new mod_index.
  virtual void put(const std::string& key, const std::string& value, Callback<Index> done) = 0;
  // Deleting a missing key is not an error.
  virtual void del(const std::string& key, Callback<void> done) = 0;
  // Entries whose key starts with `prefix`, sorted by key.
  virtual void list_kv(const std::string& prefix, Callback<std::vector<KvEntry>> done) = 0;
  // Writes `value` only if the key's mod_index is `expected_mod_index`
  // (0: only if the key does not exist). Yields the new mod_index, or
  // nullopt when the comparison failed (not an error).
  virtual void compare_and_set(const std::string& key, Index expected_mod_index, const std::string& value,
                               Callback<std::optional<Index>> done) = 0;

  // --- locks (leader election) -----------------------------------------------
  // Takes lock `name` if free: yields the Lock, or nullptr when another holder
  // has it (not an error). `ttl` bounds how long a dead holder may keep it
  // (backends with leases); the embedded catalog frees it at once.
  virtual void try_lock(const std::string& name, Duration ttl, Callback<std::unique_ptr<Lock>> done) = 0;
  // Waits until lock `name` is ours, then yields it. Cancel the wait with the
  // returned handle (the callback then never runs).
  virtual Handle lock(const std::string& name, Duration ttl, Callback<std::unique_ptr<Lock>> done) = 0;
};

// --- validation (shared by every backend) -------------------------------------
// Service and lock names: a letter, then letters, digits and '-'; at most 63.
Result<void> validate_service_name(std::string_view name);
// Instance ids: letters, digits, '.', '_', ':', '-'; not starting with '.';
// at most 128.
Result<void> validate_instance_id(std::string_view id);
// Whole instances: name, id, port range, tags and meta (no control chars,
// bounded sizes).
Result<void> validate_instance(const Instance& instance);
// KV keys: 1..200 bytes, no NUL or other control chars, no leading '/', no
// ".." or "." path segment.
Result<void> validate_key(std::string_view key);

// The error heartbeat() and set_status() give for an id that is not live
// (ErrorKind::kNotFound).
Error unknown_instance_error(std::string_view id);

}  // namespace autopilot::discovery
