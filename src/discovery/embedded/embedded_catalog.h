// EmbeddedCatalog: the default Catalog, for one host and no server. Every
// autopilot on the host (or every container sharing the volume) opens the
// same directory (default /run/autopilot/catalog); the layout and the
// consistency rules are in store.h.
//
// Contract, beyond catalog.h:
// - File I/O runs synchronously on the loop thread at call time (small files
//   on a local, usually tmpfs, file system); results are then posted to the
//   loop. Nothing waits for a flock: a change (register, heartbeat, status,
//   deregister, put, del, CAS) that finds catalog.lock held by another
//   process is queued and retried every lock_retry_interval, in call order,
//   up to catalog_lock_timeout, and at once when the root's watch sees a
//   holder let go (our holders close a write descriptor of the lock file
//   after releasing it); then it fails, and the holder (pid and
//   command, when /proc tells) is named in the log and the error. A process
//   that holds the lock for long freezes only the catalog's writes, never
//   our loop (signals, reaping, timers go on).
// - Instance expiry uses the wall clock (records are shared across
//   processes). Readers ignore expired records; a sweeper deletes them
//   (at every rescan, and at the next expiry of a watched service), which
//   is the change watchers see.
// - Watches are woken by directory watches (os::Files::watch: inotify) on
//   the watched service directories and kv/, by our own writes, by expiry
//   timers and by a periodic rescan (rescan_interval; the only source when
//   use_inotify is false or the first watch fails). Each wake-up re-reads
//   the woken sets, coalesced to once per loop turn, and a watch is called
//   only when its set actually changed.
// - Locks are flock(2) on locks/NAME.lock through a separate open file
//   description per lock, so two holders in one process also exclude each
//   other and the kernel frees the lock when the holder dies. A forked child
//   that does not exec shares the parent's held locks: do not fork while
//   holding one (fork+exec is fine: the fds are O_CLOEXEC). Waiters retry on
//   inotify (a holder's close) and every lock_retry_interval.
// - Destroy it on the loop thread before the io_context, the Timers and the
//   Files; no callback runs afterwards. Held Lock handles stay valid on their own.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/lifetime.h"
#include "discovery/callbacks.h"
#include "discovery/catalog.h"
#include "discovery/embedded/store.h"
#include "log/log.h"
#include "os/files.h"
#include "os/timers.h"

namespace autopilot::discovery::embedded {

struct EmbeddedOptions {
  std::string dir = "/run/autopilot/catalog";
  bool use_inotify = true;
  std::chrono::milliseconds rescan_interval{2000};
  std::chrono::milliseconds lock_retry_interval{100};
  // How long a change waits for catalog.lock held by another process, and
  // after how long of waiting that is logged (a warning naming the holder).
  std::chrono::milliseconds catalog_lock_timeout{10000};
  std::chrono::milliseconds lock_wait_warning{1000};
  bool fsync = true;  // fsync every file before it is renamed into place
  // The wall clock records' expiry is measured on; tests may shift it.
  std::function<WallClock::time_point()> wall_clock = [] { return WallClock::now(); };
};

class EmbeddedCatalog : public Catalog {
 public:
  // Creates the directory tree (with missing parents) and starts watching
  // it (falling back to rescans alone, with one warning, if that fails).
  // Every file operation goes through `files`, except the flock(2)s of
  // catalog.lock and of the locks. Errors: the mkdir that failed, with its path.
  static Result<std::unique_ptr<EmbeddedCatalog>> open(EmbeddedOptions options, boost::asio::io_context& io,
                                                       os::Timers& timers, os::Files& files, log::Log& log);
  ~EmbeddedCatalog() override;

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

  // Record files skipped as malformed so far.
  std::uint64_t skipped_records_for_test() const { return store_.skipped_records(); }
  bool is_using_inotify() const { return inotify_ok_; }

 private:
  EmbeddedCatalog(EmbeddedOptions options, boost::asio::io_context& io, os::Timers& timers, os::Files& files,
                  log::Log& log);
  struct ServiceWatch {
    std::string service;
    bool healthy_only;
    Index from_index;
    std::function<void(Result<WatchUpdate>)> on_update;
    std::optional<std::vector<Instance>> last;  // the set the watcher has (or is assumed to have)
    Index last_index = 0;
  };

  struct PrefixWatch {
    std::string prefix;
    Index from_index;
    std::function<void(Result<KvUpdate>)> on_update;
    std::optional<std::vector<KvEntry>> last;
    Index last_index = 0;
  };

  struct LockWait {
    std::string name;
    Callback<std::unique_ptr<Lock>> done;
  };

  Result<void> start();
  template <class T>
  void complete(Callback<T> done, Result<T> result);
  // Runs `op` (a Store change, which takes catalog.lock) now, or queued
  // behind earlier changes while the lock is busy; `done` gets its result.
  template <class T>
  void change(std::function<Result<T>()> op, Callback<T> done);
  enum class Attempt { kDone, kBusy };
  void run_changes();
  void watch_lock_release();
  std::string lock_holder_note() const;

  // Watch machinery (embedded_watch.cc).
  void on_dir_changed(const std::string& dir);
  void mark_service(const std::string& service);
  void mark_all();
  void schedule_evaluate();
  void evaluate();
  void evaluate_service(const std::string& service);
  void evaluate_kv();
  void arm_expiry_timer();
  void rescan();
  void watch_dir(const std::string& dir);
  void retry_lock_waits();
  std::unique_ptr<Lock> try_take(const std::string& name, Result<void>& error);

  EmbeddedOptions options_;
  boost::asio::io_context& io_;
  os::Timers& timers_;
  os::Files& files_;
  log::Log& log_;
  Store store_;
  std::map<std::string, std::unique_ptr<os::Files::Watch>> dir_watches_;
  bool inotify_ok_ = false;

  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<ServiceWatch>> service_watches_;
  std::map<std::uint64_t, std::unique_ptr<PrefixWatch>> prefix_watches_;
  std::map<std::uint64_t, std::unique_ptr<LockWait>> lock_waits_;
  std::set<std::string> dirty_services_;
  bool kv_dirty_ = false;
  bool evaluate_posted_ = false;
  std::map<std::string, WallClock::time_point> next_expiry_;  // per watched service
  // Changes waiting for catalog.lock, oldest first; the argument says the
  // wait is over (fail rather than report busy).
  std::deque<std::function<Attempt(bool give_up)>> changes_;
  std::optional<os::Clock::time_point> lock_busy_since_;  // while another process holds catalog.lock
  bool lock_wait_logged_ = false;                         // this wait has been warned of
  std::unique_ptr<os::Files::Watch> lock_watch_;          // the root, while changes wait for catalog.lock
  os::Timer change_timer_{timers_};
  os::Timer expiry_timer_{timers_}, rescan_timer_{timers_}, lock_timer_{timers_};
  Lifetime lifetime_;  // last: ends our posts, results and handles' cancels
};

// Delivers `result` to `done` from the loop, unless we are destroyed first.
template <class T>
void EmbeddedCatalog::complete(Callback<T> done, Result<T> result) {
  post_result(io_, lifetime_, std::move(done), std::move(result));
}

template <class T>
void EmbeddedCatalog::change(std::function<Result<T>()> op, Callback<T> done) {
  changes_.push_back([this, op = std::move(op), done = std::move(done)](bool give_up) mutable {
    Result<T> result = op();
    if (!result && Store::is_lock_busy(result.error())) {
      if (!give_up) return Attempt::kBusy;
      result.error().message = fmt::format("catalog: gave up after {}ms waiting for {}{}",
                                           options_.catalog_lock_timeout.count(), store_.lock_path(),
                                           lock_holder_note());
    }
    complete(std::move(done), std::move(result));
    return Attempt::kDone;
  });
  if (changes_.size() == 1) run_changes();
}

}  // namespace autopilot::discovery::embedded
