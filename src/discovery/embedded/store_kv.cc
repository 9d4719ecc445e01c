// The KV half of Store (see store.h for the layout and ordering rules).
#include <fmt/format.h>

#include <algorithm>

#include "discovery/embedded/store.h"

namespace autopilot::discovery::embedded {
namespace {

constexpr size_t kMaxFileName = 255;  // NAME_MAX on Linux file systems

}  // namespace

Result<std::optional<KvEntry>> Store::get(const std::string& key) {
  if (auto opened = open_root(); !opened) return opened.error();
  return load_kv(key);
}

Result<Index> Store::put(const std::string& key, const std::string& value) {
  if (auto opened = open_root(); !opened) return opened.error();
  auto lock = take_lock();
  if (!lock) return lock.error();
  auto old = load_kv(key);
  if (!old) return old.error();
  return write_kv(key, value, *old);
}

Result<void> Store::del(const std::string& key) {
  if (auto opened = open_root(); !opened) return opened.error();
  auto lock = take_lock();
  if (!lock) return lock.error();
  auto old = load_kv(key);
  if (!old) return old.error();
  if (!old->has_value()) return {};
  auto revision = next_revision();
  if (!revision) return revision.error();
  if (auto removed = remove_file(kv_rel(key)); !removed) return removed;
  return write_index(kKv, *revision);
}

Result<KvSnapshot> Store::list_kv(const std::string& prefix) {
  if (auto opened = open_root(); !opened) return opened.error();
  if (auto present = require_dir(kKv); !present) return present.error();
  KvSnapshot snapshot;
  snapshot.index = read_index_file(std::string(kKv) + "/.index");  // before the entries: see store.h
  auto names = list_dir(kKv);
  if (!names) return names.error();
  for (const auto& name : *names) {
    auto key = decode_key(name);
    if (!key || !key->starts_with(prefix)) continue;
    auto entry = load_kv(*key);
    if (entry && entry->has_value()) snapshot.entries.push_back(std::move(**entry));
  }
  std::sort(snapshot.entries.begin(), snapshot.entries.end(),
            [](const KvEntry& a, const KvEntry& b) { return a.key < b.key; });
  return snapshot;
}

Result<std::optional<Index>> Store::compare_and_set(const std::string& key, Index expected, const std::string& value) {
  if (auto opened = open_root(); !opened) return opened.error();
  auto lock = take_lock();
  if (!lock) return lock.error();
  auto old = load_kv(key);
  if (!old) return old.error();
  Index current = old->has_value() ? (*old)->mod_index : 0;
  if (current != expected) return std::optional<Index>();
  auto written = write_kv(key, value, *old);
  if (!written) return written.error();
  return std::optional<Index>(*written);
}

// Reads one entry; a malformed file counts as absent (and is warned about
// once). Safe without the lock: entries are only ever renamed into place.
Result<std::optional<KvEntry>> Store::load_kv(const std::string& key) {
  // Every KV operation comes through here first. The temp file's name is
  // longer than the encoded key.
  if (os::temp_name(encode_key(key)).size() > kMaxFileName) {
    return make_error(fmt::format("key \"{}\" is too long once encoded as a file name", key));
  }
  std::string path = kv_dir() + "/" + encode_key(key);
  auto text = read_record_file(kv_rel(key));
  if (!text) {
    skip(path, text.error().message);
    return std::optional<KvEntry>();
  }
  if (!text->has_value()) return std::optional<KvEntry>();
  auto entry = decode_kv(**text);
  if (!entry || entry->key != key) {
    skip(path, entry ? "key does not match the file name" : entry.error().message);
    return std::optional<KvEntry>();
  }
  warned_.erase(path);
  return std::optional<KvEntry>(std::move(*entry));
}

Result<Index> Store::write_kv(const std::string& key, const std::string& value, const std::optional<KvEntry>& old) {
  auto revision = next_revision();
  if (!revision) return revision;
  KvEntry entry{key, value, old ? old->create_index : *revision, *revision};
  auto text = encode_kv(entry);
  if (!text) return text.error();
  if (auto written = write_file(kv_rel(key), *text); !written) return written.error();
  if (auto indexed = write_index(kKv, *revision); !indexed) return indexed.error();
  return *revision;
}

}  // namespace autopilot::discovery::embedded
