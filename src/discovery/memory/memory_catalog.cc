// The operations of MemoryCatalog: count, validate, check availability, run
// the MemoryStore call, post the result. Watches and locks are in
// memory_watch.cc.
#include "discovery/memory/memory_catalog.h"

namespace autopilot::discovery {

Error memory_unavailable_error() { return make_error("the in-memory catalog is unavailable"); }

MemoryCatalog::MemoryCatalog(os::Timers& timers) : MemoryCatalog(std::make_shared<MemoryStore>(timers)) {}

MemoryCatalog::MemoryCatalog(std::shared_ptr<MemoryStore> store)
    : store_(std::move(store)), timers_(store_->timers()), owner_(store_->new_token()) {
  store_->attach(this);
}

MemoryCatalog::~MemoryCatalog() {
  store_->detach(this);
  store_->unlock_all(owner_);  // the holder died: others may take its locks
  for (const auto& [key, timer] : posted_) timers_.cancel(timer);
}

void MemoryCatalog::post(std::function<void()> work) {
  std::uint64_t key = next_id_++;
  posted_[key] = timers_.after(os::Duration::zero(), [this, key, work = std::move(work)] {
    posted_.erase(key);
    work();  // may destroy us: nothing after it
  });
}

// --- instances -----------------------------------------------------------------

void MemoryCatalog::register_instance(Instance instance, Duration ttl, Callback<void> done) {
  counted(Operation::kRegister);
  auto valid = validate_instance(instance);
  if (valid && ttl <= Duration::zero()) valid = make_error("ttl must be positive");
  if (!valid) return complete(std::move(done), valid);
  if (refused(done)) return;
  store_->register_instance(instance, ttl);
  complete(std::move(done), Result<void>());
}

void MemoryCatalog::heartbeat(const std::string& id, Callback<void> done) {
  counted(Operation::kHeartbeat);
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  if (refused(done)) return;
  complete(std::move(done), store_->heartbeat(id) ? Result<void>() : Result<void>(unknown_instance_error(id)));
}

void MemoryCatalog::set_status(const std::string& id, Status status, Callback<void> done) {
  counted(Operation::kSetStatus);
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  if (refused(done)) return;
  bool found = store_->set_status(id, status);
  complete(std::move(done), found ? Result<void>() : Result<void>(unknown_instance_error(id)));
}

void MemoryCatalog::deregister(const std::string& id, Callback<void> done) {
  counted(Operation::kDeregister);
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  if (refused(done)) return;
  store_->deregister(id);
  complete(std::move(done), Result<void>());
}

void MemoryCatalog::list(const std::string& service, bool healthy_only, Callback<std::vector<Instance>> done) {
  using R = Result<std::vector<Instance>>;
  counted(Operation::kList);
  if (auto valid = validate_service_name(service); !valid) return complete(std::move(done), R(valid.error()));
  if (refused(done)) return;
  std::vector<Instance> live = store_->read_service(service).live;
  if (healthy_only) std::erase_if(live, [](const Instance& i) { return !is_healthy(i.status); });
  complete(std::move(done), R(std::move(live)));
}

void MemoryCatalog::services(Callback<std::vector<ServiceSummary>> done) {
  counted(Operation::kServices);
  if (refused(done)) return;
  complete(std::move(done), Result<std::vector<ServiceSummary>>(summarize(store_->all_live())));
}

// --- KV --------------------------------------------------------------------------

void MemoryCatalog::get(const std::string& key, Callback<std::optional<KvEntry>> done) {
  using R = Result<std::optional<KvEntry>>;
  counted(Operation::kGet);
  if (auto valid = validate_key(key); !valid) return complete(std::move(done), R(valid.error()));
  if (refused(done)) return;
  complete(std::move(done), R(store_->get(key)));
}

void MemoryCatalog::put(const std::string& key, const std::string& value, Callback<Index> done) {
  counted(Operation::kPut);
  if (auto valid = validate_key(key); !valid) return complete(std::move(done), Result<Index>(valid.error()));
  if (refused(done)) return;
  complete(std::move(done), Result<Index>(store_->put(key, value)));
}

void MemoryCatalog::del(const std::string& key, Callback<void> done) {
  counted(Operation::kDel);
  if (auto valid = validate_key(key); !valid) return complete(std::move(done), valid);
  if (refused(done)) return;
  store_->del(key);
  complete(std::move(done), Result<void>());
}

void MemoryCatalog::list_kv(const std::string& prefix, Callback<std::vector<KvEntry>> done) {
  using R = Result<std::vector<KvEntry>>;
  counted(Operation::kListKv);
  if (!prefix.empty()) {
    if (auto valid = validate_key(prefix); !valid) return complete(std::move(done), R(valid.error()));
  }
  if (refused(done)) return;
  complete(std::move(done), R(store_->list_kv(prefix).entries));
}

void MemoryCatalog::compare_and_set(const std::string& key, Index expected_mod_index, const std::string& value,
                                    Callback<std::optional<Index>> done) {
  using R = Result<std::optional<Index>>;
  counted(Operation::kCompareAndSet);
  if (auto valid = validate_key(key); !valid) return complete(std::move(done), R(valid.error()));
  if (refused(done)) return;
  complete(std::move(done), R(store_->compare_and_set(key, expected_mod_index, value)));
}

}  // namespace autopilot::discovery
