// Store: the embedded catalog's directory, operated synchronously. The
// layout, shared by every autopilot on the host:
//
//   ROOT/catalog.lock               flock'ed around every change (never waited
//                                   for: a change finds it busy and is retried)
//   ROOT/revision                   the catalog revision (last index handed out)
//   ROOT/services/NAME/ID.json      one instance record (records.h)
//   ROOT/services/NAME/.index       revision of the last change to NAME's set
//   ROOT/kv/ENCODED.kv              one KV entry (records.h encode_key)
//   ROOT/kv/.index                  revision of the last KV change
//   ROOT/locks/NAME.lock            flock'ed by a lock's holder
//
// Every file is replaced with os::Files::write_atomic (mode 0644: records
// are read by other users' autopilots too), never written in place, so a
// reader without the lock sees whole records. A change takes catalog.lock,
// bumps `revision`, writes the record, then the .index of its set; a reader
// reads the .index first and the records after, so the index it reports is
// never newer than the records it saw (a resumed watch misses nothing).
// Heartbeats rewrite the record with a later expiry but are not changes:
// they keep the indexes.
//
// Records that do not parse or validate, or whose name/id disagree with
// their path, are skipped; each such path is warned about once. Nothing
// below ROOT is reached through a symbolic link (the directory is shared):
// ROOT is opened once (os::Files::Dir) and every read, write, removal,
// directory and lock below it is reached from that descriptor one name at a
// time with O_NOFOLLOW (openat, mkdirat, renameat, unlinkat), so a link
// planted at ROOT/services or at a record is refused, never followed, and
// there is no window between a check and the use. The trust model: whoever
// may write ROOT may change the catalog (docs/design.md, "catalog trust model").
// Directories are made 0755 and files 0644 whatever the umask, lock files
// 0600 (0660 under a group-writable ROOT).
// Not thread-safe; one Store per EmbeddedCatalog.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "discovery/catalog.h"
#include "discovery/embedded/records.h"
#include "log/log.h"
#include "os/files.h"

namespace autopilot::discovery::embedded {

struct ServiceSnapshot {
  Index index = 0;
  std::vector<InstanceRecord> live;                  // sorted by id
  bool has_expired = false;                          // some records are expired, not yet swept
  std::optional<WallClock::time_point> next_expiry;  // earliest among `live`
};

struct KvSnapshot {
  Index index = 0;
  std::vector<KvEntry> entries;  // sorted by key
};

class Store {
 public:
  // `sync`: fsync every file before it is renamed into place (except a
  // heartbeat's record: see heartbeat()).
  Store(std::string root, bool sync, os::Files& files, log::Log& log);

  // Creates ROOT (with its parents) and its subdirectories, each new one
  // kDirMode whatever the umask, and opens ROOT for everything that follows;
  // warns when ROOT is world-writable; refuses a symbolic link in place of a
  // subdirectory. Called once, before anything else.
  Result<void> init();
  // services/SERVICE, made if missing (as init's).
  Result<void> make_service_dir(const std::string& service);
  static constexpr mode_t kDirMode = 0755;

  Result<Index> register_instance(const Instance& instance, std::chrono::milliseconds ttl, WallClock::time_point now);
  Result<void> heartbeat(const std::string& id, WallClock::time_point now);
  Result<Index> set_status(const std::string& id, Status status, WallClock::time_point now);
  Result<void> deregister(const std::string& id);

  Result<ServiceSnapshot> read_service(const std::string& service, WallClock::time_point now);
  // Directories under services/ with a valid name, live or not, sorted.
  Result<std::vector<std::string>> service_dirs();
  // Deletes expired records of `service` (each re-checked under the lock) and
  // stale temp files; returns how many records went.
  Result<size_t> sweep_service(const std::string& service, WallClock::time_point now);

  Result<std::optional<KvEntry>> get(const std::string& key);
  Result<Index> put(const std::string& key, const std::string& value);
  Result<void> del(const std::string& key);
  Result<KvSnapshot> list_kv(const std::string& prefix);
  Result<std::optional<Index>> compare_and_set(const std::string& key, Index expected, const std::string& value);

  // Whether `error` (from a change) means catalog.lock is held by another
  // process: nothing was changed, and the same call may be made again later.
  static bool is_lock_busy(const Error& error);
  std::string lock_path() const { return root_ + "/catalog.lock"; }
  // Takes the lock file locks/NAME.lock if it is free (nullptr when held),
  // reached as every other file (no link followed); releasing it wakes the
  // watches of locks/.
  Result<std::unique_ptr<os::Files::Lock>> try_lock_file(const std::string& name) {
    if (auto opened = open_root(); !opened) return opened.error();
    return dir_->try_lock(std::string(kLocks) + "/" + name + ".lock", lock_mode_, true);
  }
  // The mode lock files are made with (locks/ and catalog.lock): 0600, or
  // 0660 when the catalog root is group-writable (a group of writers sharing
  // a volume). Nobody outside the writers can open them, so nobody can hold
  // them to freeze the writers.
  mode_t lock_mode() const { return lock_mode_; }

  const std::string& root() const { return root_; }
  std::string services_dir() const { return root_ + "/services"; }
  // Fails when `rel` (services or kv, made by init) has vanished or is not
  // a directory: the catalog is unavailable, which readers must not take
  // for "empty".
  Result<void> require_dir(const std::string& rel) const;
  std::string service_dir(const std::string& service) const { return root_ + "/services/" + service; }
  std::string kv_dir() const { return root_ + "/kv"; }
  std::string locks_dir() const { return root_ + "/locks"; }

  // Record files skipped as malformed so far (each read counts).
  std::uint64_t skipped_records() const { return skipped_; }

 private:
  struct Found {
    std::string service;
    InstanceRecord record;
  };
  static constexpr int kLockBusyCode = 11;  // EWOULDBLOCK, in Error::code
  // The subdirectories, relative to ROOT as every path given to dir_.
  static constexpr const char* kServices = "services";
  static constexpr const char* kKv = "kv";
  static constexpr const char* kLocks = "locks";
  static std::string service_rel(const std::string& service) { return std::string(kServices) + "/" + service; }
  static std::string record_rel(const std::string& service, const std::string& id) {
    return service_rel(service) + "/" + id + ".json";
  }
  static std::string kv_rel(const std::string& key) { return std::string(kKv) + "/" + encode_key(key); }
  Result<std::unique_ptr<os::Files::Lock>> take_lock();
  // Callers hold catalog.lock.
  Result<Index> next_revision();
  Result<void> write_instance(const InstanceRecord& record, bool durable = true);
  Result<void> write_index(const std::string& dir, Index index);
  Result<std::optional<Found>> find_live(const std::string& id, WallClock::time_point now);
  Result<std::optional<KvEntry>> load_kv(const std::string& key);
  Result<Index> write_kv(const std::string& key, const std::string& value, const std::optional<KvEntry>& old);

  Result<void> open_root();
  // Paths relative to ROOT, reached through dir_.
  Result<void> make_dir(const std::string& rel);
  Result<void> remove_file(const std::string& rel);
  Result<void> write_file(const std::string& rel, const std::string& content, bool durable = true);
  Result<std::vector<std::string>> list_dir(const std::string& rel);
  Result<std::optional<std::string>> read_record_file(const std::string& rel);
  Index read_index_file(const std::string& rel);
  bool exists(const std::string& rel);
  std::optional<InstanceRecord> load_instance(const std::string& service, const std::string& file);
  void skip(const std::string& path, const std::string& why);
  void remove_stale_temps(const std::string& dir, const std::vector<std::string>& names);

  std::string root_;
  bool sync_;
  os::Files& files_;
  std::unique_ptr<os::Files::Dir> dir_;  // ROOT, opened anew by each operation
  log::Log& log_;
  std::set<std::string> warned_;  // paths warned about, bounded
  std::uint64_t skipped_ = 0;
  mode_t lock_mode_ = 0600;
};

}  // namespace autopilot::discovery::embedded
