#include "config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <optional>

#include "base/file.h"
#include "base/strings.h"
#include "config/addresses.h"
#include "config/schema.h"
#include "config/v2.h"
#include "config/template_funcs.h"
#include "decode/decoder.h"
#include "jobs/job_config.h"
#include "jobs/main_job.h"
#include "json5/json5.h"
#include "log/log_config.h"
#include "tmpl/template.h"

namespace autopilot::config {
namespace {

using decode::Decoder;
using decode::Node;

const std::vector<std::string> kTopKeys{"consul",    "discovery", "logging", "stopTimeout", "jobs",   "watches",
                                        "templates", "telemetry", "control", "mainJob",     "files"};

Result<Config> decode_config(const Decoder& d, const std::string& file) {
  Node root = d.root();
  if (auto r = d.only_keys(root, kTopKeys); !r) return r.error();
  Config c;
  c.file = file;
  if (auto n = d.field(root, "logging")) {
    auto l = log::decode_logging(d, *n);
    if (!l) return l.error();
    c.logging = *l;
  }
  if (auto n = d.field(root, "stopTimeout")) {
    auto t = d.duration(*n, true);
    if (!t) return t.error();
    // Negative: no grace, SIGKILL at once (v2's `-1`; ContainerPilot v3
    // skips its grace sleep and kills right after SIGTERM). 0 keeps 5s.
    if (t->count() != 0) c.stop_timeout = *t;
  }
  if (auto n = d.field(root, "consul")) {
    if (!(*n)->is_string() && !(*n)->is_object()) return d.error(*n, "must be an address string or an object");
    c.consul_given = true;
  }
  if (auto n = d.field(root, "discovery")) {
    auto dc = discovery::decode_discovery(d, *n);
    if (!dc) return dc.error();
    c.discovery = std::move(*dc);
    c.discovery_given = true;
  }
  if (auto n = d.field(root, "telemetry")) {
    auto t = telemetry::decode_telemetry(d, *n);
    if (!t) return t.error();
    c.telemetry = std::move(*t);
  }
  if (auto n = d.field(root, "control")) {
    auto control = control::decode_control(d, *n);
    if (!control) return control.error();
    c.control = std::move(*control);
  }
  if (auto n = d.field(root, "watches")) {
    auto w = watches::decode_watches(d, *n);
    if (!w) return w.error();
    c.watches = std::move(*w);
  }
  if (auto n = d.field(root, "templates")) {
    auto dir = file.find('/') == std::string::npos ? std::string(".") : file.substr(0, file.rfind('/'));
    auto t = render::decode_templates(d, *n, dir.empty() ? "/" : dir);
    if (!t) return t.error();
    c.templates = std::move(*t);
  }
  if (auto n = d.field(root, "files")) {
    auto f = files::decode_files(d, *n);
    if (!f) return f.error();
    c.files = std::move(*f);
  }
  if (auto n = d.field(root, "jobs")) {
    auto jobs = jobs::decode_jobs(d, *n);
    if (!jobs) return jobs.error();
    events::KnownSources known;
    for (const auto& w : c.watches) known.watches.push_back(w.name);
    for (const auto& t : c.templates) known.templates.push_back(t.name);
    for (const auto& f : c.files) known.files.push_back(f.name);
    if (auto r = jobs::check_job_graph(d, *n, *jobs, std::move(known)); !r) return r.error();
    if (auto r = resolve_addresses(d, *n, *jobs); !r) return r.error();
    c.jobs = std::move(*jobs);
  }
  if (auto n = d.field(root, "mainJob")) {
    auto s = d.string(*n);
    if (!s) return s.error();
    std::vector<std::string> names;
    for (const auto& j : c.jobs) names.push_back(j.name);
    if (std::find(names.begin(), names.end(), *s) == names.end()) {
      std::string msg = "no job named \"" + *s + "\"";
      if (auto hint = suggest(*s, names)) msg += " (did you mean \"" + *hint + "\"?)";
      return d.error(*n, msg);
    }
    c.main_job = *s;
  } else {
    c.main_job = jobs::choose_main_job(c.jobs);
  }
  return c;
}

}  // namespace

bool Config::needs_catalog() const {
  if (!watches.empty() || !templates.empty()) return true;
  if (telemetry && discovery_given) return true;
  if (std::any_of(files.begin(), files.end(), [](const auto& f) { return f.needs_catalog(); })) return true;
  return std::any_of(jobs.begin(), jobs.end(), [](const auto& j) { return j.service.is_registered(); });
}

Result<std::string> resolve_path(const std::string& flag, const Env& env) {
  std::string path = flag;
  for (const char* var : {"AUTOPILOT", "CONTAINERPILOT"}) {
    if (!path.empty()) break;
    auto it = env.find(var);
    if (it != env.end()) path = it->second;
  }
  if (path.empty())
    return make_error("no config file: give -config PATH (or set AUTOPILOT=PATH); see autopilot --help");
  if (starts_with(path, "file://")) path = path.substr(7);
  return path;
}

// Renders already read config text over `env`.
static Result<std::string> render_text(const std::string& path, const std::string& text, const Env& env,
                                       const LoadOptions& options) {
  auto tmpl = tmpl::Template::parse(path, text, containerpilot_funcs(env));
  if (!tmpl) return tmpl.error();
  std::map<std::string, tmpl::Value> data;
  for (const auto& [k, v] : env) data.emplace(k, tmpl::Value(v));
  auto missing = options.strict_env ? tmpl::MissingKey::kError : tmpl::MissingKey::kZero;
  return tmpl->execute(tmpl::Value::map(std::move(data)), missing);
}

Result<std::string> render_config_text(const std::string& file, const std::string& text, const Env& env) {
  return render_text(file, text, env, LoadOptions{});
}

Result<std::string> render(const std::string& path, const Env& env, const LoadOptions& options) {
  auto text = read_file(path);
  if (!text) return text.error();
  return render_text(path, *text, env, options);
}

Result<Config> parse(const std::string& file, const std::string& text, bool text_is_rendered,
                     const std::vector<std::string>& app, bool v2_started) {
  auto doc = json5::parse(text, file);
  if (!doc) {
    Error e = doc.error();
    if (text_is_rendered) e.message += " (position in the rendered config: see `autopilot -template`)";
    return e;
  }
  Decoder d(*doc, text);
  auto schema = detect_schema(d);
  if (!schema) return schema.error();
  d.set_unknown_key_note(schema->note());
  if (schema->schema == Schema::kV3) {
    if (!app.empty())
      return make_error("an app on the command line (\"" + app.front() + "\") needs a ContainerPilot v2 config; " +
                        file + " is " + schema->note() + ", where the app is a job");
    if (schema->because.empty())
      if (auto r = check_unmarked_keys(d, kTopKeys); !r) return r.error();
    return decode_config(d, file);
  }
  auto v3 = translate_v2(d, *doc, app, v2_started);
  if (!v3) return v3.error();
  Decoder translated(v3->doc, text);
  translated.set_unknown_key_note(schema->note());
  translated.set_shown_paths(v3->shown_paths);
  auto c = decode_config(translated, file);
  if (!c) return c.error();
  c->is_v2 = true;
  if (app.empty()) c->main_job = "";  // v2 without an app runs until every job is done
  c->exit_status_job = v3->exit_status_job;
  for (size_t i : v3->paused_in_maintenance) c->jobs.at(i).pauses_in_maintenance = true;
  for (const auto& [i, metric] : v3->sensors) c->jobs.at(i).sensor_metric = metric;
  return c;
}

// An error in the rendered config, as shown to people: the excerpt is the
// line as written in the file, never as rendered, and values rendered from
// the environment are masked in the message, so that a secret (a password
// from {{ .PW }}) reaches neither the terminal nor the log of a refused
// reload. When rendering changed the number of lines, no excerpt is shown.
static Error as_written(Error e, const std::string& raw, const std::string& rendered, const Env& env) {
  if (e.pos && !e.source_line.empty()) {
    auto written = split(raw, '\n');
    auto shown = split(rendered, '\n');
    size_t line = static_cast<size_t>(e.pos->line);
    if (written.size() == shown.size() && line >= 1 && line <= written.size()) {
      std::string_view was = written[line - 1], now = shown[line - 1];
      if (was != now) {
        size_t same = std::mismatch(was.begin(), was.end(), now.begin(), now.end()).first - was.begin();
        // Past the first action on the line, the rendered column means
        // nothing in the written line: point at that action instead.
        if (static_cast<size_t>(e.pos->col) > same + 1) e.pos->col = static_cast<int>(same) + 1;
        e.source_line = std::string(was);
        if (!e.source_line.empty() && e.source_line.back() == '\r') e.source_line.pop_back();
      }
    } else {
      e.source_line.clear();
    }
  }
  for (const auto& [name, value] : env) {
    // Short values ("1", "on") are not secrets and would mask too much.
    if (value.size() < 4 || raw.find(value) != std::string::npos || rendered.find(value) == std::string::npos)
      continue;
    for (size_t at = e.message.find(value); at != std::string::npos; at = e.message.find(value, at + 3))
      e.message.replace(at, value.size(), "***");
  }
  return e;
}

Result<Config> load(const std::string& path, const Env& env, const LoadOptions& options) {
  auto raw = read_file(path);
  if (!raw) return raw.error();
  if (!env.count("TempFile"))
    if (auto r = render::check_config_temp_file(path, *raw); !r) return r.error();
  auto rendered = render_text(path, *raw, env, options);
  if (!rendered) return rendered.error();
  std::vector<std::string> app;
  for (const auto& arg : options.app) {
    auto a = render_text("the app's argument \"" + arg + "\"", arg, env, options);
    if (!a) return a.error();
    app.push_back(std::move(*a));
  }
  auto c = parse(path, *rendered, *rendered != *raw, app, options.v2_started);
  if (!c && *rendered != *raw) return as_written(std::move(c.error()), *raw, *rendered, env);
  if (c && !options.discovery_dir.empty() && !c->discovery.etcd &&
      c->discovery.embedded_dir == discovery::kDefaultEmbeddedDir)
    c->discovery.embedded_dir = options.discovery_dir;
  if (c && !options.discovery_dir.empty()) c->discovery_given = true;
  return c;
}

Env environment_from(char** envp) {
  Env env;
  for (char** e = envp; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    // D11: keep the whole value, '=' and all.
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

}  // namespace autopilot::config
