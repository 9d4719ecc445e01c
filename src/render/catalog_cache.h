// CatalogCache: the Source a Renderer's template reads (tmplfuncs/source.h),
// holding the catalog data the template asked for and keeping it current.
//
// A service, key prefix or the service list is watched from the first pass
// that reads it; until the first answer it reads as missing (the pass is
// incomplete). A watch that fails is re-subscribed after `retry`, reading
// everything again; while any dependency fails, failing() says so, and the
// failure is logged once. The catalog has no watch of the service list, so it
// is re-read every `services_refresh`. A file read by a pass is checked on
// every change inotify reports in its directory and every `files_refresh`.
// Every change (data that differs, a failure, a recovery) calls `changed`.
//
// Loop thread only. The Wiring and `changed` outlive the cache; destroying it
// cancels its watches and timers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/lifetime.h"
#include "base/result.h"
#include "discovery/catalog.h"
#include "os/files.h"
#include "os/timers.h"
#include "tmpl/value.h"
#include "tmplfuncs/source.h"
#include "wiring/wiring.h"

namespace autopilot::render {

class CatalogCache : public tmplfuncs::Source {
 public:
  struct Options {
    Duration retry;             // re-subscribe a failed watch after this
    Duration services_refresh;  // re-read the service list this often
    Duration files_refresh;     // check every read file this often
  };
  // `name`: the template's, for the log.
  CatalogCache(const Wiring& wiring, Options options, std::string name, std::function<void()> changed);
  ~CatalogCache() override;
  CatalogCache(const CatalogCache&) = delete;
  CatalogCache& operator=(const CatalogCache&) = delete;

  // A pass starts; missed() then says whether it read data not loaded yet.
  void begin_pass() { missed_ = false; }
  bool missed() const { return missed_; }
  // Some dependency failed and has not answered since: its data may be stale.
  bool failing() const;

  std::optional<tmpl::Value> service(const tmplfuncs::ServiceQuery& q) override;
  const std::vector<discovery::ServiceSummary>* services() override;
  const std::vector<discovery::KvEntry>* kv(const std::string& prefix) override;
  std::optional<std::string> env(const std::string& name) override;
  Result<std::string> file(const std::string& path) override;

 private:
  template <class T>
  struct Entry {
    explicit Entry(os::Timers& timers) : retry(timers) {}
    std::optional<T> data;
    discovery::WatchHandle handle;
    discovery::Index index = 0;
    bool failed = false;
    os::Timer retry;  // the next subscription after a failure
  };
  // data: shared with the records built from it.
  struct ServiceEntry : Entry<std::shared_ptr<const std::vector<discovery::Instance>>> {
    using Entry::Entry;
    std::optional<tmpl::Value> records;  // instance_list(*data), built when first read
  };
  using KvCacheEntry = Entry<std::vector<discovery::KvEntry>>;
  // What tells a file changed: inode, size, mtime (nullopt: not there, or
  // not readable).
  using FileStamp = std::optional<std::tuple<std::uint64_t, std::uint64_t, std::chrono::system_clock::time_point>>;

  template <class E>
  void cancel(E& e);
  void failed(const std::string& what, const Error& error);
  void watch_service(const tmplfuncs::ServiceQuery& q, ServiceEntry& e);
  void watch_prefix(const std::string& prefix, KvCacheEntry& e);
  void refresh_list();
  FileStamp stamp_of(const std::string& path);
  void check_files_later();
  void check_files();
  void follow_directory_of(const std::string& path);

  const Wiring& wiring_;
  Options options_;
  std::string name_;
  std::function<void()> changed_;
  bool missed_ = false;
  // std::map: entries never move, so watch callbacks may hold references.
  std::map<tmplfuncs::ServiceQuery, ServiceEntry> services_;
  std::map<std::string, KvCacheEntry> kv_;
  std::optional<std::vector<discovery::ServiceSummary>> list_;
  bool list_used_ = false, list_failed_ = false;
  os::Timer list_timer_{wiring_.timers};
  std::map<std::string, FileStamp> files_;  // every path `file` read
  os::Timer files_timer_{wiring_.timers};
  std::map<std::string, std::unique_ptr<os::Files::Watch>> dirs_;  // their directories, once one is read
  Lifetime lifetime_;  // last: ends the catalog callbacks
};

}  // namespace autopilot::render
