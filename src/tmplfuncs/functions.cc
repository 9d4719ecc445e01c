#include "tmplfuncs/functions.h"

#include <string>
#include <vector>

#include "tmpl/string_funcs.h"
#include "tmplfuncs/helpers.h"
#include "tmplfuncs/records.h"

namespace autopilot::tmplfuncs {
namespace {

using tmpl::Value;
using tmpl::funcs::text_of;
using tmpl::funcs::wrong_args;

using Args = std::span<const Value>;

// consul-template drops a leading '/' from keys and prefixes.
std::string strip_slash(std::string s) { return !s.empty() && s[0] == '/' ? s.substr(1) : s; }

// `ls "a/b"` and `ls "a/b/"` both list the folder "a/b/"; "" is the root.
std::string folder_prefix(const std::string& arg) {
  std::string p = strip_slash(arg);
  if (!p.empty() && p.back() != '/') p += '/';
  return p;
}

// The entry with exactly `key`: nullptr when it is missing or not loaded yet
// (both read as a missing key). The Source lists the prefix `key`, which
// also holds longer keys ("a/b" lists "a/bc" and "a/b/c").
const discovery::KvEntry* find_key(Source& source, const std::string& key) {
  const auto* entries = source.kv(key);
  if (!entries) return nullptr;
  for (const auto& e : *entries)
    if (e.key == key) return &e;
  return nullptr;
}

enum class Depth { kChildren, kAll };

// ls and tree: pairs under the folder `arg`, keys relative to it.
Result<Value> list_pairs(Source& source, const std::string& arg, Depth depth) {
  std::vector<Value> out;
  if (arg.empty()) return Value::list(std::move(out));  // as consul-template: nothing to list
  std::string prefix = folder_prefix(arg);
  if (!prefix.empty()) {  // "" lists the whole store
    if (auto valid = discovery::validate_key(prefix); !valid) return valid.error();
  }
  const auto* entries = source.kv(prefix);
  if (!entries) return Value::list(std::move(out));
  for (const auto& e : *entries) {
    if (e.key.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rel = e.key.substr(prefix.size());
    if (rel.empty() || rel.back() == '/') continue;  // the folder itself, or a placeholder
    if (depth == Depth::kChildren && rel.find('/') != std::string::npos) continue;
    out.push_back(key_pair_value(e, std::move(rel)));
  }
  return Value::list(std::move(out));
}

void add_service_funcs(tmpl::FuncMap& funcs, Source& source) {
  funcs.add("service", [&source](Args args) -> Result<Value> {
    if (args.empty() || args.size() > 2)
      return make_error("service: want 1 or 2 arguments, got " + std::to_string(args.size()));
    std::string text = text_of(args[0]);
    if (text.empty()) return Value::list({});
    auto query = parse_service_query(text, args.size() == 2 ? text_of(args[1]) : "");
    if (!query) return query.error();
    if (auto records = source.service(*query)) return std::move(*records);  // shared, built once per delivery
    return Value::list({});
  });
  funcs.add("services", [&source](Args args) -> Result<Value> {
    if (!args.empty()) return wrong_args("services", 0, args.size());
    std::vector<Value> out;
    if (const auto* services = source.services())
      for (const auto& service : *services) out.push_back(service_snippet_value(service.name, service.tags));
    return Value::list(std::move(out));
  });
}

void add_kv_funcs(tmpl::FuncMap& funcs, Source& source) {
  funcs.add("key", [&source](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("key", 1, args.size());
    std::string key = strip_slash(text_of(args[0]));
    if (key.empty()) return Value("");
    if (auto valid = discovery::validate_key(key); !valid) return valid.error();
    const auto* e = find_key(source, key);
    return Value(e ? e->value : std::string());
  });
  funcs.add("keyExists", [&source](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("keyExists", 1, args.size());
    std::string key = strip_slash(text_of(args[0]));
    if (key.empty()) return Value(false);
    if (auto valid = discovery::validate_key(key); !valid) return valid.error();
    return Value(find_key(source, key) != nullptr);
  });
  // consul-template up to 0.15 spelled it key_or_default; old templates still do.
  for (const char* name : {"keyOrDefault", "key_or_default"}) {
    funcs.add(name, [&source, name](Args args) -> Result<Value> {
      if (args.size() != 2) return wrong_args(name, 2, args.size());
      std::string key = strip_slash(text_of(args[0]));
      if (key.empty()) return Value(text_of(args[1]));
      // An invalid key is the template's error, not an unavailable catalog.
      if (auto valid = discovery::validate_key(key); !valid) return valid.error();
      const auto* e = find_key(source, key);
      return Value(e && !e->value.empty() ? e->value : text_of(args[1]));
    });
  }
  funcs.add("ls", [&source](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("ls", 1, args.size());
    return list_pairs(source, text_of(args[0]), Depth::kChildren);
  });
  funcs.add("tree", [&source](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("tree", 1, args.size());
    return list_pairs(source, text_of(args[0]), Depth::kAll);
  });
}

void add_env_and_file_funcs(tmpl::FuncMap& funcs, Source& source) {
  funcs.add("env", [&source](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("env", 1, args.size());
    return Value(source.env(text_of(args[0])).value_or(""));
  });
  funcs.add("mustEnv", [&source](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("mustEnv", 1, args.size());
    std::string name = text_of(args[0]);
    std::string value = source.env(name).value_or("");
    if (value.empty()) return make_error("mustEnv: required environment variable " + name + " is empty");
    return Value(std::move(value));
  });
  funcs.add("envOrDefault", [&source](Args args) -> Result<Value> {
    if (args.size() != 2) return wrong_args("envOrDefault", 2, args.size());
    return Value(source.env(text_of(args[0])).value_or(text_of(args[1])));
  });
  funcs.add("file", [&source](Args args) -> Result<Value> {
    if (args.size() != 1) return wrong_args("file", 1, args.size());
    std::string path = text_of(args[0]);
    if (path.empty()) return Value("");
    auto text = source.file(path);
    if (!text) return text.error();
    return Value(std::move(*text));
  });
}

}  // namespace

void add_consul_template_funcs(tmpl::FuncMap& funcs, Source& source, WallClock now) {
  add_service_funcs(funcs, source);
  add_kv_funcs(funcs, source);
  add_env_and_file_funcs(funcs, source);
  add_collection_funcs(funcs);
  add_string_funcs(funcs);
  add_number_funcs(funcs);
  add_encoding_funcs(funcs, now ? std::move(now) : WallClock(std::chrono::system_clock::now));
}

}  // namespace autopilot::tmplfuncs
