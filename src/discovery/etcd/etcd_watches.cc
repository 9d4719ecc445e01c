// Watches and locks of EtcdCatalog (see its header).
#include <fmt/format.h>

#include <algorithm>

#include "discovery/etcd/etcd_catalog.h"
#include "discovery/etcd/mirror.h"
#include "discovery/callbacks.h"
#include "discovery/deferred_release.h"

namespace autopilot::discovery::etcd {

namespace {

// Keeps the mirror of a watch alive exactly as long as its handle.
Handle own(std::shared_ptr<void> watch) {
  return Handle([watch = std::move(watch)]() mutable { watch.reset(); });
}

}  // namespace

// --- watches -------------------------------------------------------------------------

WatchHandle EtcdCatalog::watch_service(const std::string& service, bool healthy_only, Index from_index,
                                       std::function<void(Result<WatchUpdate>)> on_update) {
  if (auto valid = validate_service_name(service); !valid)
    return fail_watch<WatchUpdate>(io_, std::move(on_update), valid.error());
  // The instances decoded once per record version, and the set last delivered.
  struct Watch {
    std::map<std::string, std::pair<Index, std::optional<Instance>>> decoded;
    std::optional<std::vector<Instance>> last;
    std::unique_ptr<Mirror> mirror;
  };
  auto watch = std::make_shared<Watch>();
  std::string dir = layout_.service_dir(service);
  Watch* w = watch.get();
  watch->mirror = std::make_unique<Mirror>(
      *client_, io_, timers_, log_, dir, prefix_end(dir), from_index,
      [this, w, healthy_only, on_update = std::move(on_update)](Index revision, const Mirror::State& state,
                                                                 bool baseline) {
        std::vector<Instance> set;
        std::erase_if(w->decoded, [&](const auto& entry) { return !state.contains(entry.first); });
        for (const auto& [key, kv] : state) {
          auto& slot = w->decoded[key];
          if (slot.first != kv.mod_revision) slot = {kv.mod_revision, decode_instance(kv)};
          if (slot.second && (!healthy_only || is_healthy(slot.second->status))) set.push_back(*slot.second);
        }
        std::sort(set.begin(), set.end(), [](const Instance& a, const Instance& b) { return a.id < b.id; });
        bool changed = !baseline && (!w->last || set != *w->last);
        w->last = set;
        if (changed) on_update(WatchUpdate{revision, std::move(set)});
      });
  watch->mirror->start();
  return own(std::move(watch));
}

WatchHandle EtcdCatalog::watch_prefix(const std::string& prefix, Index from_index,
                                      std::function<void(Result<KvUpdate>)> on_update) {
  if (!prefix.empty()) {
    if (auto valid = validate_key(prefix); !valid) return fail_watch<KvUpdate>(io_, std::move(on_update), valid.error());
  }
  struct Watch {
    std::optional<std::vector<KvEntry>> last;
    std::unique_ptr<Mirror> mirror;
  };
  auto watch = std::make_shared<Watch>();
  std::string root = layout_.kv_root();
  std::string from = root + prefix;
  Watch* w = watch.get();
  watch->mirror = std::make_unique<Mirror>(
      *client_, io_, timers_, log_, from, prefix_end(from), from_index,
      [w, root, on_update = std::move(on_update)](Index revision, const Mirror::State& state, bool baseline) {
        std::vector<KvEntry> entries;
        entries.reserve(state.size());
        for (const auto& [key, kv] : state)
          entries.push_back(KvEntry{key.substr(root.size()), kv.value, kv.create_revision, kv.mod_revision});
        bool changed = !baseline && (!w->last || entries != *w->last);
        w->last = entries;
        if (changed) on_update(KvUpdate{revision, std::move(entries)});
      });
  watch->mirror->start();
  return own(std::move(watch));
}

// --- locks -------------------------------------------------------------------------------

// A held lock: its key and the lease it hangs on, kept alive every TTL/3.
class EtcdCatalog::EtcdLock : public Lock, public DeferredRelease {
 public:
  EtcdLock(EtcdCatalog& catalog, std::string name, LeaseId lease, std::int64_t ttl_s)
      : catalog_(catalog), name_(std::move(name)), key_(catalog.layout_.lock_key(name_)), lease_(lease),
        ttl_(std::chrono::seconds(ttl_s)), last_renewed_(catalog.timers_.now()) {
    schedule();
  }
  ~EtcdLock() override { release(); }

  const std::string& name() const override { return name_; }
  bool is_held() const override { return held_; }
  void on_lost(std::function<void()> callback) override { on_lost_ = std::move(callback); }

  void release() override { release_then(nullptr); }
  // The delete's answer means the lock is free for the next holder.
  void release_then(std::function<void()> released) override {
    if (!held_) {
      if (released) released();
      return;
    }
    held_ = false;
    stop();
    // Deleting the key frees the lock now; revoking the lease cleans up.
    Json txn = {{"compare", Json::array({compare(key_, "LEASE", "EQUAL", lease_)})},
                {"success", Json::array({delete_op(key_)})}};
    catalog_.client_->call("kv/txn", std::move(txn), [released = std::move(released)](Result<Json>) {
      if (released) released();
    });
    catalog_.revoke(lease_);
  }

 private:
  void stop() { timer_.cancel(); }
  void schedule() {
    timer_.after(ttl_ / 3, [this] { renew(); });
  }
  void renew() {
    catalog_.client_->call("lease/keepalive", Json{{"ID", std::to_string(lease_)}},
                           lifetime_.bind([this](Result<Json> r) {
                             if (!held_) return;
                             bool gone = r && int_field(*r, "TTL") <= 0;
                             if (r && !gone) last_renewed_ = catalog_.timers_.now();
                             // Unanswered for a whole TTL: etcd has let the lease go.
                             if (!r && catalog_.timers_.now() - last_renewed_ >= ttl_) gone = true;
                             if (!gone) return schedule();
                             held_ = false;
                             catalog_.log_.warn(fmt::format("etcd: lock {} lost (its lease expired)", name_));
                             if (on_lost_) on_lost_();
                           }));
  }

  EtcdCatalog& catalog_;
  std::string name_, key_;
  LeaseId lease_;
  Duration ttl_;
  os::Clock::time_point last_renewed_;
  bool held_ = true;
  os::Timer timer_{catalog_.timers_};
  std::function<void()> on_lost_;
  Lifetime lifetime_;  // last: ends the renewal's callback
};

void EtcdCatalog::try_lock(const std::string& name, Duration ttl, Callback<std::unique_ptr<Lock>> done) {
  if (auto valid = validate_service_name(name); !valid)
    return complete(std::move(done), Result<std::unique_ptr<Lock>>(valid.error()));
  take_lock(name, lease_seconds(ttl), std::move(done));
}

void EtcdCatalog::take_lock(const std::string& name, std::int64_t ttl_s, Callback<std::unique_ptr<Lock>> done) {
  client_->call("lease/grant", Json{{"TTL", std::to_string(ttl_s)}}, [this, name, ttl_s, done](Result<Json> r) {
    if (!r) return done(r.error());
    LeaseId lease = int_field(*r, "ID");
    if (lease == 0) return done(make_error("etcd granted no lease"));
    std::string key = layout_.lock_key(name);
    Json txn = {{"compare", Json::array({compare(key, "CREATE", "EQUAL", 0)})},
                {"success", Json::array({put_op(key, name, lease)})}};
    client_->call("kv/txn", std::move(txn), [this, name, lease, ttl_s, done](Result<Json> r) {
      if (!r || !r->value("succeeded", false)) revoke(lease);
      if (!r) return done(r.error());
      if (!r->value("succeeded", false)) return done(std::unique_ptr<Lock>());
      done(std::unique_ptr<Lock>(std::make_unique<EtcdLock>(*this, name, lease, ttl_s)));
    });
  });
}

// A wait for a lock: tries, then watches the key and tries again whenever it
// is free, until it gets it or is cancelled.
struct EtcdCatalog::LockWait {
  explicit LockWait(os::Timers& timers) : retry(timers) {}
  std::unique_ptr<Mirror> mirror;
  os::Timer retry;  // the next try after etcd did not answer
  bool trying = false;
  bool again = false;  // the key was freed while a try was in flight
  bool done = false;
};

Handle EtcdCatalog::lock(const std::string& name, Duration ttl, Callback<std::unique_ptr<Lock>> done) {
  if (auto valid = validate_service_name(name); !valid)
    return fail_watch<std::unique_ptr<Lock>>(io_, std::move(done), valid.error());
  auto wait = std::make_shared<LockWait>(timers_);
  std::int64_t ttl_s = lease_seconds(ttl);
  std::weak_ptr<LockWait> weak = wait;
  auto attempt = std::make_shared<std::function<void()>>();
  // Bound: a handle kept after the catalog is gone can no longer try.
  *attempt = lifetime_.bind([this, weak, name, ttl_s, done, attempt_weak = std::weak_ptr<std::function<void()>>(attempt)] {
    auto w = weak.lock();
    if (!w || w->done) return;
    if (w->trying) {
      w->again = true;
      return;
    }
    w->trying = true;
    take_lock(name, ttl_s, [this, weak, done, attempt_weak](Result<std::unique_ptr<Lock>> r) {
      auto w = weak.lock();
      if (!w) return;  // cancelled: a lock we got is released by its destructor
      w->trying = false;
      if (r && *r) {
        w->done = true;
        w->mirror.reset();
        return done(std::move(r));
      }
      if (!r) {
        // etcd did not answer: try again in a second (the key may be free).
        log_.warn("etcd: waiting for a lock: " + r.error().message);
        w->retry.after(std::chrono::seconds(1), [attempt_weak] {
          if (auto attempt = attempt_weak.lock()) (*attempt)();
        });
        return;
      }
      if (std::exchange(w->again, false)) {
        if (auto attempt = attempt_weak.lock()) (*attempt)();
      }
    });
  });
  std::string key = layout_.lock_key(name);
  wait->mirror = std::make_unique<Mirror>(*client_, io_, timers_, log_, key, key + std::string(1, '\0'), 0,
                                          [attempt](Index, const Mirror::State& state, bool) {
                                            if (state.empty()) (*attempt)();
                                          });
  wait->mirror->start();
  return Handle([wait, attempt]() mutable {
    wait.reset();
    attempt.reset();
  });
}

}  // namespace autopilot::discovery::etcd
