#include "discovery/metered_catalog.h"

namespace autopilot::discovery {

template <class T>
Callback<T> MeteredCatalog::metered(const char* operation, Callback<T> done) {
  metrics_.catalog_requests->with({operation}).inc();
  return [this, operation, start = timers_.now(), done = std::move(done)](Result<T> r) mutable {
    metrics_.catalog_duration->with({operation}).observe(metrics::seconds_between(start, timers_.now()));
    if (!r) metrics_.catalog_errors->with({operation}).inc();
    done(std::move(r));
  };
}

template <class T>
std::function<void(Result<T>)> MeteredCatalog::metered_watch(const char* operation,
                                                             std::function<void(Result<T>)> on_update) {
  metrics_.catalog_requests->with({operation}).inc();
  return [this, operation, on_update = std::move(on_update)](Result<T> r) {
    if (!r) metrics_.catalog_errors->with({operation}).inc();
    on_update(std::move(r));
  };
}

void MeteredCatalog::register_instance(Instance instance, Duration ttl, Callback<void> done) {
  inner_.register_instance(std::move(instance), ttl, metered("register", std::move(done)));
}

void MeteredCatalog::heartbeat(const std::string& id, Callback<void> done) {
  inner_.heartbeat(id, metered("heartbeat", std::move(done)));
}

void MeteredCatalog::set_status(const std::string& id, Status status, Callback<void> done) {
  inner_.set_status(id, status, metered("set_status", std::move(done)));
}

void MeteredCatalog::deregister(const std::string& id, Callback<void> done) {
  inner_.deregister(id, metered("deregister", std::move(done)));
}

void MeteredCatalog::list(const std::string& service, bool healthy_only, Callback<std::vector<Instance>> done) {
  inner_.list(service, healthy_only, metered("list", std::move(done)));
}

void MeteredCatalog::services(Callback<std::vector<ServiceSummary>> done) {
  inner_.services(metered("services", std::move(done)));
}

WatchHandle MeteredCatalog::watch_service(const std::string& service, bool healthy_only, Index from_index,
                                          std::function<void(Result<WatchUpdate>)> on_update) {
  return inner_.watch_service(service, healthy_only, from_index, metered_watch("watch_service", std::move(on_update)));
}

WatchHandle MeteredCatalog::watch_prefix(const std::string& prefix, Index from_index,
                                         std::function<void(Result<KvUpdate>)> on_update) {
  return inner_.watch_prefix(prefix, from_index, metered_watch("watch_prefix", std::move(on_update)));
}

void MeteredCatalog::get(const std::string& key, Callback<std::optional<KvEntry>> done) {
  inner_.get(key, metered("get", std::move(done)));
}

void MeteredCatalog::put(const std::string& key, const std::string& value, Callback<Index> done) {
  inner_.put(key, value, metered("put", std::move(done)));
}

void MeteredCatalog::del(const std::string& key, Callback<void> done) {
  inner_.del(key, metered("delete", std::move(done)));
}

void MeteredCatalog::list_kv(const std::string& prefix, Callback<std::vector<KvEntry>> done) {
  inner_.list_kv(prefix, metered("list_kv", std::move(done)));
}

void MeteredCatalog::compare_and_set(const std::string& key, Index expected_mod_index, const std::string& value,
                                     Callback<std::optional<Index>> done) {
  inner_.compare_and_set(key, expected_mod_index, value, metered("compare_and_set", std::move(done)));
}

void MeteredCatalog::try_lock(const std::string& name, Duration ttl, Callback<std::unique_ptr<Lock>> done) {
  inner_.try_lock(name, ttl, metered("try_lock", std::move(done)));
}

// A lock's wait lasts as long as the holder keeps it: counted, not timed.
Handle MeteredCatalog::lock(const std::string& name, Duration ttl, Callback<std::unique_ptr<Lock>> done) {
  metrics_.catalog_requests->with({"lock"}).inc();
  return inner_.lock(name, ttl, [this, done = std::move(done)](Result<std::unique_ptr<Lock>> r) mutable {
    if (!r) metrics_.catalog_errors->with({"lock"}).inc();
    done(std::move(r));
  });
}

}  // namespace autopilot::discovery
