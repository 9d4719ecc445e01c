// Renderer: keeps one template's destination in step with the catalog.
//
// A pass executes the template over a cache of catalog data (the Source,
// render/catalog_cache.h).
// Data a pass asks for and the cache does not hold yet reads as empty and
// starts a catalog watch on exactly that service, key prefix or the service
// list; the pass is then incomplete and nothing is written. When the data
// arrives the template renders again. So the template watches exactly what it
// read, and only complete passes reach the disk (through Output: temp file,
// check, rename, command, rollback).
//
// Never from a catalog that is unavailable: while any watch the template
// depends on is failing (etcd down, the embedded directory gone), no pass
// runs and the file keeps its last good content, said once in the log; the
// template renders again as soon as every watch answers. An empty list is
// rendered only when the catalog really says so.
//
// Quiescence (`wait {min, max}`): the first render is immediate; after it a
// change arms `min`, each further change restarts it, but never past `max`
// from the first change of the burst. With min 0 every change renders at
// once (a burst within one loop turn is still one pass).
//
// A failed `command` (nginx -s reload while nginx is still starting) rolls
// the file back (render/output.h); the Renderer then writes the wanted
// content again, with its check and command, after `command_retry` (1 s),
// doubling up to `command_retry_max` (30 s), until the write lands or a new
// pass (a catalog change) brings other content and starts over from 1 s.
// Every failed attempt logs the command's output (Output does) and one line
// saying when the next attempt comes. A failed `check` is not retried (the
// content itself was refused), nor a write that failed with an error (a
// directory that cannot be written; logged).
//
// Events, from `template.<name>`: `changed` when a new file was swapped in
// (and its command succeeded), and once for the first complete render even
// when the file on disk already had that content, so that jobs waiting for
// `{source: "template.X", once: "changed"}` start after the first render.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/lifetime.h"
#include "discovery/catalog.h"
#include "events/bus.h"
#include "log/log.h"
#include "os/files.h"
#include "os/processes.h"
#include "os/timers.h"
#include "render/output.h"
#include "render/template_config.h"
#include "tmpl/template.h"
#include "wiring/wiring.h"

namespace autopilot::render {

class CatalogCache;

// The render area's own settings; the shared dependencies come from the
// Wiring (a null catalog: catalog functions never get data, as for
// `render -dry` without a catalog).
struct RenderOptions {
  Duration retry{std::chrono::seconds(1)};             // re-subscribe a failed watch after this
  Duration services_refresh{std::chrono::seconds(2)};  // `services` re-reads the list this often
  Duration files_refresh{std::chrono::seconds(2)};     // `file`: a read file is checked this often, as consul-template
  Duration command_retry{std::chrono::seconds(1)};       // first retry after a failed command, then doubling
  Duration command_retry_max{std::chrono::seconds(30)};  // up to this
};

class Renderer {
 public:
  Renderer(TemplateConfig config, const Wiring& wiring, RenderOptions options = {});
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  void start();
  void stop();

  const TemplateConfig& config() const { return config_; }
  // A complete pass reached the disk (written or already up to date).
  bool has_rendered() const { return rendered_; }
  // Complete passes handed to the Output.
  std::uint64_t passes() const { return passes_; }
  // Whether the last attempt was held back because the catalog is unavailable.
  bool is_waiting_for_catalog() const { return unavailable_; }
  // Whether a write is due again because its command failed.
  bool is_retrying() const { return retry_timer_.is_pending(); }
  // Called after each write with its outcome (for `autopilot render -once`).
  std::function<void(const Result<Outcome>&)> on_written;
  // The rendered text instead of a write (for `autopilot render -dry`).
  std::function<void(const std::string&)> on_dry_render;
  // A pass failed while executing the template (for `autopilot render -once`).
  std::function<void(const Error&)> on_render_error;

 private:
  void data_changed();
  void schedule(Duration delay);
  void render();
  std::string kept_file() const;
  void write(std::string text);
  void count(const Result<Outcome>& r);
  void written(const Result<Outcome>& r);
  void retry_later();
  void cancel_retry();

  TemplateConfig config_;
  Wiring wiring_;
  RenderOptions options_;
  std::unique_ptr<CatalogCache> cache_;  // the Source the template reads
  std::optional<tmpl::Template> template_;
  Error parse_error_;
  std::unique_ptr<Output> output_;
  bool started_ = false;
  bool rendered_ = false;
  bool unavailable_ = false;
  bool writing_ = false;
  std::optional<std::string> queued_;
  std::string wanted_;  // the last complete pass's text: what a retry writes
  Duration retry_delay_{};
  int failed_attempts_ = 0;  // of the wanted content, in a row
  os::Timer retry_timer_{wiring_.timers};
  std::uint64_t passes_ = 0;
  os::Timer render_timer_{wiring_.timers}, max_timer_{wiring_.timers};
  std::optional<os::Clock::time_point> burst_deadline_;
  Lifetime lifetime_;  // last: ends the Output's callbacks
};

// The templates of one config; reload keeps the unchanged ones.
class Renderers {
 public:
  explicit Renderers(const Wiring& wiring, RenderOptions options = {}) : wiring_(wiring), options_(options) {}
  void start(std::vector<TemplateConfig> configs);
  void reload(std::vector<TemplateConfig> configs);
  void stop();
  const Renderer* find(const std::string& name) const;

 private:
  Wiring wiring_;
  RenderOptions options_;
  std::vector<std::unique_ptr<Renderer>> renderers_;
};

}  // namespace autopilot::render
