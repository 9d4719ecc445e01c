#include "render/renderer.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "render/catalog_cache.h"
#include "tmpl/template.h"
#include "tmplfuncs/functions.h"

namespace autopilot::render {

Renderer::Renderer(TemplateConfig config, const Wiring& wiring, RenderOptions options)
    : config_(std::move(config)), wiring_(wiring), options_(options) {
  cache_ = std::make_unique<CatalogCache>(
      wiring_, CatalogCache::Options{options_.retry, options_.services_refresh, options_.files_refresh}, config_.name,
      [this] { data_changed(); });
  // Parsed once: the functions read through the cache, which lives as long as we do.
  tmpl::FuncMap funcs;
  tmplfuncs::add_consul_template_funcs(funcs, *cache_);
  auto parsed = tmpl::Template::parse(config_.template_file, config_.text, std::move(funcs));
  if (parsed)
    template_.emplace(std::move(*parsed));
  else
    parse_error_ = parsed.error();
  OutputSpec spec{"template " + config_.name, config_.destination, config_.perms,  config_.backup,
                  config_.create_dest_dirs,   config_.check,       config_.command, config_.command_timeout};
  output_ = std::make_unique<Output>(spec, wiring_.processes, wiring_.timers, wiring_.files, wiring_.log, wiring_.child_env);
}

Renderer::~Renderer() { stop(); }

void Renderer::start() {
  if (started_) return;
  started_ = true;
  schedule(Duration{0});
}

void Renderer::stop() {
  started_ = false;
  render_timer_.cancel();
  max_timer_.cancel();
  cancel_retry();
}

void Renderer::schedule(Duration delay) {
  render_timer_.after(delay, [this] { render(); });
}

void Renderer::data_changed() {
  if (!started_) return;
  if (!rendered_ || config_.wait_min.count() == 0) {
    if (!render_timer_.is_pending()) schedule(Duration{0});  // one pass for everything that arrived this turn
    return;
  }
  // Quiescence: wait for `min` of calm, but never past `max` from the burst's start.
  auto now = wiring_.timers.now();
  if (!burst_deadline_) {
    burst_deadline_ = now + config_.wait_max;
    max_timer_.after(config_.wait_max, [this] { render(); });
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
  render_timer_.cancel();
  max_timer_.cancel();
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
  const auto began = wiring_.timers.now();
  auto text = template_->execute(tmpl::Value::map({}),
                              config_.error_on_missing_key ? tmpl::MissingKey::kError : tmpl::MissingKey::kDefault);
  if (cache_->missed()) return;  // the watches just started bring the data, then we render again
  if (auto* m = wiring_.operator_metrics) {
    m->template_render_duration->with({config_.name}).observe(metrics::seconds_between(began, wiring_.timers.now()));
    if (!text) m->template_renders->with({config_.name, "error"}).inc();
  }
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

void Renderer::cancel_retry() { retry_timer_.cancel(); }

// After a failed command: the wanted content again, later.
void Renderer::retry_later() {
  cancel_retry();
  Duration delay = retry_delay_;
  retry_delay_ = std::min<Duration>(retry_delay_ * 2, options_.command_retry_max);
  wiring_.log.warn(fmt::format("template {}: {} keeps its previous content; trying again in {} ({} failed command{} in "
                            "a row)",
                            config_.name, config_.destination, format_duration(delay), failed_attempts_,
                            failed_attempts_ == 1 ? "" : "s"));
  retry_timer_.after(delay, [this] {
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
  output_->write(std::move(text), lifetime_.bind([this](Result<Outcome> r) {
    writing_ = false;
    written(r);
    if (queued_) {
      std::string next = std::move(*queued_);
      queued_.reset();
      write(std::move(next));
    }
  }));
}

// The render metrics of one write: its result, a failed command, and the
// time of the last good render (written or already up to date).
void Renderer::count(const Result<Outcome>& r) {
  auto* m = wiring_.operator_metrics;
  if (!m) return;
  const char* result = !r                                  ? "error"
                       : *r == Outcome::kWritten           ? "written"
                       : *r == Outcome::kUnchanged         ? "unchanged"
                       : *r == Outcome::kCheckFailed       ? "check_failed"
                                                           : "command_failed";
  m->template_renders->with({config_.name, result}).inc();
  if (r && *r == Outcome::kCommandFailed) m->template_command_failures->with({config_.name}).inc();
  if (r && (*r == Outcome::kWritten || *r == Outcome::kUnchanged))
    m->template_last_success->with({config_.name}).set(m->wall_seconds());
}

void Renderer::written(const Result<Outcome>& r) {
  bool first = !rendered_;
  count(r);
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
