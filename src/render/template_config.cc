#include "render/template_config.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "base/file.h"
#include "decode/command.h"
#include "decode/decoder.h"
#include "tmpl/template.h"
#include "tmplfuncs/functions.h"

namespace autopilot::render {
namespace {

using decode::Decoder;
using decode::Node;

// A Source with nothing loaded: for parsing only.
class NoSource : public tmplfuncs::Source {
 public:
  std::optional<tmpl::Value> service(const tmplfuncs::ServiceQuery&) override { return std::nullopt; }
  const std::vector<discovery::ServiceSummary>* services() override { return nullptr; }
  const std::vector<discovery::KvEntry>* kv(const std::string&) override { return nullptr; }
  std::optional<std::string> env(const std::string&) override { return std::nullopt; }
  Result<std::string> file(const std::string&) override { return std::string(); }
};

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<Duration> nonnegative(const Decoder& d, const Node& n) {
  auto v = d.duration(n, true);
  if (!v) return v.error();
  if (v->count() < 0) return d.error(n, "must not be negative");
  return *v;
}

Result<void> decode_wait(const Decoder& d, const Node& n, TemplateConfig& t) {
  static const std::vector<std::string> kKeys{"min", "max"};
  if (n->is_string()) {
    // "min:max" or "min", as consul-template's -wait.
    std::string s = n->get<std::string>();
    auto colon = s.find(':');
    auto min = parse_duration(s.substr(0, colon), true);
    if (!min) return d.error(n, "min: " + min.error().message);
    t.wait_min = *min;
    t.wait_max = 4 * *min;
    if (colon != std::string::npos) {
      auto max = parse_duration(s.substr(colon + 1), true);
      if (!max) return d.error(n, "max: " + max.error().message);
      t.wait_max = *max;
    }
  } else {
    if (auto r = d.require_object(n); !r) return r.error();
    if (auto r = d.only_keys(n, kKeys); !r) return r.error();
    if (auto min = d.field(n, "min")) {
      auto v = nonnegative(d, *min);
      if (!v) return v.error();
      t.wait_min = *v;
      t.wait_max = 4 * *v;
    }
    if (auto max = d.field(n, "max")) {
      auto v = nonnegative(d, *max);
      if (!v) return v.error();
      t.wait_max = *v;
    }
  }
  if (t.wait_min.count() < 0 || t.wait_max < t.wait_min)
    return d.error(n, "max (" + format_duration(t.wait_max) + ") must not be less than min (" +
                          format_duration(t.wait_min) + ")");
  return {};
}

Result<mode_t> decode_perms(const Decoder& d, const Node& n) {
  std::string text;
  if (n->is_string()) {
    text = n->get<std::string>();
  } else if (n->is_number()) {
    // JSON has no octal numbers: 420 may mean 0644 (decimal) or 0420 (its
    // digits). A string says which.
    std::string hint;
    if (n->is_number_integer() && n->get<long long>() >= 0 && n->get<long long>() <= 07777)
      hint = fmt::format(": JSON numbers are decimal, so {0} is mode {1:04o}; write \"{1:04o}\" (or \"{0:0>4}\")",
                         n->get<long long>(), n->get<long long>());
    return d.error(n, "must be an octal mode string such as \"0644\", not a number" + hint);
  } else {
    return d.error(n, "must be an octal mode string such as \"0644\"");
  }
  if (text.empty() || text.size() > 4 || text.find_first_not_of("01234567") != std::string::npos)
    return d.error(n, "\"" + text + "\" is not an octal file mode (such as \"0644\")");
  return static_cast<mode_t>(std::stoul(text, nullptr, 8));
}

Result<TemplateConfig> decode_template(const Decoder& d, const Node& n, const std::string& config_dir,
                                       const std::string& where) {
  static const std::vector<std::string> kKeys{
      "name",    "source",  "contents",        "destination",         "perms",           "backup",
      "wait",    "check",   "command",         "command_timeout",     "create_dest_dirs", "error_on_missing_key"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  TemplateConfig t;
  t.fingerprint = n->dump();
  auto source = d.field(n, "source");
  auto contents = d.field(n, "contents");
  if ((source ? 1 : 0) + (contents ? 1 : 0) != 1) return d.error(n, "needs exactly one of 'source' or 'contents'");
  if (source) {
    auto s = d.string(*source);
    if (!s) return s.error();
    if (s->empty()) return d.error(*source, "must be a file path");
    t.source = (*s)[0] == '/' || config_dir.empty() ? *s : config_dir + "/" + *s;
    auto text = read_file(t.source);
    if (!text) return d.error(*source, text.error().message);
    t.text = *text;
    t.template_file = t.source;
    t.fingerprint += "\n" + t.text;  // an edited template file is a changed template on reload
  } else {
    auto s = d.string(*contents);
    if (!s) return s.error();
    t.text = *s;
    t.template_file = d.file() + ": " + where + ".contents";
  }
  auto dest = d.field(n, "destination");
  if (!dest) return d.error(n, "needs a 'destination' (the file to write)");
  auto ds = d.string(*dest);
  if (!ds) return ds.error();
  if (ds->empty() || ds->back() == '/') return d.error(*dest, "must be a file path");
  t.destination = *ds;
  t.name = base_name(t.destination);
  if (auto name = d.field(n, "name")) {
    auto s = d.string(*name);
    if (!s) return s.error();
    if (s->empty() || s->find_first_of(" \t\n") != std::string::npos)
      return d.error(*name, "must be a word (events come from template.NAME)");
    t.name = *s;
  }
  if (auto perms = d.field(n, "perms")) {
    auto p = decode_perms(d, *perms);
    if (!p) return p.error();
    t.perms = *p;
  }
  for (auto [key, target] : {std::pair{"backup", &t.backup}, std::pair{"create_dest_dirs", &t.create_dest_dirs},
                             std::pair{"error_on_missing_key", &t.error_on_missing_key}}) {
    if (auto f = d.field(n, key)) {
      auto b = d.boolean(*f);
      if (!b) return b.error();
      *target = *b;
    }
  }
  if (auto wait = d.field(n, "wait"); wait)
    if (auto r = decode_wait(d, *wait, t); !r) return r.error();
  if (auto check = d.field(n, "check")) {
    auto argv = decode::command(d, *check);
    if (!argv) return argv.error();
    t.check = std::move(*argv);
  }
  if (auto command = d.field(n, "command")) {
    auto argv = decode::command(d, *command);
    if (!argv) return argv.error();
    t.command = std::move(*argv);
  }
  if (auto timeout = d.field(n, "command_timeout")) {
    auto v = nonnegative(d, *timeout);
    if (!v) return v.error();
    if (v->count() == 0) return d.error(*timeout, "must be > 0");
    t.command_timeout = *v;
  }
  if (auto r = check_template(t); !r) {
    // Errors inside an inline template point into the config file's string;
    // the template's own line:col is in the message.
    if (contents) return d.error(*contents, r.error().message);
    return r.error();
  }
  return t;
}

}  // namespace

Result<void> check_config_temp_file(const std::string& file, std::string_view raw_config) {
  auto uses = tmpl::field_uses(file, raw_config, "TempFile");
  if (uses.empty()) return {};
  const SourcePos& at = uses.front();
  return error_at(file, raw_config, at.line, at.col,
                  "{{.TempFile}} is read by the config's own templating (the config file is rendered over the "
                  "environment first) and becomes \"\"; to pass it to a template's check, write "
                  "{{ \"{{.TempFile}}\" }}");
}

Result<void> check_template(const TemplateConfig& t) {
  NoSource none;
  tmpl::FuncMap funcs;
  tmplfuncs::add_consul_template_funcs(funcs, none);
  auto parsed = tmpl::Template::parse(t.template_file, t.text, funcs);
  if (!parsed) return parsed.error();
  return {};
}

Result<std::vector<TemplateConfig>> decode_templates(const Decoder& d, const Node& n, const std::string& config_dir) {
  if (auto r = d.require_array(n); !r) return r.error();
  std::vector<TemplateConfig> out;
  std::map<std::string, size_t> names, destinations;
  for (size_t i = 0; i < n->size(); ++i) {
    Node e = d.element(n, i);
    auto t = decode_template(d, e, config_dir, "templates[" + std::to_string(i) + "]");
    if (!t) return t.error();
    if (auto [it, inserted] = names.emplace(t->name, i); !inserted)
      return d.error(d.field(e, "name").value_or(e), "duplicate template name \"" + t->name + "\" (also templates[" +
                                                         std::to_string(it->second) + "]); give each a 'name'");
    if (auto [it, inserted] = destinations.emplace(t->destination, i); !inserted)
      return d.error(*d.field(e, "destination"),
                     "templates[" + std::to_string(it->second) + "] writes the same file");
    out.push_back(std::move(*t));
  }
  return out;
}

Result<TemplateConfig> template_from_flag(const std::string& flag) {
  std::vector<std::string> pieces;
  std::string piece;
  for (char c : flag) {
    if (c == ':') {
      if (!piece.empty()) pieces.push_back(piece);
      piece.clear();
    } else {
      piece += c;
    }
  }
  if (!piece.empty()) pieces.push_back(piece);
  if (pieces.size() < 2) return make_error("-template \"" + flag + "\": expected SOURCE:DESTINATION[:COMMAND]");
  TemplateConfig t;
  t.source = pieces[0];
  t.destination = pieces[1];
  t.name = base_name(t.destination);
  if (pieces.size() > 2) {
    std::string command = pieces[2];
    for (size_t i = 3; i < pieces.size(); ++i) command += ":" + pieces[i];
    t.command = {"sh", "-c", command};
  }
  auto text = read_file(t.source);
  if (!text) return make_error("-template \"" + flag + "\": " + text.error().message);
  t.text = *text;
  t.template_file = t.source;
  t.fingerprint = flag;
  if (auto r = check_template(t); !r) return r.error();
  return t;
}

}  // namespace autopilot::render
