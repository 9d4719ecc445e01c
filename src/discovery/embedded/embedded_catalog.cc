// The operations of EmbeddedCatalog: validate, run the Store call, post the
// result. Watches and locks are in embedded_watch.cc.
#include "discovery/embedded/embedded_catalog.h"

#include <fmt/format.h>

#include "discovery/embedded/file_lock.h"

namespace autopilot::discovery::embedded {

EmbeddedCatalog::EmbeddedCatalog(EmbeddedOptions options, boost::asio::io_context& io, os::Timers& timers,
                                 os::Files& files, log::Log& log)
    : options_(std::move(options)),
      io_(io),
      timers_(timers),
      files_(files),
      log_(log),
      store_(options_.dir, options_.fsync, files, log) {}

Result<std::unique_ptr<EmbeddedCatalog>> EmbeddedCatalog::open(EmbeddedOptions options, boost::asio::io_context& io,
                                                               os::Timers& timers, os::Files& files, log::Log& log) {
  std::unique_ptr<EmbeddedCatalog> catalog(new EmbeddedCatalog(std::move(options), io, timers, files, log));
  if (auto started = catalog->start(); !started) return started.error();
  return catalog;
}

EmbeddedCatalog::~EmbeddedCatalog() = default;

Result<void> EmbeddedCatalog::start() {
  if (auto made = store_.init(); !made) return made;
  inotify_ok_ = options_.use_inotify;
  watch_dir(store_.locks_dir());  // the first: when it fails, they all would
  watch_dir(store_.kv_dir());
  rescan_timer_.after(options_.rescan_interval, [this] { rescan(); });
  return {};
}

namespace {

Result<std::chrono::milliseconds> to_ttl(Duration ttl) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(ttl);
  if (ms.count() <= 0) return make_error("ttl must be positive");
  if (ms > kMaxTtl) return make_error("ttl is too large (at most 100 years)");
  return ms;
}

Result<void> drop_value(const Result<Index>& r) { return r ? Result<void>() : Result<void>(r.error()); }

}  // namespace

// --- instances -----------------------------------------------------------------

void EmbeddedCatalog::register_instance(Instance instance, Duration ttl, Callback<void> done) {
  auto valid = validate_instance(instance);
  auto ms = to_ttl(ttl);
  if (!valid || !ms) return complete(std::move(done), valid ? Result<void>(ms.error()) : valid);
  change<void>(
      [this, instance = std::move(instance), ms = *ms] {
        auto registered = store_.register_instance(instance, ms, options_.wall_clock());
        mark_all();  // the id may have moved from another service
        return drop_value(registered);
      },
      std::move(done));
}

void EmbeddedCatalog::heartbeat(const std::string& id, Callback<void> done) {
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  change<void>([this, id] { return store_.heartbeat(id, options_.wall_clock()); }, std::move(done));
}

void EmbeddedCatalog::set_status(const std::string& id, Status status, Callback<void> done) {
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  change<void>(
      [this, id, status] {
        auto changed = store_.set_status(id, status, options_.wall_clock());
        mark_all();
        return drop_value(changed);
      },
      std::move(done));
}

void EmbeddedCatalog::deregister(const std::string& id, Callback<void> done) {
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  change<void>(
      [this, id] {
        auto removed = store_.deregister(id);
        mark_all();
        return removed;
      },
      std::move(done));
}

void EmbeddedCatalog::list(const std::string& service, bool healthy_only, Callback<std::vector<Instance>> done) {
  if (auto valid = validate_service_name(service); !valid) {
    return complete(std::move(done), Result<std::vector<Instance>>(valid.error()));
  }
  auto snapshot = store_.read_service(service, options_.wall_clock());
  if (!snapshot) return complete(std::move(done), Result<std::vector<Instance>>(snapshot.error()));
  std::vector<Instance> out;
  for (auto& record : snapshot->live) {
    if (!healthy_only || is_healthy(record.instance.status)) out.push_back(std::move(record.instance));
  }
  complete(std::move(done), Result<std::vector<Instance>>(std::move(out)));
}

void EmbeddedCatalog::services(Callback<std::vector<ServiceSummary>> done) {
  auto dirs = store_.service_dirs();
  if (!dirs) return complete(std::move(done), Result<std::vector<ServiceSummary>>(dirs.error()));
  std::vector<Instance> live;
  auto now = options_.wall_clock();
  for (const auto& name : *dirs) {
    auto snapshot = store_.read_service(name, now);
    if (!snapshot) continue;
    for (const auto& record : snapshot->live) live.push_back(record.instance);
  }
  complete(std::move(done), Result<std::vector<ServiceSummary>>(summarize(live)));
}

// --- waiting for catalog.lock ----------------------------------------------------

void EmbeddedCatalog::run_changes() {
  change_timer_.cancel();
  while (!changes_.empty()) {
    bool give_up = lock_busy_since_ && timers_.now() - *lock_busy_since_ >= options_.catalog_lock_timeout;
    if (changes_.front()(give_up) == Attempt::kBusy) {
      // Waits of a few milliseconds are the normal sharing of the catalog
      // between the host's autopilots: only a long one is worth a warning.
      if (!lock_busy_since_) {
        lock_busy_since_ = timers_.now();
      } else if (!lock_wait_logged_ && timers_.now() - *lock_busy_since_ >= options_.lock_wait_warning) {
        lock_wait_logged_ = true;
        log_.warn(fmt::format("catalog: {} is busy{}; changes wait for it (up to {}ms)", store_.lock_path(),
                              lock_holder_note(), options_.catalog_lock_timeout.count()));
      }
      watch_lock_release();
      change_timer_.after(options_.lock_retry_interval, [this] { run_changes(); });
      return;
    }
    changes_.pop_front();
    // A change that gave up leaves lock_busy_since_ set: the next ones get
    // one attempt each until the lock is free again.
    if (!give_up && lock_busy_since_) {
      if (lock_wait_logged_) log_.info(fmt::format("catalog: {} is free again", store_.lock_path()));
      lock_busy_since_.reset();
      lock_wait_logged_ = false;
    }
  }
  lock_watch_.reset();
}

// While changes wait, a release of catalog.lock (a close after writing, in
// the root) retries them at once rather than at the next lock_retry_interval:
// under a busy disk a holder's fsyncs make the waits frequent. The watch is
// dropped once nothing waits, so other processes' writes wake nobody.
void EmbeddedCatalog::watch_lock_release() {
  if (lock_watch_ || !inotify_ok_) return;
  auto watched = files_.watch(store_.root(), [this](const std::string&) {
    if (!changes_.empty()) change_timer_.after(Duration{0}, [this] { run_changes(); });
  });
  if (watched) lock_watch_ = std::move(*watched);  // else the retries alone, as without inotify
}

std::string EmbeddedCatalog::lock_holder_note() const {
  std::string holder = describe_lock_holder(store_.lock_path());
  return holder.empty() ? std::string(", held by another process") : ", held by " + holder;
}

// --- KV --------------------------------------------------------------------------

void EmbeddedCatalog::get(const std::string& key, Callback<std::optional<KvEntry>> done) {
  if (auto valid = validate_key(key); !valid) {
    return complete(std::move(done), Result<std::optional<KvEntry>>(valid.error()));
  }
  complete(std::move(done), store_.get(key));
}

void EmbeddedCatalog::put(const std::string& key, const std::string& value, Callback<Index> done) {
  if (auto valid = validate_key(key); !valid) return complete(std::move(done), Result<Index>(valid.error()));
  change<Index>(
      [this, key, value] {
        auto written = store_.put(key, value);
        kv_dirty_ = true;
        schedule_evaluate();
        return written;
      },
      std::move(done));
}

void EmbeddedCatalog::del(const std::string& key, Callback<void> done) {
  if (auto valid = validate_key(key); !valid) return complete(std::move(done), valid);
  change<void>(
      [this, key] {
        auto removed = store_.del(key);
        kv_dirty_ = true;
        schedule_evaluate();
        return removed;
      },
      std::move(done));
}

void EmbeddedCatalog::list_kv(const std::string& prefix, Callback<std::vector<KvEntry>> done) {
  if (!prefix.empty()) {
    if (auto valid = validate_key(prefix); !valid) {
      return complete(std::move(done), Result<std::vector<KvEntry>>(valid.error()));
    }
  }
  auto snapshot = store_.list_kv(prefix);
  if (!snapshot) return complete(std::move(done), Result<std::vector<KvEntry>>(snapshot.error()));
  complete(std::move(done), Result<std::vector<KvEntry>>(std::move(snapshot->entries)));
}

void EmbeddedCatalog::compare_and_set(const std::string& key, Index expected_mod_index, const std::string& value,
                                      Callback<std::optional<Index>> done) {
  if (auto valid = validate_key(key); !valid) {
    return complete(std::move(done), Result<std::optional<Index>>(valid.error()));
  }
  change<std::optional<Index>>(
      [this, key, expected_mod_index, value] {
        auto written = store_.compare_and_set(key, expected_mod_index, value);
        kv_dirty_ = true;
        schedule_evaluate();
        return written;
      },
      std::move(done));
}

}  // namespace autopilot::discovery::embedded
