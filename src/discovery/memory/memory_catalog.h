// MemoryCatalog: a Catalog held in memory and driven only by os::Timers, for
// the tests of what sits above discovery/ (watches, templates, services).
// With FakeTimers nothing waits on the wall clock: TTLs run out and watches
// deliver as the test advances time. It passes the conformance suite
// (catalog_conformance.h) on FakeTimers and on a real loop. Test support:
// library autopilot_discovery_testing, never linked into the binary.
//
// Contract, beyond catalog.h:
// - Every result and every watch delivery is posted with timers.after(0),
//   never run inline; with FakeTimers, advance(0) delivers them.
//   Destroying the catalog cancels what it had posted.
// - The data lives in a MemoryStore (memory_store.h). Catalogs opened on the
//   same store see one another's changes, as containers sharing a catalog
//   do; each has its own watches, lock waits and counts.
// - Expiry, indexes, watches (coalesced to one evaluation per turn, resumable
//   from an index, at least once) and KV follow the embedded catalog.
// - Locks exclude each other also within one catalog. A lock's holder "dies"
//   when the catalog that took it is destroyed: its locks are freed at once
//   (Lock objects left behind then read as not held), as a killed process
//   frees its flocks. Locks are never lost otherwise.
// - Unavailable (set_available(false), for the whole store): every call
//   fails with an error; every live watch gets one error and ends (as the
//   embedded catalog's do when its directory vanishes), and new ones fail
//   at once; its owner subscribes again from its last index and, once the
//   store is back, gets whatever changed meanwhile. Lock waits keep waiting.
//   Records keep expiring while nobody can heartbeat them.
// - Call it from the loop that runs its Timers. Handles and lock waits must
//   not outlive it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "discovery/catalog.h"
#include "discovery/memory/memory_store.h"
#include "os/timers.h"

namespace autopilot::discovery {

// What every call and watch of a MemoryCatalog gets while its store is down.
Error memory_unavailable_error();

class MemoryCatalog : public Catalog, private MemoryStore::Listener {
 public:
  // The calls count() counts, one per Catalog method.
  enum class Operation {
    kRegister,
    kHeartbeat,
    kSetStatus,
    kDeregister,
    kList,
    kServices,
    kWatchService,
    kWatchPrefix,
    kGet,
    kPut,
    kDel,
    kListKv,
    kCompareAndSet,
    kTryLock,
    kLock,
  };

  // A catalog on a fresh, empty store.
  explicit MemoryCatalog(os::Timers& timers);
  // Another catalog on `store` (another container); it uses the store's Timers.
  explicit MemoryCatalog(std::shared_ptr<MemoryStore> store);
  ~MemoryCatalog() override;
  MemoryCatalog(const MemoryCatalog&) = delete;
  MemoryCatalog& operator=(const MemoryCatalog&) = delete;

  const std::shared_ptr<MemoryStore>& store() const { return store_; }

  // --- test controls ---------------------------------------------------------------
  // Takes the whole store down or brings it back (see above).
  void set_available(bool available) { store_->set_available(available); }
  bool is_available() const { return store_->is_available(); }
  // Calls made on this catalog, valid or not, answered or failed.
  std::uint64_t count(Operation operation) const { return counts_[static_cast<size_t>(operation)]; }
  // Watches neither cancelled nor ended by an error.
  size_t active_watches() const;
  // While blind, this catalog's watches still deliver their first look but
  // miss every later change, as an embedded catalog without inotify or
  // rescans does; reads (list, get, ...) see everything. Seeing again, a
  // watch catches up at the next change of what it watches.
  void set_watches_blind(bool blind) { watches_blind_ = blind; }

  // --- Catalog -------------------------------------------------------------------------
  void register_instance(Instance instance, Duration ttl, Callback<void> done) override;
  void heartbeat(const std::string& id, Callback<void> done) override;
  void set_status(const std::string& id, Status status, Callback<void> done) override;
  void deregister(const std::string& id, Callback<void> done) override;
  void list(const std::string& service, bool healthy_only, Callback<std::vector<Instance>> done) override;
  void services(Callback<std::vector<ServiceSummary>> done) override;
  WatchHandle watch_service(const std::string& service, bool healthy_only, Index from_index,
                            std::function<void(Result<WatchUpdate>)> on_update) override;
  WatchHandle watch_prefix(const std::string& prefix, Index from_index,
                           std::function<void(Result<KvUpdate>)> on_update) override;
  void get(const std::string& key, Callback<std::optional<KvEntry>> done) override;
  void put(const std::string& key, const std::string& value, Callback<Index> done) override;
  void del(const std::string& key, Callback<void> done) override;
  void list_kv(const std::string& prefix, Callback<std::vector<KvEntry>> done) override;
  void compare_and_set(const std::string& key, Index expected_mod_index, const std::string& value,
                       Callback<std::optional<Index>> done) override;
  void try_lock(const std::string& name, Duration ttl, Callback<std::unique_ptr<Lock>> done) override;
  Handle lock(const std::string& name, Duration ttl, Callback<std::unique_ptr<Lock>> done) override;

 private:
  struct ServiceWatch {
    std::string service;
    bool healthy_only;
    Index from_index;
    std::function<void(Result<WatchUpdate>)> on_update;
    std::optional<std::vector<Instance>> last;  // the set the watcher has (or is assumed to have)
    Index last_index = 0;
    std::optional<Error> failure;  // to deliver, after which the watch ends
    bool ended = false;            // the failure is posted
  };
  struct PrefixWatch {
    std::string prefix;
    Index from_index;
    std::function<void(Result<KvUpdate>)> on_update;
    std::optional<std::vector<KvEntry>> last;
    Index last_index = 0;
    std::optional<Error> failure;
    bool ended = false;
  };
  struct LockWait {
    std::string name;
    Callback<std::unique_ptr<Lock>> done;
    std::optional<Error> failure;  // an invalid name: delivered instead of waiting
  };

  // MemoryStore::Listener: note, then evaluate on the loop.
  void on_service_changed(const std::string& service) override;
  void on_kv_changed() override;
  void on_lock_freed() override;
  void on_availability_changed() override;

  // Runs `work` from the loop (timers.after(0)); cancelled if we go first.
  void post(std::function<void()> work);
  template <class T>
  void complete(Callback<T> done, Result<T> result);
  void counted(Operation operation) { ++counts_[static_cast<size_t>(operation)]; }
  // Posts the unavailable error to `done` and returns true when the store is down.
  template <class T>
  bool refused(Callback<T>& done);

  // Watches and locks (memory_watch.cc).
  void schedule_evaluate();
  void evaluate();
  void evaluate_service(const std::string& service);
  void evaluate_kv();
  void fail_watches(const Error& error);
  void deliver_service(std::uint64_t id, Result<WatchUpdate> update);
  void deliver_prefix(std::uint64_t id, Result<KvUpdate> update);
  void retry_lock(std::uint64_t id);

  std::shared_ptr<MemoryStore> store_;
  os::Timers& timers_;
  const std::uint64_t owner_;  // our token owner id in the store's locks
  std::array<std::uint64_t, static_cast<size_t>(Operation::kLock) + 1> counts_{};

  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, os::Timers::Id> posted_;  // pending posts, by our key
  std::map<std::uint64_t, ServiceWatch> service_watches_;
  std::map<std::uint64_t, PrefixWatch> prefix_watches_;
  std::map<std::uint64_t, LockWait> lock_waits_;
  std::set<std::string> dirty_services_;
  bool kv_dirty_ = false;
  bool evaluate_posted_ = false;
  bool watches_blind_ = false;
};

template <class T>
void MemoryCatalog::complete(Callback<T> done, Result<T> result) {
  // A timer takes a copyable std::function; a Result may hold a unique_ptr.
  auto box = std::make_shared<Result<T>>(std::move(result));
  post([done = std::move(done), box] { done(std::move(*box)); });
}

template <class T>
bool MemoryCatalog::refused(Callback<T>& done) {
  if (store_->is_available()) return false;
  complete(std::move(done), Result<T>(memory_unavailable_error()));
  return true;
}

}  // namespace autopilot::discovery
