#include "files/file_config.h"

#include <map>

#include "decode/decoder.h"
#include "discovery/catalog.h"

namespace autopilot::files {

using decode::Decoder;
using decode::Node;

namespace {

constexpr SourceType kTypes[] = {SourceType::kBase64Env, SourceType::kEnv, SourceType::kUrl,
                                 SourceType::kStash,     SourceType::kKv,  SourceType::kKeep};

Place place_of(const Decoder& d, const Node& n) { return Place{d.error(n, "")}; }

bool is_fetched(SourceType t) { return t == SourceType::kUrl || t == SourceType::kStash; }

Result<mode_t> decode_mode(const Decoder& d, const Node& n) {
  if (!n->is_string())
    return d.error(n,
                   "must be an octal mode string such as \"0640\" (a number is refused: JSON has no octal "
                   "numbers, so 640 would not mean 0640)");
  std::string text = n->get<std::string>();
  if (text.empty() || text.size() > 4 || text.find_first_not_of("01234567") != std::string::npos)
    return d.error(n, "\"" + text + "\" is not an octal file mode (such as \"0640\")");
  return static_cast<mode_t>(std::stoul(text, nullptr, 8));
}

Result<std::string> decode_nonempty(const Decoder& d, const Node& n, const std::string& what) {
  auto s = d.string(n);
  if (!s) return s.error();
  if (s->empty()) return d.error(n, "must be " + what);
  return *s;
}

// https and ca_file, once the URL or the server is known: a CA file is only
// read for https, so one given for plain http is a mistake worth saying.
Result<void> decode_tls_options(const Decoder& d, const Node& n, FileSource& s) {
  if (auto f = d.field(n, "https")) {
    auto b = d.boolean(*f);
    if (!b) return b.error();
    if (*b && s.url && !s.url->endpoint.tls)
      return d.key_error(*f, "is for a stash found in the catalog; this one's server is http:// (give an "
                             "https:// server instead)");
    s.https = *b;
  }
  if (auto f = d.field(n, "ca_file")) {
    auto v = decode_nonempty(d, *f, "the path of a PEM file of CA certificates");
    if (!v) return v.error();
    bool tls = s.url ? s.url->endpoint.tls : s.https;
    if (!tls) {
      if (s.type == SourceType::kUrl) return d.key_error(*f, "applies to https:// URLs, not " + s.url->str());
      return d.key_error(*f, s.url ? "applies to https:// servers, not " + s.url->str()
                                   : "applies to https: add https: true to ask the stash found in the catalog "
                                     "over https");
    }
    s.ca_file = *v;
  }
  return {};
}

// The options of url and stash: sha256, token_env, timeout, retries, ca_file,
// and stash's service, server and https.
Result<void> decode_fetch_options(const Decoder& d, const Node& n, FileSource& s) {
  if (auto f = d.field(n, "sha256")) {
    auto v = d.string(*f);
    if (!v) return v.error();
    std::string hex = *v;
    for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
      return d.error(*f, "must be a SHA-256 digest: 64 hex digits");
    s.sha256 = hex;
  }
  if (auto f = d.field(n, "token_env")) {
    auto v = decode_nonempty(d, *f, "the name of a variable holding a bearer token");
    if (!v) return v.error();
    s.token_env = *v;
  }
  if (auto f = d.field(n, "timeout")) {
    auto t = d.duration(*f, true);
    if (!t) return t.error();
    if (t->count() <= 0) return d.error(*f, "must be > 0");
    s.timeout = *t;
  }
  if (auto f = d.field(n, "retries")) {
    auto r = d.integer(*f);
    if (!r) return r.error();
    if (*r < 0 || *r > 100) return d.error(*f, "must be between 0 and 100");
    s.retries = static_cast<int>(*r);
  }
  if (auto f = d.field(n, "service")) {
    auto v = d.string(*f);
    if (!v) return v.error();
    if (auto r = discovery::validate_service_name(*v); !r) return d.error(*f, r.error().message);
    s.service = *v;
  }
  if (auto f = d.field(n, "server")) {
    auto v = d.string(*f);
    if (!v) return v.error();
    // "" (an unset variable in the config template) means: find it in the catalog.
    if (!v->empty()) {
      auto url = net::parse_url(*v);
      if (!url) return d.error(*f, url.error().message);
      if (url->target != "/") return d.error(*f, "must be a base URL without a path (\"http://stashbox:8080\")");
      s.url = *url;
    }
  }
  return decode_tls_options(d, n, s);
}

Result<FileSource> decode_source(const Decoder& d, const Node& n) {
  static const std::vector<std::string> kKeys{"base64_env", "env",       "url",     "stash",   "kv",      "keep",
                                              "sha256",     "token_env", "timeout", "retries", "service", "server",
                                              "https",      "ca_file"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  FileSource s;
  s.place = place_of(d, n);
  std::optional<Node> which;
  for (SourceType t : kTypes) {
    auto f = d.field(n, source_key(t));
    if (!f) continue;
    if (which)
      return d.key_error(*f, "one source per element: this one is already " + std::string(source_key(s.type)) +
                                 " (give another element of `sources` for the next one to try)");
    which = f;
    s.type = t;
  }
  if (!which) return d.error(n, "needs one of base64_env, env, url, stash, kv or keep");
  for (const char* key : {"sha256", "token_env", "timeout", "retries", "ca_file"})
    if (auto f = d.field(n, key); f && !is_fetched(s.type))
      return d.key_error(*f, std::string("applies to url and stash sources, not ") + source_key(s.type));
  for (const char* key : {"service", "server", "https"})
    if (auto f = d.field(n, key); f && s.type != SourceType::kStash)
      return d.key_error(*f, std::string("applies to stash sources, not ") + source_key(s.type));
  switch (s.type) {
    case SourceType::kKeep: {
      auto b = d.boolean(*which);
      if (!b) return b.error();
      if (!*b) return d.error(*which, "must be true (leave the source out to not keep the file)");
      return s;
    }
    case SourceType::kBase64Env:
    case SourceType::kEnv: {
      auto v = decode_nonempty(d, *which, "the name of an environment variable");
      if (!v) return v.error();
      s.value = *v;
      return s;
    }
    case SourceType::kKv: {
      auto v = decode_nonempty(d, *which, "a catalog key");
      if (!v) return v.error();
      s.value = *v;
      return s;
    }
    case SourceType::kUrl: {
      auto v = decode_nonempty(d, *which, "an http:// or https:// URL");
      if (!v) return v.error();
      auto url = net::parse_url(*v);
      if (!url) return d.error(*which, url.error().message);
      s.value = *v;
      s.url = *url;
      break;
    }
    case SourceType::kStash: {
      auto v = decode_nonempty(d, *which, "a path on the stash server (\"/ssl/ssl.crt\")");
      if (!v) return v.error();
      if ((*v)[0] != '/') return d.error(*which, "must start with '/' (\"/ssl/ssl.crt\")");
      s.value = *v;
      break;
    }
  }
  if (auto r = decode_fetch_options(d, n, s); !r) return r.error();
  return s;
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Result<FileConfig> decode_file(const Decoder& d, const Node& n) {
  static const std::vector<std::string> kKeys{"name", "path", "mode", "owner", "optional", "sources"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  FileConfig f;
  f.place = place_of(d, n);
  auto path = d.field(n, "path");
  if (!path) return d.error(n, "needs a 'path': where the file is written");
  auto p = decode_nonempty(d, *path, "an absolute file path");
  if (!p) return p.error();
  if ((*p)[0] != '/') return d.error(*path, "must be an absolute path, not \"" + *p + "\"");
  if (p->back() == '/') return d.error(*path, "must name a file, not a directory (\"" + *p + "\")");
  f.path = *p;
  f.path_place = place_of(d, *path);
  f.name = base_name(f.path);
  if (auto name = d.field(n, "name")) {
    auto s = decode_nonempty(d, *name, "a name (events come from file.NAME)");
    if (!s) return s.error();
    f.name = *s;
  }
  if (auto mode = d.field(n, "mode")) {
    auto m = decode_mode(d, *mode);
    if (!m) return m.error();
    f.mode = *m;
  }
  if (auto owner = d.field(n, "owner")) {
    auto s = decode_nonempty(d, *owner, "user[:group], as names or numbers");
    if (!s) return s.error();
    f.owner = *s;
  }
  if (auto opt = d.field(n, "optional")) {
    auto b = d.boolean(*opt);
    if (!b) return b.error();
    f.optional = *b;
  }
  auto sources = d.field(n, "sources");
  if (!sources) return d.error(n, "needs 'sources': where the content comes from, tried in order");
  if (auto r = d.require_array(*sources); !r) return r.error();
  if ((*sources)->empty()) return d.error(*sources, "needs at least one source");
  for (size_t i = 0; i < (*sources)->size(); ++i) {
    auto s = decode_source(d, d.element(*sources, i));
    if (!s) return s.error();
    f.sources.push_back(std::move(*s));
  }
  return f;
}

}  // namespace

const char* source_key(SourceType type) {
  switch (type) {
    case SourceType::kBase64Env:
      return "base64_env";
    case SourceType::kEnv:
      return "env";
    case SourceType::kUrl:
      return "url";
    case SourceType::kStash:
      return "stash";
    case SourceType::kKv:
      return "kv";
    case SourceType::kKeep:
      return "keep";
  }
  return "?";
}

bool FileSource::is_secret() const {
  switch (type) {
    case SourceType::kUrl:
      return !token_env.empty();
    case SourceType::kKeep:
      return false;
    default:
      return true;
  }
}

std::string FileSource::describe() const {
  if (type == SourceType::kKeep) return "keep";
  if (type == SourceType::kUrl) return "url " + url->str();
  return std::string(source_key(type)) + " " + value;
}

bool FileConfig::needs_catalog() const {
  for (const auto& s : sources)
    if (s.type == SourceType::kKv || (s.type == SourceType::kStash && !s.url)) return true;
  return false;
}

Result<std::vector<FileConfig>> decode_files(const Decoder& d, const Node& n) {
  if (auto r = d.require_array(n); !r) return r.error();
  std::vector<FileConfig> out;
  std::map<std::string, size_t> names, paths;
  for (size_t i = 0; i < n->size(); ++i) {
    Node e = d.element(n, i);
    auto f = decode_file(d, e);
    if (!f) return f.error();
    Node at = d.field(e, "name").value_or(*d.field(e, "path"));
    if (auto [it, inserted] = names.emplace(f->name, i); !inserted)
      return d.error(at, "duplicate file name \"" + f->name + "\" (also files[" + std::to_string(it->second) +
                             "]); give each a 'name': events come from file.NAME");
    if (auto [it, inserted] = paths.emplace(f->path, i); !inserted)
      return d.error(*d.field(e, "path"),
                     "\"" + f->path + "\" is written by files[" + std::to_string(it->second) + "] already");
    out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace autopilot::files
