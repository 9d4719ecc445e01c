#include "discovery/memory/memory_store.h"

#include <algorithm>

namespace autopilot::discovery {

MemoryStore::MemoryStore(os::Timers& timers) : timers_(timers) {}

MemoryStore::~MemoryStore() {
  if (expiry_timer_ != 0) timers_.cancel(expiry_timer_);
}

void MemoryStore::set_available(bool available) {
  if (available_ == available) return;
  available_ = available;
  for (Listener* l : listeners_) l->on_availability_changed();
}

// --- instances -------------------------------------------------------------------

void MemoryStore::register_instance(const Instance& instance, Duration ttl) {
  expire_due();
  auto now = timers_.now();
  auto old = records_.find(instance.id);
  // The id is unique catalog-wide: under another name it leaves that service.
  if (old != records_.end() && old->second.instance.name != instance.name) {
    std::string was = old->second.instance.name;
    records_.erase(old);
    change_service(was);
  }
  records_[instance.id] = Record{instance, ttl, now + ttl};
  change_service(instance.name);
  arm_expiry(now + ttl);
}

bool MemoryStore::heartbeat(const std::string& id) {
  expire_due();
  auto it = find_live(id);
  if (it == records_.end()) return false;
  it->second.expires = timers_.now() + it->second.ttl;  // later than the armed timer: it re-arms when it fires
  return true;
}

bool MemoryStore::set_status(const std::string& id, Status status) {
  expire_due();
  auto it = find_live(id);
  if (it == records_.end()) return false;
  if (it->second.instance.status == status) return true;  // not a change
  it->second.instance.status = status;
  change_service(it->second.instance.name);
  return true;
}

void MemoryStore::deregister(const std::string& id) {
  expire_due();
  auto it = records_.find(id);
  if (it == records_.end()) return;
  std::string service = it->second.instance.name;
  records_.erase(it);
  change_service(service);
}

MemoryStore::ServiceView MemoryStore::read_service(const std::string& service) {
  expire_due();
  ServiceView view;
  if (auto index = service_index_.find(service); index != service_index_.end()) view.index = index->second;
  for (const auto& [id, record] : records_) {  // map order: sorted by id
    if (record.instance.name == service) view.live.push_back(record.instance);
  }
  return view;
}

std::vector<Instance> MemoryStore::all_live() {
  expire_due();
  std::vector<Instance> live;
  for (const auto& [id, record] : records_) live.push_back(record.instance);
  return live;
}

void MemoryStore::change_service(const std::string& service) {
  service_index_[service] = ++revision_;
  for (Listener* l : listeners_) l->on_service_changed(service);
}

std::map<std::string, MemoryStore::Record>::iterator MemoryStore::find_live(const std::string& id) {
  auto it = records_.find(id);
  return it != records_.end() && timers_.now() < it->second.expires ? it : records_.end();
}

// --- expiry ---------------------------------------------------------------------------

void MemoryStore::expire_due() {
  auto now = timers_.now();
  std::vector<std::string> gone;
  for (auto it = records_.begin(); it != records_.end();) {
    if (now < it->second.expires) {
      ++it;
      continue;
    }
    gone.push_back(it->second.instance.name);
    it = records_.erase(it);
  }
  for (const auto& service : gone) change_service(service);  // one revision per record, as the embedded sweep
}

void MemoryStore::arm_expiry(os::Clock::time_point deadline) {
  if (expiry_timer_ != 0) {
    if (expiry_deadline_ <= deadline) return;  // the armed timer comes first; it re-arms for the rest
    timers_.cancel(expiry_timer_);
  }
  expiry_deadline_ = deadline;
  expiry_timer_ = timers_.at(deadline, [this] {
    expiry_timer_ = 0;
    expire_due();
    // Heartbeats moved some expiries past the old deadline: wait for the next.
    std::optional<os::Clock::time_point> next;
    for (const auto& [id, record] : records_) {
      if (!next || record.expires < *next) next = record.expires;
    }
    if (next) arm_expiry(*next);
  });
}

// --- KV ------------------------------------------------------------------------------------

std::optional<KvEntry> MemoryStore::get(const std::string& key) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::nullopt;
  return it->second;
}

Index MemoryStore::put(const std::string& key, const std::string& value) {
  Index revision = ++revision_;
  auto it = kv_.find(key);
  Index created = it != kv_.end() ? it->second.create_index : revision;
  kv_[key] = KvEntry{key, value, created, revision};
  change_kv();
  return revision;
}

void MemoryStore::del(const std::string& key) {
  if (kv_.erase(key) == 0) return;
  ++revision_;
  change_kv();
}

MemoryStore::KvView MemoryStore::list_kv(const std::string& prefix) const {
  KvView view{kv_index_, {}};
  for (auto it = kv_.lower_bound(prefix); it != kv_.end() && it->first.starts_with(prefix); ++it) {
    view.entries.push_back(it->second);
  }
  return view;
}

std::optional<Index> MemoryStore::compare_and_set(const std::string& key, Index expected, const std::string& value) {
  auto it = kv_.find(key);
  Index current = it != kv_.end() ? it->second.mod_index : 0;
  if (current != expected) return std::nullopt;
  return put(key, value);
}

void MemoryStore::change_kv() {
  kv_index_ = revision_;
  for (Listener* l : listeners_) l->on_kv_changed();
}

// --- locks -------------------------------------------------------------------------------------

bool MemoryStore::try_lock(const std::string& name, std::uint64_t token, std::uint64_t owner) {
  return locks_.emplace(name, Holder{token, owner}).second;
}

bool MemoryStore::is_held_by(const std::string& name, std::uint64_t token) const {
  auto it = locks_.find(name);
  return it != locks_.end() && it->second.token == token;
}

void MemoryStore::unlock(const std::string& name, std::uint64_t token) {
  if (!is_held_by(name, token)) return;
  locks_.erase(name);
  notify_locks_freed();
}

void MemoryStore::unlock_all(std::uint64_t owner) {
  if (std::erase_if(locks_, [owner](const auto& entry) { return entry.second.owner == owner; }) > 0) {
    notify_locks_freed();
  }
}

void MemoryStore::notify_locks_freed() {
  for (Listener* l : listeners_) l->on_lock_freed();
}

}  // namespace autopilot::discovery
