// MemoryStore: the data behind MemoryCatalog (memory_catalog.h), held in
// memory and shared by every MemoryCatalog opened on it, as the clients of one
// catalog server (or the containers sharing one embedded catalog) share it.
//
// Operations are synchronous and validate nothing (MemoryCatalog does). Each
// change takes the next catalog revision, with the embedded store's rules
// (embedded/store.h):
// - a service's index is the revision of the last change to its set:
//   register (also of an identical record), status change, deregister,
//   expiry; registering an id under another name changes both services.
//   Heartbeats are not changes.
// - the KV index is the revision of the last put or delete.
// Expiry runs on the store's Timers: records whose TTL has run out are
// removed (a change) by a timer at the earliest expiry, and by every
// operation before it looks, so what a reader sees never depends on when
// the timer fired.
//
// Listeners (the MemoryCatalogs on this store) hear of each change
// synchronously, from inside the operation; they must only take note and
// defer their work to the loop.
//
// Destroy it (that is, drop the last MemoryCatalog and Lock using it) before
// its Timers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "discovery/catalog.h"
#include "os/timers.h"

namespace autopilot::discovery {

class MemoryStore {
 public:
  class Listener {
   public:
    virtual void on_service_changed(const std::string& service) = 0;
    virtual void on_kv_changed() = 0;
    virtual void on_lock_freed() = 0;
    virtual void on_availability_changed() = 0;

   protected:
    ~Listener() = default;
  };

  struct ServiceView {
    Index index = 0;
    std::vector<Instance> live;  // sorted by id
  };
  struct KvView {
    Index index = 0;
    std::vector<KvEntry> entries;  // sorted by key
  };

  explicit MemoryStore(os::Timers& timers);
  ~MemoryStore();
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  os::Timers& timers() const { return timers_; }
  void attach(Listener* listener) { listeners_.insert(listener); }
  void detach(Listener* listener) { listeners_.erase(listener); }

  // A store that is not available is a catalog server that went down: its
  // data stays (and records keep expiring), but MemoryCatalog fails every
  // call and every watch until it is available again.
  void set_available(bool available);
  bool is_available() const { return available_; }

  // --- instances (ttl > 0) ---------------------------------------------------------
  void register_instance(const Instance& instance, Duration ttl);
  // Both false when `id` is not live.
  bool heartbeat(const std::string& id);
  bool set_status(const std::string& id, Status status);
  void deregister(const std::string& id);
  ServiceView read_service(const std::string& service);
  // Every live instance of every service.
  std::vector<Instance> all_live();

  // --- KV ----------------------------------------------------------------------------
  std::optional<KvEntry> get(const std::string& key) const;
  Index put(const std::string& key, const std::string& value);
  void del(const std::string& key);
  KvView list_kv(const std::string& prefix) const;
  // nullopt when the key's mod_index (0: absent) is not `expected`.
  std::optional<Index> compare_and_set(const std::string& key, Index expected, const std::string& value);

  // --- locks ---------------------------------------------------------------------------
  // A lock is held by one token (one Lock object); a token belongs to an
  // owner (one MemoryCatalog) so that all its locks go when the owner dies.
  std::uint64_t new_token() { return ++last_token_; }
  bool try_lock(const std::string& name, std::uint64_t token, std::uint64_t owner);
  bool is_held_by(const std::string& name, std::uint64_t token) const;
  // No-op unless `token` holds `name`.
  void unlock(const std::string& name, std::uint64_t token);
  void unlock_all(std::uint64_t owner);

 private:
  struct Record {
    Instance instance;
    Duration ttl;
    os::Clock::time_point expires;
  };
  struct Holder {
    std::uint64_t token;
    std::uint64_t owner;
  };

  void change_service(const std::string& service);
  void change_kv();
  void expire_due();
  void arm_expiry(os::Clock::time_point deadline);
  // The live record of `id`, or records_.end().
  std::map<std::string, Record>::iterator find_live(const std::string& id);
  void notify_locks_freed();

  os::Timers& timers_;
  std::set<Listener*> listeners_;
  bool available_ = true;
  Index revision_ = 0;
  std::map<std::string, Record> records_;  // by id
  std::map<std::string, Index> service_index_;
  std::map<std::string, KvEntry> kv_;
  Index kv_index_ = 0;
  std::map<std::string, Holder> locks_;  // by name
  std::uint64_t last_token_ = 0;
  os::Timers::Id expiry_timer_ = 0;
  os::Clock::time_point expiry_deadline_{};
};

}  // namespace autopilot::discovery
