#include "render/renderer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "render/functions.h"
#include "render/records.h"
#include "tmpl/template.h"

namespace autopilot::render {

using discovery::Instance;
using discovery::KvEntry;

// The Source: catalog data the template asked for, kept current by watches.
class Renderer::Cache : public Source {
 public:
  Cache(const Wiring& wiring, const RenderOptions& options, std::string name, std::function<void()> changed)
      : wiring_(wiring), options_(options), name_(std::move(name)), changed_(std::move(changed)) {}
  ~Cache() {
    *alive_ = false;
    for (auto& [q, e] : services_) cancel(e);
    for (auto& [p, e] : kv_) cancel(e);
    if (list_timer_) wiring_.timers.cancel(list_timer_);
    if (files_timer_) wiring_.timers.cancel(files_timer_);
  }

  void begin_pass() { missed_ = false; }
  bool missed() const { return missed_; }
  // Some dependency failed and has not answered since: its data may be stale.
  bool failing() const {
    if (list_failed_) return true;
    for (const auto& [q, e] : services_)
      if (e.failed) return true;
    for (const auto& [p, e] : kv_)
      if (e.failed) return true;
    return false;
  }

  // The records are built on the first read after a delivery and then shared
  // by every `service` call of every pass until the next delivery.
  std::optional<tmpl::Value> service(const ServiceQuery& q) override {
    auto [it, fresh] = services_.try_emplace(q);
    ServiceEntry& e = it->second;
    if (fresh) watch_service(it->first, e);
    if (!e.data) {
      missed_ = true;
      return std::nullopt;
    }
    if (!e.records) e.records = instance_list(*e.data);
    return *e.records;
  }

  const std::vector<discovery::ServiceSummary>* services() override {
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

  const std::vector<KvEntry>* kv(const std::string& prefix) override {
    auto [it, fresh] = kv_.try_emplace(prefix);
    if (fresh) watch_prefix(it->first, it->second);
    if (!it->second.data) {
      missed_ = true;
      return nullptr;
    }
    return &*it->second.data;
  }

  std::optional<std::string> env(const std::string& name) override { return wiring_.env ? wiring_.env(name) : std::nullopt; }

  // A file read by a pass is checked (inode, size, mtime; through symlinks)
  // whenever inotify reports a change in its directory, and every
  // files_refresh, as consul-template polls it, for what inotify cannot see
  // (a symlink into another directory, a network file system). A change
  // renders again.
  Result<std::string> file(const std::string& path) override {
    auto [it, fresh] = files_.try_emplace(path);
    if (fresh) {
      it->second = stamp_of(path);
      follow_directory_of(path);
      if (!files_timer_) check_files_later();
    }
    auto text = wiring_.files.read(path);
    if (!text) return make_error("file: " + text.error().message);
    return text;
  }

 private:
  template <class T>
  struct Entry {
    std::optional<T> data;
    discovery::WatchHandle handle;
    discovery::Index index = 0;
    bool failed = false;
    os::Timers::Id retry = 0;
  };
  // data: shared with the records built from it.
  struct ServiceEntry : Entry<std::shared_ptr<const std::vector<Instance>>> {
    std::optional<tmpl::Value> records;  // instance_list(*data), built when first read
  };
  using KvCacheEntry = Entry<std::vector<KvEntry>>;

  template <class E>
  void cancel(E& e) {
    e.handle.cancel();
    if (e.retry) wiring_.timers.cancel(e.retry);
    e.retry = 0;
  }

  void failed(const std::string& what, const Error& error) {
    wiring_.log.warn(fmt::format("template {}: watching {}: {}", name_, what, error.message));
  }

  // Filters the healthy-or-all set the catalog watch gives down to the
  // query's tag and statuses; consul-template's order: node, then id.
  static std::vector<Instance> select(const ServiceQuery& q, std::vector<Instance> instances) {
    std::erase_if(instances, [&](const Instance& i) {
      if (!q.tag.empty() && std::find(i.tags.begin(), i.tags.end(), q.tag) == i.tags.end()) return true;
      return !q.statuses.empty() && !q.statuses.count(i.status);
    });
    std::sort(instances.begin(), instances.end(),
              [](const Instance& a, const Instance& b) { return std::tie(a.node, a.id) < std::tie(b.node, b.id); });
    return instances;
  }

  void watch_service(const ServiceQuery& q, ServiceEntry& e) {
    if (!wiring_.catalog) {
      e.data = std::make_shared<const std::vector<Instance>>();
      return;
    }
    std::weak_ptr<bool> alive = alive_;
    e.handle = wiring_.catalog->watch_service(q.name, q.healthy_only(), e.index, [this, alive, &q, &e](auto update) {
      if (alive.expired()) return;
      if (!update) {
        if (!e.failed) failed("service " + q.name, update.error());
        e.failed = true;
        e.handle = {};
        e.retry = wiring_.timers.after(options_.retry, [this, alive, &q, &e] {
          if (alive.expired()) return;
          e.retry = 0;
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
    });
  }

  void watch_prefix(const std::string& prefix, KvCacheEntry& e) {
    if (!wiring_.catalog) {
      e.data.emplace();
      return;
    }
    std::weak_ptr<bool> alive = alive_;
    e.handle = wiring_.catalog->watch_prefix(prefix, e.index, [this, alive, &prefix, &e](auto update) {
      if (alive.expired()) return;
      if (!update) {
        if (!e.failed) failed("keys under \"" + prefix + "\"", update.error());
        e.failed = true;
        e.handle = {};
        e.retry = wiring_.timers.after(options_.retry, [this, alive, &prefix, &e] {
          if (alive.expired()) return;
          e.retry = 0;
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
    });
  }

  // The catalog has no watch of the service list: re-read it periodically.
  void refresh_list() {
    if (!wiring_.catalog) {
      list_.emplace();
      return;
    }
    std::weak_ptr<bool> alive = alive_;
    wiring_.catalog->services([this, alive](Result<std::vector<discovery::ServiceSummary>> names) {
      if (alive.expired()) return;
      list_timer_ = wiring_.timers.after(options_.services_refresh, [this, alive] {
        if (alive.expired()) return;
        list_timer_ = 0;
        refresh_list();
      });
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
    });
  }

  // What tells a file changed: inode, size, mtime (nullopt: not there, or
  // not readable).
  using FileStamp = std::optional<std::tuple<std::uint64_t, std::uint64_t, std::chrono::system_clock::time_point>>;
  FileStamp stamp_of(const std::string& path) {
    auto info = wiring_.files.stat(path);
    if (!info || !*info) return std::nullopt;
    return std::make_tuple((*info)->inode, (*info)->size, (*info)->mtime);
  }

  void check_files_later() {
    std::weak_ptr<bool> alive = alive_;
    files_timer_ = wiring_.timers.after(options_.files_refresh, [this, alive] {
      if (alive.expired()) return;
      check_files_later();
      check_files();
    });
  }

  void check_files() {
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
  void follow_directory_of(const std::string& path) {
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

  const Wiring& wiring_;
  const RenderOptions& options_;
  std::string name_;
  std::function<void()> changed_;
  bool missed_ = false;
  // std::map: entries never move, so watch callbacks may hold references.
  std::map<ServiceQuery, ServiceEntry> services_;
  std::map<std::string, KvCacheEntry> kv_;
  std::optional<std::vector<discovery::ServiceSummary>> list_;
  bool list_used_ = false, list_failed_ = false;
  os::Timers::Id list_timer_ = 0;
  std::map<std::string, FileStamp> files_;  // every path `file` read
  os::Timers::Id files_timer_ = 0;
  std::map<std::string, std::unique_ptr<os::Files::Watch>> dirs_;  // their directories, once one is read
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

Renderer::Renderer(TemplateConfig config, const Wiring& wiring, RenderOptions options)
    : config_(std::move(config)), wiring_(wiring), options_(options) {
  cache_ = std::make_unique<Cache>(wiring_, options_, config_.name, [this] { data_changed(); });
  // Parsed once: the functions read through the cache, which lives as long as we do.
  tmpl::FuncMap funcs;
  add_consul_template_funcs(funcs, *cache_);
  auto parsed = tmpl::Template::parse(config_.template_file, config_.text, std::move(funcs));
  if (parsed)
    template_.emplace(std::move(*parsed));
  else
    parse_error_ = parsed.error();
  OutputSpec spec{"template " + config_.name, config_.destination, config_.perms,  config_.backup,
                  config_.create_dest_dirs,   config_.check,       config_.command, config_.command_timeout};
  output_ = std::make_unique<Output>(spec, wiring_.processes, wiring_.timers, wiring_.files, wiring_.log, wiring_.child_env);
}

Renderer::~Renderer() {
  *alive_ = false;
  stop();
}

void Renderer::start() {
  if (started_) return;
  started_ = true;
  schedule(Duration{0});
}

void Renderer::stop() {
  started_ = false;
  for (auto* id : {&render_timer_, &max_timer_}) {
    if (*id) wiring_.timers.cancel(*id);
    *id = 0;
  }
  cancel_retry();
}

void Renderer::schedule(Duration delay) {
  if (render_timer_) wiring_.timers.cancel(render_timer_);
  std::weak_ptr<bool> alive = alive_;
  render_timer_ = wiring_.timers.after(delay, [this, alive] {
    if (alive.expired()) return;
    render_timer_ = 0;
    render();
  });
}

void Renderer::data_changed() {
  if (!started_) return;
  if (!rendered_ || config_.wait_min.count() == 0) {
    if (!render_timer_) schedule(Duration{0});  // one pass for everything that arrived this turn
    return;
  }
  // Quiescence: wait for `min` of calm, but never past `max` from the burst's start.
  auto now = wiring_.timers.now();
  if (!burst_deadline_) {
    burst_deadline_ = now + config_.wait_max;
    std::weak_ptr<bool> alive = alive_;
    max_timer_ = wiring_.timers.after(config_.wait_max, [this, alive] {
      if (alive.expired()) return;
      max_timer_ = 0;
      render();
    });
  }
  schedule(std::min<Duration>(config_.wait_min, *burst_deadline_ - now));
}

// What a failed pass leaves on disk: claim "the last good" file only when
// there is one.
std::string Renderer::kept_file() const {
  auto info = wiring_.files.stat(config_.destination);
  if (info && *info) return "keeping the last good " + config_.destination;
  return "no file written (" + config_.destination + " does not exist)";
}

void Renderer::render() {
  for (auto* id : {&render_timer_, &max_timer_}) {
    if (*id) wiring_.timers.cancel(*id);
    *id = 0;
  }
  burst_deadline_.reset();
  if (!started_) return;
  if (cache_->failing()) {
    if (!unavailable_)
      wiring_.log.warn(fmt::format("template {}: the catalog is unavailable; {}", config_.name, kept_file()));
    unavailable_ = true;
    return;
  }
  if (unavailable_) wiring_.log.info(fmt::format("template {}: the catalog answers again; rendering", config_.name));
  unavailable_ = false;
  if (!template_) {  // checked at load time, so only a caller that skipped check_template gets here
    wiring_.log.error(fmt::format("template {}: {}", config_.name, parse_error_.format()));
    return;
  }
  cache_->begin_pass();
  auto text = template_->execute(tmpl::Value::map({}),
                              config_.error_on_missing_key ? tmpl::MissingKey::kError : tmpl::MissingKey::kDefault);
  if (cache_->missed()) return;  // the watches just started bring the data, then we render again
  if (!text) {
    wiring_.log.error(fmt::format("template {}: {}; {}", config_.name, text.error().format(), kept_file()));
    if (on_render_error) on_render_error(text.error());
    return;
  }
  ++passes_;
  if (on_dry_render) {
    rendered_ = true;
    on_dry_render(*text);
    return;
  }
  // New content (or the same after a catalog change): retries start over.
  cancel_retry();
  retry_delay_ = options_.command_retry;
  failed_attempts_ = 0;
  wanted_ = *text;
  write(std::move(*text));
}

void Renderer::cancel_retry() {
  if (retry_timer_) wiring_.timers.cancel(retry_timer_);
  retry_timer_ = 0;
}

// After a failed command: the wanted content again, later.
void Renderer::retry_later() {
  cancel_retry();
  Duration delay = retry_delay_;
  retry_delay_ = std::min<Duration>(retry_delay_ * 2, options_.command_retry_max);
  wiring_.log.warn(fmt::format("template {}: {} keeps its previous content; trying again in {} ({} failed command{} in "
                            "a row)",
                            config_.name, config_.destination, format_duration(delay), failed_attempts_,
                            failed_attempts_ == 1 ? "" : "s"));
  std::weak_ptr<bool> alive = alive_;
  retry_timer_ = wiring_.timers.after(delay, [this, alive] {
    if (alive.expired()) return;
    retry_timer_ = 0;
    if (!started_) return;
    wiring_.log.info(fmt::format("template {}: writing {} again (attempt {})", config_.name, config_.destination,
                              failed_attempts_ + 1));
    write(wanted_);
  });
}

// One write at a time: a pass that finishes while the previous write (its
// check or command) still runs waits, and only the newest content is kept.
void Renderer::write(std::string text) {
  if (writing_) {
    queued_ = std::move(text);
    return;
  }
  writing_ = true;
  std::weak_ptr<bool> alive = alive_;
  output_->write(std::move(text), [this, alive](Result<Outcome> r) {
    if (alive.expired()) return;
    writing_ = false;
    written(r);
    if (queued_) {
      std::string next = std::move(*queued_);
      queued_.reset();
      write(std::move(next));
    }
  });
}

void Renderer::written(const Result<Outcome>& r) {
  bool first = !rendered_;
  if (!r) {
    wiring_.log.error(r.error().message);
  } else {
    switch (*r) {
      case Outcome::kWritten:
        rendered_ = true;
        wiring_.log.info(fmt::format("template {}: wrote {}{}", config_.name, config_.destination,
                                  failed_attempts_ ? fmt::format(" (after {} failed commands)", failed_attempts_)
                                                   : std::string()));
        wiring_.bus.publish({events::Code::kStatusChanged, config_.event_source()});
        break;
      case Outcome::kUnchanged:
        rendered_ = true;
        wiring_.log.writef(log::Level::kDebug, "template {}: {} is up to date", config_.name, config_.destination);
        if (first) wiring_.bus.publish({events::Code::kStatusChanged, config_.event_source()});
        break;
      case Outcome::kCheckFailed:
        wiring_.log.warn(fmt::format("template {}: the check refused the new {}; keeping the old one", config_.name,
                                  config_.destination));
        break;
      case Outcome::kCommandFailed:
        // A write still queued is the newer content: it is the next attempt.
        if (started_ && !queued_) {
          ++failed_attempts_;
          retry_later();
        } else {
          wiring_.log.warn(fmt::format("template {}: the command failed; {} rolled back to its previous content",
                                    config_.name, config_.destination));
        }
        break;
    }
  }
  if (!r || *r != Outcome::kCommandFailed) {
    cancel_retry();
    failed_attempts_ = 0;
  }
  if (on_written) on_written(r);
}

void Renderers::start(std::vector<TemplateConfig> configs) {
  for (auto& c : configs) {
    renderers_.push_back(std::make_unique<Renderer>(std::move(c), wiring_, options_));
    renderers_.back()->start();
  }
}

void Renderers::reload(std::vector<TemplateConfig> configs) {
  std::vector<std::unique_ptr<Renderer>> old = std::move(renderers_);
  renderers_.clear();
  for (auto& c : configs) {
    auto it = std::find_if(old.begin(), old.end(), [&](const auto& r) { return r && r->config() == c; });
    if (it != old.end()) {
      renderers_.push_back(std::move(*it));
      continue;
    }
    wiring_.log.info(fmt::format("reload: rendering template {}", c.name));
    renderers_.push_back(std::make_unique<Renderer>(std::move(c), wiring_, options_));
    renderers_.back()->start();
  }
  for (auto& r : old) {
    if (!r) continue;
    bool replaced = std::any_of(renderers_.begin(), renderers_.end(),
                                [&](const auto& n) { return n->config().name == r->config().name; });
    if (!replaced) wiring_.log.info(fmt::format("reload: template {} removed (its file stays)", r->config().name));
  }
}

void Renderers::stop() {
  for (auto& r : renderers_) r->stop();
}

const Renderer* Renderers::find(const std::string& name) const {
  for (const auto& r : renderers_)
    if (r->config().name == name) return r.get();
  return nullptr;
}

}  // namespace autopilot::render
