// MeteredCatalog: a Catalog that passes every call to another one and counts
// it in the operator metrics (metrics/operator_metrics.h): requests and
// errors by operation, and how long each took to answer. Watches count one
// request when made and an error when they fail; their deliveries are the
// watch's to count. Built only when telemetry is on, so a plain run talks to
// its catalog directly. Must be destroyed before the catalog it wraps.
#pragma once

#include "discovery/catalog.h"
#include "metrics/operator_metrics.h"
#include "os/timers.h"

namespace autopilot::discovery {

class MeteredCatalog final : public Catalog {
 public:
  // All three must outlive this.
  MeteredCatalog(Catalog& inner, metrics::OperatorMetrics& metrics, os::Timers& timers)
      : inner_(inner), metrics_(metrics), timers_(timers) {}

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
  // Counts the request now, and wraps `done` to time it and count a failure.
  template <class T>
  Callback<T> metered(const char* operation, Callback<T> done);
  // For watches: counts the request, and each failed delivery as an error.
  template <class T>
  std::function<void(Result<T>)> metered_watch(const char* operation, std::function<void(Result<T>)> on_update);

  Catalog& inner_;
  metrics::OperatorMetrics& metrics_;
  os::Timers& timers_;
};

}  // namespace autopilot::discovery
