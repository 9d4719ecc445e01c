#include "discovery/embedded/store.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>


namespace autopilot::discovery::embedded {
namespace {

constexpr size_t kMaxWarnedPaths = 1024;
constexpr std::chrono::seconds kStaleTemp{60};
constexpr std::string_view kRecordSuffix = ".json";

bool is_record_name(std::string_view name) { return !name.starts_with('.') && name.ends_with(kRecordSuffix); }

}  // namespace

Store::Store(std::string root, bool sync, os::Files& files, log::Log& log)
    : root_(std::move(root)), sync_(sync), files_(files), log_(log) {}

Result<void> Store::init() {
  // With its parents: /run/autopilot may not exist yet. The root gets
  // kDirMode whatever the umask when we make it; an existing one keeps its
  // mode (a shared group's 0775 or 2775 is the admin's choice).
  auto before = files_.stat(root_);
  bool is_new = before && !*before;
  if (auto made = files_.make_dirs(root_); !made) return made;
  // From here on, everything below the root is reached from this handle,
  // never through a link (os::Files::Dir).
  auto dir = files_.open_dir(root_);
  if (!dir) return dir.error();
  dir_ = std::move(*dir);
  if (is_new) {
    if (auto set = dir_->set_mode(kDirMode); !set) return set;
  }
  auto info = dir_->info();
  if (!info) return info.error();
  mode_t mode = info->mode;
  if ((mode & S_IWOTH) != 0) {
    log_.warn(fmt::format("catalog: {} is world-writable (mode {:04o}): any user on the host can register, "
                          "deregister or hold its locks; make it 0755 (one writer) or 0775 with a shared group",
                          root_, mode));
  }
  // The lock files are for the catalog's writers only (see lock_mode_).
  if ((mode & S_IWGRP) != 0) lock_mode_ = 0660;
  for (const char* sub : {kServices, kKv, kLocks}) {
    if (auto made = make_dir(sub); !made) return made;
  }
  return {};
}

// ROOT anew at each operation: a catalog moved away or replaced is seen as
// it was when ROOT was reached by path; below ROOT, everything goes through
// the one descriptor.
Result<void> Store::open_root() {
  auto dir = files_.open_dir(root_);
  if (!dir) return make_error(fmt::format("the catalog at {} is unavailable ({})", root_, dir.error().message));
  dir_ = std::move(*dir);
  return {};
}

// A directory below the root (its parent there already), made with
// kDirMode whatever the umask; a link in its place is refused.
Result<void> Store::make_dir(const std::string& rel) { return dir_->make_dir(rel, kDirMode); }

Result<void> Store::make_service_dir(const std::string& service) { return make_dir(service_rel(service)); }

Result<void> Store::remove_file(const std::string& rel) { return dir_->remove(rel); }

Result<std::unique_ptr<os::Files::Lock>> Store::take_lock() {
  if (auto opened = open_root(); !opened) return opened.error();
  // Its release is a close after writing: a waiter watching the root
  // (EmbeddedCatalog::run_changes) retries at once.
  auto lock = dir_->try_lock("catalog.lock", lock_mode_, true);
  if (!lock) return lock.error();
  if (!*lock) {
    Error busy = make_error(ErrorKind::kUnavailable, fmt::format("{} is held by another process", lock_path()));
    busy.code = kLockBusyCode;
    return busy;
  }
  return std::move(*lock);
}

bool Store::is_lock_busy(const Error& error) {
  return error.kind == ErrorKind::kUnavailable && error.code == kLockBusyCode;
}

// --- instances -----------------------------------------------------------------

Result<Index> Store::register_instance(const Instance& instance, std::chrono::milliseconds ttl,
                                       WallClock::time_point now) {
  if (auto opened = open_root(); !opened) return opened.error();
  auto lock = take_lock();
  if (!lock) return lock.error();
  if (auto made = make_service_dir(instance.name); !made) return made.error();
  auto revision = next_revision();
  if (!revision) return revision;
  // The id is unique catalog-wide: drop a record of it under another name.
  auto names = service_dirs();
  if (!names) return names.error();
  for (const auto& other : *names) {
    if (other == instance.name) continue;
    std::string rel = record_rel(other, instance.id);
    if (!exists(rel)) continue;
    if (auto removed = remove_file(rel); !removed) return removed.error();
    if (auto indexed = write_index(service_rel(other), *revision); !indexed) return indexed.error();
  }
  InstanceRecord record{instance, ttl, now + ttl, *revision, *revision};
  if (auto written = write_instance(record); !written) return written.error();
  if (auto indexed = write_index(service_rel(instance.name), *revision); !indexed) return indexed.error();
  return *revision;
}

Result<void> Store::heartbeat(const std::string& id, WallClock::time_point now) {
  if (auto opened = open_root(); !opened) return opened.error();
  auto lock = take_lock();
  if (!lock) return lock.error();
  auto found = find_live(id, now);
  if (!found) return found.error();
  if (!found->has_value()) return unknown_instance_error(id);
  InstanceRecord record = (*found)->record;
  record.expires = now + record.ttl;
  // Not fsynced: a renewed expiry is worth nothing after a crash of the
  // host (the instance is gone with it), and heartbeats are most of the
  // catalog's writes, each made under catalog.lock, which every other
  // change on the host then waits for: on a busy disk two fsyncs held it
  // for up to ~0.4 s. The rename is atomic all the same.
  return write_instance(record, false);
}

Result<Index> Store::set_status(const std::string& id, Status status, WallClock::time_point now) {
  if (auto opened = open_root(); !opened) return opened.error();
  auto lock = take_lock();
  if (!lock) return lock.error();
  auto found = find_live(id, now);
  if (!found) return found.error();
  if (!found->has_value()) return unknown_instance_error(id);
  InstanceRecord record = (*found)->record;
  if (record.instance.status == status) return record.mod_index;  // not a change
  auto revision = next_revision();
  if (!revision) return revision;
  record.instance.status = status;
  record.mod_index = *revision;
  if (auto written = write_instance(record); !written) return written.error();
  if (auto indexed = write_index(service_rel(record.instance.name), *revision); !indexed) return indexed.error();
  return *revision;
}

Result<void> Store::deregister(const std::string& id) {
  if (auto opened = open_root(); !opened) return opened.error();
  auto lock = take_lock();
  if (!lock) return lock.error();
  auto names = service_dirs();
  if (!names) return names.error();
  for (const auto& service : *names) {
    std::string rel = record_rel(service, id);
    if (!exists(rel)) continue;
    auto revision = next_revision();
    if (!revision) return revision.error();
    if (auto removed = remove_file(rel); !removed) return removed;
    if (auto indexed = write_index(service_rel(service), *revision); !indexed) return indexed;
  }
  return {};
}

Result<void> Store::require_dir(const std::string& rel) const {
  auto info = dir_->stat(rel);
  if (info && *info && (*info)->kind == os::FileKind::kDirectory) return {};
  std::string dir = root_ + "/" + rel;
  if (!info) return make_error(fmt::format("the catalog at {} is unavailable ({})", root_, info.error().message));
  if (!*info) return make_error(fmt::format("the catalog at {} is unavailable ({} is missing)", root_, dir));
  if ((*info)->kind == os::FileKind::kSymlink)
    return make_error(fmt::format("the catalog at {} is unavailable ({} is a symbolic link: refused)", root_, dir));
  return make_error(fmt::format("the catalog at {} is unavailable ({} is not a directory)", root_, dir));
}

Result<ServiceSnapshot> Store::read_service(const std::string& service, WallClock::time_point now) {
  if (auto opened = open_root(); !opened) return opened.error();
  if (auto present = require_dir(kServices); !present) return present.error();
  ServiceSnapshot snapshot;
  std::string dir = service_rel(service);
  snapshot.index = read_index_file(dir + "/.index");  // before the records: see store.h
  auto names = list_dir(dir);
  if (!names && names.error().code == os::kRefusedLink) {
    skip(root_ + "/" + dir, names.error().message);  // a planted link: nothing of it is read
    return snapshot;
  }
  if (!names) return names.error();
  for (const auto& name : *names) {
    if (!is_record_name(name)) continue;
    auto record = load_instance(service, name);
    if (!record) continue;
    if (!record->is_live(now)) {
      snapshot.has_expired = true;
      continue;
    }
    if (!snapshot.next_expiry || record->expires < *snapshot.next_expiry) snapshot.next_expiry = record->expires;
    snapshot.live.push_back(std::move(*record));
  }
  std::sort(snapshot.live.begin(), snapshot.live.end(),
            [](const auto& a, const auto& b) { return a.instance.id < b.instance.id; });
  return snapshot;
}

Result<std::vector<std::string>> Store::service_dirs() {
  if (auto opened = open_root(); !opened) return opened.error();
  if (auto present = require_dir(kServices); !present) return present.error();
  auto names = list_dir(kServices);
  if (!names) return names;
  std::erase_if(*names, [](const std::string& n) { return !validate_service_name(n).ok(); });
  std::sort(names->begin(), names->end());
  return names;
}

Result<size_t> Store::sweep_service(const std::string& service, WallClock::time_point now) {
  if (auto opened = open_root(); !opened) return opened.error();
  std::string dir = service_rel(service);
  auto names = list_dir(dir);
  if (!names) return names.error();
  remove_stale_temps(dir, *names);
  std::vector<std::string> expired;
  for (const auto& name : *names) {
    if (!is_record_name(name)) continue;
    auto record = load_instance(service, name);
    if (record && !record->is_live(now)) expired.push_back(name);
  }
  if (expired.empty()) return size_t{0};
  auto lock = take_lock();
  if (!lock) return lock.error();
  size_t removed = 0;
  for (const auto& name : expired) {
    // A heartbeat may have renewed it since we looked.
    auto record = load_instance(service, name);
    if (!record || record->is_live(now)) continue;
    auto revision = next_revision();
    if (!revision) return revision.error();
    if (auto gone = remove_file(dir + "/" + name); !gone) return gone.error();
    if (auto indexed = write_index(dir, *revision); !indexed) return indexed.error();
    ++removed;
  }
  return removed;
}

// --- helpers -------------------------------------------------------------------

Result<Index> Store::next_revision() {
  Index next = read_index_file("revision") + 1;
  if (auto written = write_file("revision", std::to_string(next)); !written) return written.error();
  return next;
}

Result<void> Store::write_instance(const InstanceRecord& record, bool durable) {
  return write_file(record_rel(record.instance.name, record.instance.id), encode_instance(record), durable);
}

Result<void> Store::write_index(const std::string& dir, Index index) {
  return write_file(dir + "/.index", std::to_string(index));
}

Result<void> Store::write_file(const std::string& rel, const std::string& content, bool durable) {
  return dir_->write_atomic(rel, content, {.mode = 0644, .durable = sync_ && durable});
}

// Names in the directory `rel`; an absent one is empty.
Result<std::vector<std::string>> Store::list_dir(const std::string& rel) {
  auto names = dir_->list(rel);
  if (!names && names.error().code == os::kNotFound) return std::vector<std::string>();
  return names;
}

// The content of a record or index file, or nullopt if it does not exist.
// Refuses symlinks, non-regular files and files larger than kMaxRecordBytes.
Result<std::optional<std::string>> Store::read_record_file(const std::string& rel) {
  auto text = dir_->read(rel, kMaxRecordBytes);
  if (!text) {
    if (text.error().code == os::kNotFound) return std::optional<std::string>();
    return text.error();
  }
  return std::optional<std::string>(std::move(*text));
}

// An index stored as decimal text (0 when absent or unreadable: such files
// are only ever written atomically, so they are never torn).
Index Store::read_index_file(const std::string& rel) {
  auto content = read_record_file(rel);
  if (!content || !content->has_value()) return 0;
  return parse_index(**content);
}

bool Store::exists(const std::string& rel) {
  auto info = dir_->stat(rel);
  return info && info->has_value();
}

Result<std::optional<Store::Found>> Store::find_live(const std::string& id, WallClock::time_point now) {
  auto names = service_dirs();
  if (!names) return names.error();
  for (const auto& service : *names) {
    auto record = load_instance(service, id + std::string(kRecordSuffix));
    if (record && record->is_live(now)) return std::optional<Found>(Found{service, std::move(*record)});
  }
  return std::optional<Found>();
}

std::optional<InstanceRecord> Store::load_instance(const std::string& service, const std::string& file) {
  std::string rel = service_rel(service) + "/" + file;
  std::string path = root_ + "/" + rel;
  auto text = read_record_file(rel);
  if (!text) {
    skip(path, text.error().message);
    return std::nullopt;
  }
  if (!text->has_value()) return std::nullopt;  // gone since we listed it
  auto record = decode_instance(**text);
  if (!record) {
    skip(path, record.error().message);
    return std::nullopt;
  }
  if (record->instance.name != service || record->instance.id + std::string(kRecordSuffix) != file) {
    skip(path, "name or id does not match the file's path");
    return std::nullopt;
  }
  warned_.erase(path);
  return std::move(*record);
}

void Store::skip(const std::string& path, const std::string& why) {
  ++skipped_;
  if (warned_.size() >= kMaxWarnedPaths || !warned_.insert(path).second) return;
  log_.warn(fmt::format("catalog: skipping malformed record {}: {}", path, why));
}

void Store::remove_stale_temps(const std::string& dir, const std::vector<std::string>& names) {
  auto cutoff = WallClock::now() - kStaleTemp;
  for (const auto& name : names) {
    if (!os::is_temp_name(name)) continue;
    std::string rel = dir + "/" + name;
    auto info = dir_->stat(rel);
    if (!info || !*info) continue;
    if ((*info)->mtime < cutoff) (void)remove_file(rel);  // a writer died mid-write
  }
}

}  // namespace autopilot::discovery::embedded
