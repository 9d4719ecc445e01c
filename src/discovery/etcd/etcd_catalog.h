// EtcdCatalog: the Catalog on etcd (v3 API through its JSON gateway), for
// deployments on many hosts. Key layout: wire.h. Contract, beyond catalog.h:
//
// - An instance is bound to its own lease of TTL seconds: etcd counts whole
//   seconds, with a minimum of 2 s (its own rule), so a TTL is rounded up to
//   that. heartbeat() is one lease keep-alive (not a write: it wakes no
//   watch); a lease that etcd no longer knows is "unknown instance", so the
//   caller registers again (a new lease, the same id). set_status() rewrites
//   the record only while it exists (a txn on its version), so it never
//   resurrects a record that expired. deregister() deletes the record and
//   revokes its lease.
// - Watches are Mirrors (mirror.h): event-driven, resumed from the last
//   revision after any failure, re-read after a compaction. Indexes are etcd
//   revisions. While no member answers, watches stay quiet and deliver
//   nothing (readers keep the last good data); operations fail with an
//   Error whose code is 14 (unavailable).
// - Locks: key locks/NAME created only if absent (a txn on its create
//   revision), bound to a lease the Lock keeps alive (every TTL/3); a holder
//   that dies frees it within its TTL; a Lock whose lease is lost reports
//   on_lost. Waiters watch the key and try again when it is deleted.
//   release() sends the delete and the revoke at once and returns; the lock
//   is free for others when etcd has applied them (milliseconds).
// - Destroy it on the loop thread; no callback runs afterwards. Held Locks
//   must be released or destroyed before it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <memory>
#include <string>

#include "base/lifetime.h"
#include "discovery/callbacks.h"
#include "discovery/catalog.h"
#include "discovery/etcd/client.h"
#include "discovery/etcd/wire.h"
#include "log/log.h"
#include "os/timers.h"

namespace autopilot::discovery::etcd {

struct EtcdOptions {
  ClientOptions client;
  std::string prefix = kDefaultPrefix;  // must start and end with '/'
};

class EtcdCatalog : public Catalog {
 public:
  static Result<std::unique_ptr<EtcdCatalog>> open(EtcdOptions options, boost::asio::io_context& io,
                                                   os::Timers& timers, log::Log& log);
  ~EtcdCatalog() override;

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

  // etcd's lease TTL (whole seconds, at least 2) for a requested TTL.
  static std::int64_t lease_seconds(Duration ttl);

 private:
  EtcdCatalog(EtcdOptions options, std::unique_ptr<Client> client, boost::asio::io_context& io, os::Timers& timers,
              log::Log& log);

  // What this catalog registered, so heartbeats and status changes need no read.
  struct Registration {
    Instance instance;
    LeaseId lease = 0;
  };
  // Where an id's record is: its service and lease (found: name not empty).
  struct Located {
    std::string name;
    LeaseId lease = 0;
  };

  template <class T>
  void complete(Callback<T> done, Result<T> result);
  void locate(const std::string& id, std::function<void(Result<Located>)> done);
  void write_registration(Instance instance, LeaseId lease, const Located& where, Callback<void> done);
  // Revokes `lease` (best effort: errors are logged), then calls `then`.
  void revoke(LeaseId lease, std::function<void()> then = nullptr);
  std::optional<Instance> decode_instance(const Kv& kv);
  void take_lock(const std::string& name, std::int64_t ttl_s, Callback<std::unique_ptr<Lock>> done);

  class EtcdLock;
  struct LockWait;

  EtcdOptions options_;
  Layout layout_;
  std::unique_ptr<Client> client_;
  boost::asio::io_context& io_;
  os::Timers& timers_;
  log::Log& log_;
  std::map<std::string, Registration> registered_;
  Lifetime lifetime_;  // last: ends our posted results and lock waits
};

// Delivers `result` to `done` from the loop, unless we are destroyed first.
template <class T>
void EtcdCatalog::complete(Callback<T> done, Result<T> result) {
  post_result(io_, lifetime_, std::move(done), std::move(result));
}

}  // namespace autopilot::discovery::etcd
