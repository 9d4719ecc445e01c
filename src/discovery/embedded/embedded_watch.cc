// Watches, expiry, rescans and locks of EmbeddedCatalog (see its header).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "discovery/embedded/embedded_catalog.h"
#include "discovery/callbacks.h"

namespace autopilot::discovery::embedded {

// --- watches ---------------------------------------------------------------------

WatchHandle EmbeddedCatalog::watch_service(const std::string& service, bool healthy_only, Index from_index,
                                           std::function<void(Result<WatchUpdate>)> on_update) {
  auto valid = validate_service_name(service);
  // The directory is made up front so that inotify can watch it before the
  // first instance arrives.
  if (valid) valid = store_.make_service_dir(service);
  if (!valid) return fail_watch<WatchUpdate>(io_, std::move(on_update), valid.error());
  watch_dir(store_.service_dir(service));
  std::uint64_t id = next_id_++;
  service_watches_[id] = std::make_unique<ServiceWatch>(
      ServiceWatch{service, healthy_only, from_index, std::move(on_update), std::nullopt, 0});
  mark_service(service);
  return Handle(lifetime_.bind([this, id] { service_watches_.erase(id); }));
}

WatchHandle EmbeddedCatalog::watch_prefix(const std::string& prefix, Index from_index,
                                          std::function<void(Result<KvUpdate>)> on_update) {
  if (!prefix.empty()) {
    if (auto valid = validate_key(prefix); !valid)
      return fail_watch<KvUpdate>(io_, std::move(on_update), valid.error());
  }
  std::uint64_t id = next_id_++;
  prefix_watches_[id] =
      std::make_unique<PrefixWatch>(PrefixWatch{prefix, from_index, std::move(on_update), std::nullopt, 0});
  kv_dirty_ = true;
  schedule_evaluate();
  return Handle(lifetime_.bind([this, id] { prefix_watches_.erase(id); }));
}

void EmbeddedCatalog::on_dir_changed(const std::string& dir) {
  if (dir == store_.locks_dir()) return retry_lock_waits();
  if (dir == store_.kv_dir()) {
    kv_dirty_ = true;
    return schedule_evaluate();
  }
  std::string prefix = store_.services_dir() + "/";
  if (dir.starts_with(prefix)) mark_service(dir.substr(prefix.size()));
}

void EmbeddedCatalog::mark_service(const std::string& service) {
  dirty_services_.insert(service);
  schedule_evaluate();
}

void EmbeddedCatalog::mark_all() {
  for (const auto& [id, watch] : service_watches_) dirty_services_.insert(watch->service);
  schedule_evaluate();
}

void EmbeddedCatalog::schedule_evaluate() {
  if (evaluate_posted_) return;  // one re-read per loop turn, however many wake-ups
  evaluate_posted_ = true;
  boost::asio::post(io_, lifetime_.bind([this] { evaluate(); }));
}

void EmbeddedCatalog::evaluate() {
  evaluate_posted_ = false;
  std::set<std::string> dirty;
  dirty.swap(dirty_services_);
  bool kv = std::exchange(kv_dirty_, false);
  auto self = lifetime_.observe();  // a watcher's callback may destroy us
  for (const auto& service : dirty) {
    evaluate_service(service);
    if (self.has_ended()) return;
  }
  if (kv) evaluate_kv();
  if (self.has_ended()) return;
  arm_expiry_timer();
}

void EmbeddedCatalog::evaluate_service(const std::string& service) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, watch] : service_watches_) {
    if (watch->service == service) ids.push_back(id);
  }
  next_expiry_.erase(service);
  if (ids.empty()) return;
  auto now = options_.wall_clock();
  auto snapshot = store_.read_service(service, now);
  if (snapshot && snapshot->has_expired) {
    // Deleting the expired records is the change other watchers see too.
    (void)store_.sweep_service(service, now);
    snapshot = store_.read_service(service, now);
  }
  auto self = lifetime_.observe();
  if (!snapshot) {
    // The catalog is unavailable (its directory vanished or cannot be read):
    // say so rather than go quiet, so readers keep what they had and know
    // it may be stale. The watches end; their owners subscribe again.
    for (auto id : ids) {
      auto it = service_watches_.find(id);
      if (it == service_watches_.end()) continue;
      auto on_update = std::move(it->second->on_update);
      service_watches_.erase(it);
      on_update(Result<WatchUpdate>(snapshot.error()));
      if (self.has_ended()) return;
    }
    return;
  }
  if (snapshot->next_expiry) next_expiry_[service] = *snapshot->next_expiry;
  for (auto id : ids) {
    auto it = service_watches_.find(id);
    if (it == service_watches_.end()) continue;  // cancelled by an earlier callback
    ServiceWatch& w = *it->second;
    std::vector<Instance> set;
    for (const auto& record : snapshot->live) {
      if (!w.healthy_only || is_healthy(record.instance.status)) set.push_back(record.instance);
    }
    bool changed = w.last ? set != *w.last : (w.from_index == 0 || snapshot->index > w.from_index);
    w.last = set;
    w.last_index = std::max(w.last_index, snapshot->index);
    if (!changed) continue;
    auto on_update = w.on_update;  // the callback may cancel (erase) the watch
    on_update(WatchUpdate{w.last_index, std::move(set)});
    if (self.has_ended()) return;
  }
}

void EmbeddedCatalog::evaluate_kv() {
  if (prefix_watches_.empty()) return;
  auto snapshot = store_.list_kv("");
  std::vector<std::uint64_t> ids;
  for (const auto& [id, watch] : prefix_watches_) ids.push_back(id);
  auto self = lifetime_.observe();
  if (!snapshot) {  // unavailable: as for services above
    for (auto id : ids) {
      auto it = prefix_watches_.find(id);
      if (it == prefix_watches_.end()) continue;
      auto on_update = std::move(it->second->on_update);
      prefix_watches_.erase(it);
      on_update(Result<KvUpdate>(snapshot.error()));
      if (self.has_ended()) return;
    }
    return;
  }
  for (auto id : ids) {
    auto it = prefix_watches_.find(id);
    if (it == prefix_watches_.end()) continue;
    PrefixWatch& w = *it->second;
    std::vector<KvEntry> entries;
    for (const auto& entry : snapshot->entries) {
      if (entry.key.starts_with(w.prefix)) entries.push_back(entry);
    }
    bool changed = w.last ? entries != *w.last : (w.from_index == 0 || snapshot->index > w.from_index);
    w.last = entries;
    w.last_index = std::max(w.last_index, snapshot->index);
    if (!changed) continue;
    auto on_update = w.on_update;
    on_update(KvUpdate{w.last_index, std::move(entries)});
    if (self.has_ended()) return;
  }
}

// --- expiry and rescans --------------------------------------------------------------

void EmbeddedCatalog::arm_expiry_timer() {
  expiry_timer_.cancel();
  if (next_expiry_.empty()) return;
  auto earliest = std::min_element(next_expiry_.begin(), next_expiry_.end(), [](const auto& a, const auto& b) {
                    return a.second < b.second;
                  })->second;
  // A little past the deadline, so the record reads as expired when we look.
  auto delay = std::max<WallClock::duration>(earliest - options_.wall_clock(), WallClock::duration::zero()) +
               std::chrono::milliseconds(2);
  expiry_timer_.after(delay, [this] { mark_all(); });
}

void EmbeddedCatalog::rescan() {
  rescan_timer_.after(options_.rescan_interval, [this] { rescan(); });
  auto now = options_.wall_clock();
  if (auto dirs = store_.service_dirs()) {
    for (const auto& service : *dirs) (void)store_.sweep_service(service, now);
  }
  for (const auto& [id, watch] : service_watches_) watch_dir(store_.service_dir(watch->service));
  watch_dir(store_.kv_dir());
  watch_dir(store_.locks_dir());
  kv_dirty_ = !prefix_watches_.empty();
  mark_all();
}

// Watches `dir` anew: a directory removed and made again needs a new watch
// (a rescan calls this for every directory), and the old one goes after the
// new one is made. The locks directory's events include the close of a
// released lock's write descriptor (see FlockLock).
void EmbeddedCatalog::watch_dir(const std::string& dir) {
  if (!inotify_ok_) return;
  auto watched = files_.watch(dir, [this](const std::string& changed) { on_dir_changed(changed); });
  if (watched) {
    dir_watches_[dir] = std::move(*watched);
  } else if (dir_watches_.empty()) {
    inotify_ok_ = false;
    log_.warn(fmt::format("catalog: {}; falling back to rescans", watched.error().message));
  } else {
    log_.debug(watched.error().message);  // say, the inotify watch limit: this directory is left to rescans
  }
}

// --- locks -------------------------------------------------------------------------------

namespace {

// A held flock (Store::try_lock_file): the file is opened read-only, and a
// write-mode descriptor of it is closed after the lock is freed, so that
// the release (by release() or by the kernel when we die) is an
// IN_CLOSE_WRITE event that wakes the waiters, whose failed attempts wake
// nobody.
class FlockLock : public Lock {
 public:
  FlockLock(std::string name, std::unique_ptr<os::Files::Lock> held) : name_(std::move(name)), held_(std::move(held)) {}

  const std::string& name() const override { return name_; }
  void release() override { held_.reset(); }
  bool is_held() const override { return held_ != nullptr; }
  void on_lost(std::function<void()> callback) override { on_lost_ = std::move(callback); }

 private:
  std::string name_;
  std::unique_ptr<os::Files::Lock> held_;
  std::function<void()> on_lost_;  // never called: a flock is not lost while its holder lives
};

}  // namespace

std::unique_ptr<Lock> EmbeddedCatalog::try_take(const std::string& name, Result<void>& error) {
  // Writers only (Store::lock_mode): a lock others cannot open, they cannot hold.
  auto held = store_.try_lock_file(name);
  if (!held) {
    error = held.error();
    return nullptr;
  }
  if (!*held) return nullptr;
  return std::make_unique<FlockLock>(name, std::move(*held));
}

void EmbeddedCatalog::try_lock(const std::string& name, Duration, Callback<std::unique_ptr<Lock>> done) {
  using R = Result<std::unique_ptr<Lock>>;
  if (auto valid = validate_service_name(name); !valid) return complete(std::move(done), R(valid.error()));
  Result<void> error;
  auto lock = try_take(name, error);
  if (!error) return complete(std::move(done), R(error.error()));
  complete(std::move(done), R(std::move(lock)));
}

Handle EmbeddedCatalog::lock(const std::string& name, Duration, Callback<std::unique_ptr<Lock>> done) {
  if (auto valid = validate_service_name(name); !valid) {
    auto callback = [done = std::move(done)](Result<std::unique_ptr<Lock>> r) { done(std::move(r)); };
    return fail_watch<std::unique_ptr<Lock>>(io_, callback, valid.error());
  }
  std::uint64_t id = next_id_++;
  lock_waits_[id] = std::make_unique<LockWait>(LockWait{name, std::move(done)});
  boost::asio::post(io_, lifetime_.bind([this] { retry_lock_waits(); }));
  return Handle(lifetime_.bind([this, id] { lock_waits_.erase(id); }));
}

void EmbeddedCatalog::retry_lock_waits() {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, wait] : lock_waits_) ids.push_back(id);
  auto self = lifetime_.observe();
  for (auto id : ids) {
    auto it = lock_waits_.find(id);
    if (it == lock_waits_.end()) continue;
    Result<void> error;
    auto lock = try_take(it->second->name, error);
    if (!lock && error) continue;  // still held elsewhere
    auto done = std::move(it->second->done);
    lock_waits_.erase(it);
    if (lock)
      done(std::move(lock));
    else
      done(Result<std::unique_ptr<Lock>>(error.error()));
    if (self.has_ended()) return;
  }
  lock_timer_.cancel();
  if (!lock_waits_.empty()) lock_timer_.after(options_.lock_retry_interval, [this] { retry_lock_waits(); });
}

}  // namespace autopilot::discovery::embedded
