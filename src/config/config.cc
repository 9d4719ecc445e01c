#include "config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <optional>

#include "base/file.h"
#include "base/strings.h"
#include "discovery/interfaces.h"
#include "config/template_funcs.h"
#include "decode/decoder.h"
#include "jobs/supervisor.h"
#include "json5/json5.h"
#include "tmpl/template.h"

namespace autopilot::config {
namespace {

using decode::Decoder;
using decode::Node;

const std::vector<std::string> kTopKeys{"consul",  "discovery", "logging", "stopTimeout", "jobs",
                                        "watches", "templates", "telemetry", "control", "mainJob"};
const std::vector<std::string> kLoggingKeys{"level", "format", "output"};

Result<log::LogConfig> decode_logging(const Decoder& d, const Node& n) {
  if (auto r = d.only_keys(n, kLoggingKeys); !r) return r.error();
  log::LogConfig c;
  if (auto level = d.field(n, "level")) {
    auto s = d.string(*level);
    if (!s) return s.error();
    std::string l = *s;
    std::transform(l.begin(), l.end(), l.begin(), ::toupper);
    if (l == "DEBUG") c.level = log::Level::kDebug;
    else if (l == "INFO") c.level = log::Level::kInfo;
    else if (l == "WARN" || l == "WARNING") c.level = log::Level::kWarn;
    else if (l == "ERROR" || l == "FATAL" || l == "PANIC") c.level = log::Level::kError;
    else return d.error(*level, "\"" + *s + "\" is not a log level (DEBUG, INFO, WARN, ERROR)");
  }
  if (auto format = d.field(n, "format")) {
    auto s = d.string(*format);
    if (!s) return s.error();
    if (*s == "default") c.format = log::Format::kDefault;
    else if (*s == "text") c.format = log::Format::kText;
    else if (*s == "json") c.format = log::Format::kJson;
    else return d.error(*format, "\"" + *s + "\" is not a log format (default, text, json)");
  }
  if (auto output = d.field(n, "output")) {
    auto s = d.string(*output);
    if (!s) return s.error();
    if (s->empty()) return d.error(*output, "must be stdout, stderr or a file path");
    c.output = *s;
  }
  return c;
}

Result<void> refuse_unavailable(const Decoder& d, const Node& root) {
  static const std::vector<std::pair<std::string, std::string>> kLater{
      {"telemetry", "telemetry"}, {"control", "the control socket"}};
  for (const auto& [key, what] : kLater) {
    if (auto n = d.field(root, key)) return d.key_error(*n, "needs " + what + ", which this build does not have yet");
  }
  return {};
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

// Picks the address each registered job advertises (ContainerPilot resolves
// `interfaces` at load time too, so a bad spec stops the start).
Result<void> resolve_addresses(const Decoder& d, const Node& jobs_node, std::vector<jobs::JobConfig>& jobs) {
  std::optional<std::vector<discovery::InterfaceAddress>> system;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto& svc = jobs[i].service;
    if (!svc.is_registered()) continue;
    Node job = d.element(jobs_node, i);
    Node where = d.field(job, "interfaces").value_or(*d.field(job, "port"));
    auto specs = discovery::parse_interface_specs(svc.interfaces);
    if (!specs) return d.error(where, specs.error().message);
    if (!system) {
      auto addresses = discovery::system_addresses();
      if (!addresses) return d.error(where, addresses.error().message);
      system = std::move(*addresses);
    }
    auto address = discovery::select_address(*specs, *system);
    if (!address) return d.error(where, address.error().message);
    svc.address = *address;
    svc.node = host_name();
    jobs[i].fingerprint += "@" + svc.address;
    auto instance = jobs::instance_of(jobs[i]);
    if (auto r = discovery::validate_instance(instance); !r)
      return d.error(d.field(job, "id").value_or(job), "the instance to register is invalid: " + r.error().message);
  }
  return {};
}

Result<Config> decode_config(const Decoder& d, const std::string& file) {
  Node root = d.root();
  if (auto r = d.only_keys(root, kTopKeys); !r) return r.error();
  if (auto r = refuse_unavailable(d, root); !r) return r.error();
  Config c;
  c.file = file;
  if (auto n = d.field(root, "logging")) {
    auto l = decode_logging(d, *n);
    if (!l) return l.error();
    c.logging = *l;
  }
  if (auto n = d.field(root, "stopTimeout")) {
    auto t = d.duration(*n, true);
    if (!t) return t.error();
    if (t->count() < 0) return d.error(*n, "must not be negative");
    if (t->count() > 0) c.stop_timeout = *t;
  }
  if (auto n = d.field(root, "consul")) {
    if (!(*n)->is_string() && !(*n)->is_object()) return d.error(*n, "must be an address string or an object");
    c.consul_given = true;
  }
  if (auto n = d.field(root, "discovery")) {
    auto dc = discovery::decode_discovery(d, *n);
    if (!dc) return dc.error();
    c.discovery = std::move(*dc);
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
  if (auto n = d.field(root, "jobs")) {
    auto jobs = jobs::decode_jobs(d, *n);
    if (!jobs) return jobs.error();
    events::KnownSources known;
    for (const auto& w : c.watches) known.watches.push_back(w.name);
    for (const auto& t : c.templates) known.templates.push_back(t.name);
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
    c.main_job = jobs::Supervisor::default_main_job(c.jobs);
  }
  return c;
}

}  // namespace

bool Config::needs_catalog() const {
  if (!watches.empty() || !templates.empty()) return true;
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

Result<std::string> render(const std::string& path, const Env& env, const LoadOptions& options) {
  auto text = read_file(path);
  if (!text) return text.error();
  return render_text(path, *text, env, options);
}

Result<Config> parse(const std::string& file, const std::string& text, bool text_is_rendered) {
  auto doc = json5::parse(text, file);
  if (!doc) {
    Error e = doc.error();
    if (text_is_rendered) e.message += " (position in the rendered config: see `autopilot -template`)";
    return e;
  }
  Decoder d(*doc, text);
  return decode_config(d, file);
}

Result<Config> load(const std::string& path, const Env& env, const LoadOptions& options) {
  auto raw = read_file(path);
  if (!raw) return raw.error();
  if (!env.count("TempFile"))
    if (auto r = render::check_config_temp_file(path, *raw); !r) return r.error();
  auto rendered = render_text(path, *raw, env, options);
  if (!rendered) return rendered.error();
  return parse(path, *rendered, *rendered != *raw);
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
