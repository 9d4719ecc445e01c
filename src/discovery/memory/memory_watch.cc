// Watches and locks of MemoryCatalog (see its header). Nothing here calls a
// caller's callback inline: evaluate() computes what changed and posts one
// delivery per watch; each delivery, and each lock attempt, is its own posted
// task that looks its watch or wait up first, so a cancelled one is skipped
// and a callback that destroys the catalog leaves nothing to run after it.
#include <algorithm>

#include "discovery/memory/memory_catalog.h"

namespace autopilot::discovery {

size_t MemoryCatalog::active_watches() const {
  auto live = [](const auto& entry) { return !entry.second.failure; };
  return std::count_if(service_watches_.begin(), service_watches_.end(), live) +
         std::count_if(prefix_watches_.begin(), prefix_watches_.end(), live);
}

// --- store notifications -----------------------------------------------------------

void MemoryCatalog::on_service_changed(const std::string& service) {
  dirty_services_.insert(service);
  schedule_evaluate();
}

void MemoryCatalog::on_kv_changed() {
  kv_dirty_ = true;
  schedule_evaluate();
}

void MemoryCatalog::on_lock_freed() {
  // An init-capture: clang 14 (the fuzz build) cannot capture a structured binding.
  for (const auto& [id, wait] : lock_waits_) post([this, id = id] { retry_lock(id); });
}

void MemoryCatalog::on_availability_changed() {
  if (!store_->is_available()) {
    // At once, not at the next evaluation: a store that goes down and comes
    // back within one turn still ends every watch.
    fail_watches(memory_unavailable_error());
    return;
  }
  on_lock_freed();  // waits that could not try while it was down
}

// --- watches ---------------------------------------------------------------------------

WatchHandle MemoryCatalog::watch_service(const std::string& service, bool healthy_only, Index from_index,
                                         std::function<void(Result<WatchUpdate>)> on_update) {
  counted(Operation::kWatchService);
  std::uint64_t id = next_id_++;
  ServiceWatch& w = service_watches_[id] =
      ServiceWatch{service, healthy_only, from_index, std::move(on_update), std::nullopt, 0, std::nullopt, false};
  if (auto valid = validate_service_name(service); !valid) w.failure = valid.error();
  if (!store_->is_available()) w.failure = memory_unavailable_error();
  dirty_services_.insert(service);
  schedule_evaluate();
  return Handle([this, id] { service_watches_.erase(id); });
}

WatchHandle MemoryCatalog::watch_prefix(const std::string& prefix, Index from_index,
                                        std::function<void(Result<KvUpdate>)> on_update) {
  counted(Operation::kWatchPrefix);
  std::uint64_t id = next_id_++;
  PrefixWatch& w = prefix_watches_[id] =
      PrefixWatch{prefix, from_index, std::move(on_update), std::nullopt, 0, std::nullopt, false};
  if (!prefix.empty()) {
    if (auto valid = validate_key(prefix); !valid) w.failure = valid.error();
  }
  if (!store_->is_available()) w.failure = memory_unavailable_error();
  kv_dirty_ = true;
  schedule_evaluate();
  return Handle([this, id] { prefix_watches_.erase(id); });
}

void MemoryCatalog::fail_watches(const Error& error) {
  for (auto& [id, w] : service_watches_) {
    if (!w.failure) w.failure = error;
  }
  for (auto& [id, w] : prefix_watches_) {
    if (!w.failure) w.failure = error;
  }
  schedule_evaluate();
}

void MemoryCatalog::schedule_evaluate() {
  if (evaluate_posted_) return;  // one evaluation per loop turn, however many changes
  evaluate_posted_ = true;
  post([this] { evaluate(); });
}

void MemoryCatalog::evaluate() {
  evaluate_posted_ = false;
  std::set<std::string> dirty;
  dirty.swap(dirty_services_);
  bool kv = std::exchange(kv_dirty_, false);
  // Failures first, whatever was dirty: the watch ends with its error.
  for (auto& [id, w] : service_watches_) {
    if (!w.failure || std::exchange(w.ended, true)) continue;
    post([this, id = id, error = *w.failure] { deliver_service(id, error); });
  }
  for (auto& [id, w] : prefix_watches_) {
    if (!w.failure || std::exchange(w.ended, true)) continue;
    post([this, id = id, error = *w.failure] { deliver_prefix(id, error); });
  }
  for (const auto& service : dirty) evaluate_service(service);
  if (kv) evaluate_kv();
}

void MemoryCatalog::evaluate_service(const std::string& service) {
  std::optional<MemoryStore::ServiceView> view;  // read only when someone watches
  for (auto& [id, w] : service_watches_) {
    if (w.service != service || w.failure || (watches_blind_ && w.last)) continue;
    if (!view) view = store_->read_service(service);
    std::vector<Instance> set = view->live;
    if (w.healthy_only) std::erase_if(set, [](const Instance& i) { return !is_healthy(i.status); });
    bool changed = w.last ? set != *w.last : (w.from_index == 0 || view->index > w.from_index);
    w.last = set;
    w.last_index = std::max(w.last_index, view->index);
    if (!changed) continue;
    post([this, id = id, update = WatchUpdate{w.last_index, std::move(set)}] { deliver_service(id, update); });
  }
}

void MemoryCatalog::evaluate_kv() {
  for (auto& [id, w] : prefix_watches_) {
    if (w.failure || (watches_blind_ && w.last)) continue;
    auto view = store_->list_kv(w.prefix);
    bool changed = w.last ? view.entries != *w.last : (w.from_index == 0 || view.index > w.from_index);
    w.last = view.entries;
    w.last_index = std::max(w.last_index, view.index);
    if (!changed) continue;
    post([this, id = id, update = KvUpdate{w.last_index, std::move(view.entries)}] { deliver_prefix(id, update); });
  }
}

void MemoryCatalog::deliver_service(std::uint64_t id, Result<WatchUpdate> update) {
  auto it = service_watches_.find(id);
  if (it == service_watches_.end()) return;  // cancelled since
  if (!update) {
    auto on_update = std::move(it->second.on_update);
    service_watches_.erase(it);
    return on_update(std::move(update));
  }
  auto on_update = it->second.on_update;  // the callback may cancel (erase) its watch
  on_update(std::move(update));
}

void MemoryCatalog::deliver_prefix(std::uint64_t id, Result<KvUpdate> update) {
  auto it = prefix_watches_.find(id);
  if (it == prefix_watches_.end()) return;
  if (!update) {
    auto on_update = std::move(it->second.on_update);
    prefix_watches_.erase(it);
    return on_update(std::move(update));
  }
  auto on_update = it->second.on_update;
  on_update(std::move(update));
}

// --- locks -------------------------------------------------------------------------------

namespace {

// A lock in the store, held until released, destroyed, or its catalog dies.
class MemoryLock : public Lock {
 public:
  MemoryLock(std::shared_ptr<MemoryStore> store, std::string name, std::uint64_t token)
      : store_(std::move(store)), name_(std::move(name)), token_(token) {}
  ~MemoryLock() override { release(); }

  const std::string& name() const override { return name_; }
  void release() override { store_->unlock(name_, token_); }
  bool is_held() const override { return store_->is_held_by(name_, token_); }
  void on_lost(std::function<void()> callback) override { on_lost_ = std::move(callback); }

 private:
  std::shared_ptr<MemoryStore> store_;
  std::string name_;
  std::uint64_t token_;
  std::function<void()> on_lost_;  // never called: as a flock, never lost while its holder lives
};

}  // namespace

void MemoryCatalog::try_lock(const std::string& name, Duration, Callback<std::unique_ptr<Lock>> done) {
  using R = Result<std::unique_ptr<Lock>>;
  counted(Operation::kTryLock);
  if (auto valid = validate_service_name(name); !valid) return complete(std::move(done), R(valid.error()));
  if (refused(done)) return;
  std::uint64_t token = store_->new_token();
  std::unique_ptr<Lock> lock;
  if (store_->try_lock(name, token, owner_)) lock = std::make_unique<MemoryLock>(store_, name, token);
  complete(std::move(done), R(std::move(lock)));
}

Handle MemoryCatalog::lock(const std::string& name, Duration, Callback<std::unique_ptr<Lock>> done) {
  counted(Operation::kLock);
  std::uint64_t id = next_id_++;
  LockWait& wait = lock_waits_[id] = LockWait{name, std::move(done), std::nullopt};
  if (auto valid = validate_service_name(name); !valid) wait.failure = valid.error();
  post([this, id] { retry_lock(id); });
  return Handle([this, id] { lock_waits_.erase(id); });
}

void MemoryCatalog::retry_lock(std::uint64_t id) {
  auto it = lock_waits_.find(id);
  if (it == lock_waits_.end()) return;  // cancelled, or already served by an earlier retry
  LockWait& wait = it->second;
  if (wait.failure) {
    auto done = std::move(wait.done);
    Error error = std::move(*wait.failure);
    lock_waits_.erase(it);
    return done(std::move(error));
  }
  if (!store_->is_available()) return;  // retried when it is back
  std::uint64_t token = store_->new_token();
  if (!store_->try_lock(wait.name, token, owner_)) return;  // retried when a lock is freed
  auto done = std::move(wait.done);
  std::unique_ptr<Lock> lock = std::make_unique<MemoryLock>(store_, wait.name, token);
  lock_waits_.erase(it);
  done(std::move(lock));
}

}  // namespace autopilot::discovery
