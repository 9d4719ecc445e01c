#include "render/catalog_cache.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "tmplfuncs/records.h"

namespace autopilot::render {

using discovery::Instance;
using discovery::KvEntry;
using tmplfuncs::ServiceQuery;

CatalogCache::CatalogCache(const Wiring& wiring, Options options, std::string name, std::function<void()> changed)
    : wiring_(wiring), options_(options), name_(std::move(name)), changed_(std::move(changed)) {}

CatalogCache::~CatalogCache() {
  for (auto& [q, e] : services_) cancel(e);
  for (auto& [p, e] : kv_) cancel(e);
}

bool CatalogCache::failing() const {
  if (list_failed_) return true;
  for (const auto& [q, e] : services_)
    if (e.failed) return true;
  for (const auto& [p, e] : kv_)
    if (e.failed) return true;
  return false;
}

// The records are built on the first read after a delivery and then shared
// by every `service` call of every pass until the next delivery.
std::optional<tmpl::Value> CatalogCache::service(const ServiceQuery& q) {
  auto [it, fresh] = services_.try_emplace(q, wiring_.timers);
  ServiceEntry& e = it->second;
  if (fresh) watch_service(it->first, e);
  if (!e.data) {
    missed_ = true;
    return std::nullopt;
  }
  if (!e.records) e.records = tmplfuncs::instance_list(*e.data);
  return *e.records;
}

const std::vector<discovery::ServiceSummary>* CatalogCache::services() {
  if (!list_used_) {
    list_used_ = true;
    refresh_list();
  }
  if (!list_) {
    missed_ = true;
    return nullptr;
  }
  return &*list_;
}

const std::vector<KvEntry>* CatalogCache::kv(const std::string& prefix) {
  auto [it, fresh] = kv_.try_emplace(prefix, wiring_.timers);
  if (fresh) watch_prefix(it->first, it->second);
  if (!it->second.data) {
    missed_ = true;
    return nullptr;
  }
  return &*it->second.data;
}

std::optional<std::string> CatalogCache::env(const std::string& name) {
  return wiring_.env ? wiring_.env(name) : std::nullopt;
}

// A file read by a pass is checked (inode, size, mtime; through symlinks)
// whenever inotify reports a change in its directory, and every
// files_refresh, as consul-template polls it, for what inotify cannot see
// (a symlink into another directory, a network file system). A change
// renders again.
Result<std::string> CatalogCache::file(const std::string& path) {
  auto [it, fresh] = files_.try_emplace(path);
  if (fresh) {
    it->second = stamp_of(path);
    follow_directory_of(path);
    if (!files_timer_.is_pending()) check_files_later();
  }
  auto text = wiring_.files.read(path);
  if (!text) return make_error("file: " + text.error().message);
  return text;
}

template <class E>
void CatalogCache::cancel(E& e) {
  e.handle.cancel();
  e.retry.cancel();
}

void CatalogCache::failed(const std::string& what, const Error& error) {
  wiring_.log.warn(fmt::format("template {}: watching {}: {}", name_, what, error.message));
}

namespace {

// Filters the healthy-or-all set the catalog watch gives down to the
// query's tag and statuses; consul-template's order: node, then id.
std::vector<Instance> select(const ServiceQuery& q, std::vector<Instance> instances) {
  std::erase_if(instances, [&](const Instance& i) {
    if (!q.tag.empty() && std::find(i.tags.begin(), i.tags.end(), q.tag) == i.tags.end()) return true;
    return !q.statuses.empty() && !q.statuses.count(i.status);
  });
  std::sort(instances.begin(), instances.end(),
            [](const Instance& a, const Instance& b) { return std::tie(a.node, a.id) < std::tie(b.node, b.id); });
  return instances;
}

}  // namespace

void CatalogCache::watch_service(const ServiceQuery& q, ServiceEntry& e) {
  if (!wiring_.catalog) {
    e.data = std::make_shared<const std::vector<Instance>>();
    return;
  }
  auto on_update = [this, &q, &e](Result<discovery::WatchUpdate> update) {
    if (!update) {
      if (!e.failed) failed("service " + q.name, update.error());
      e.failed = true;
      e.handle = {};
      e.retry.after(options_.retry, [this, &q, &e] {
        e.index = 0;  // read everything again: the first answer also ends the outage
        watch_service(q, e);
      });
      changed_();  // a pass now learns that the catalog is failing
      return;
    }
    bool recovered = e.failed;
    e.failed = false;
    e.index = update->index;
    auto selected = select(q, std::move(update->instances));
    if (!recovered && e.data && **e.data == selected) return;
    e.data = std::make_shared<const std::vector<Instance>>(std::move(selected));
    e.records.reset();
    changed_();
  };
  e.handle = wiring_.catalog->watch_service(q.name, q.healthy_only(), e.index, lifetime_.bind(std::move(on_update)));
}

void CatalogCache::watch_prefix(const std::string& prefix, KvCacheEntry& e) {
  if (!wiring_.catalog) {
    e.data.emplace();
    return;
  }
  auto on_update = [this, &prefix, &e](Result<discovery::KvUpdate> update) {
    if (!update) {
      if (!e.failed) failed("keys under \"" + prefix + "\"", update.error());
      e.failed = true;
      e.handle = {};
      e.retry.after(options_.retry, [this, &prefix, &e] {
        e.index = 0;
        watch_prefix(prefix, e);
      });
      changed_();
      return;
    }
    bool recovered = e.failed;
    e.failed = false;
    e.index = update->index;
    if (!recovered && e.data && *e.data == update->entries) return;
    e.data = std::move(update->entries);
    changed_();
  };
  e.handle = wiring_.catalog->watch_prefix(prefix, e.index, lifetime_.bind(std::move(on_update)));
}

// The catalog has no watch of the service list: re-read it periodically.
void CatalogCache::refresh_list() {
  if (!wiring_.catalog) {
    list_.emplace();
    return;
  }
  wiring_.catalog->services(lifetime_.bind([this](Result<std::vector<discovery::ServiceSummary>> names) {
    list_timer_.after(options_.services_refresh, [this] { refresh_list(); });
    if (!names) {
      if (!list_failed_) failed("the service list", names.error());
      list_failed_ = true;
      changed_();
      return;
    }
    bool recovered = list_failed_;
    list_failed_ = false;
    if (!recovered && list_ && *list_ == *names) return;
    list_ = std::move(*names);
    changed_();
  }));
}

CatalogCache::FileStamp CatalogCache::stamp_of(const std::string& path) {
  auto info = wiring_.files.stat(path);
  if (!info || !*info) return std::nullopt;
  return std::make_tuple((*info)->inode, (*info)->size, (*info)->mtime);
}

void CatalogCache::check_files_later() {
  files_timer_.after(options_.files_refresh, [this] {
    check_files_later();
    check_files();
  });
}

void CatalogCache::check_files() {
  bool changed = false;
  for (auto& [path, stamp] : files_) {
    FileStamp now = stamp_of(path);
    if (now == stamp) continue;
    stamp = now;
    changed = true;
  }
  if (changed) changed_();
}

// Entries renamed in or out (an editor's save, a Kubernetes ConfigMap's
// symlink swap), files closed after writing, attribute changes.
void CatalogCache::follow_directory_of(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  if (dirs_.count(dir)) return;
  auto watched = wiring_.files.watch(dir, [this](const std::string&) { check_files(); });
  if (!watched) {
    wiring_.log.debug(fmt::format("template {}: {}; polled only", name_, watched.error().message));
    return;
  }
  dirs_.emplace(dir, std::move(*watched));
}

}  // namespace autopilot::render
