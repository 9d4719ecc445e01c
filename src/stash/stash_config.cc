#include "stash/stash_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include <fmt/format.h>

#include "base/base64.h"
#include "base/file.h"
#include "base/strings.h"
#include "decode/decoder.h"
#include "stash/env_overrides.h"

namespace autopilot::stash {
namespace {

using decode::Decoder;
using decode::Node;

const std::vector<std::string> kTopKeys{"PORT", "mounts", "address", "tokenEnv", "tls", "service",
                                        "CONFIG", "LOG4JS_CONFIG"};
const std::vector<std::string> kMountKeys{"mount", "provider", "basePath", "var", "encoding",
                                          "host", "prefix", "tokenEnv"};
const std::vector<std::string> kProviders{"file", "env", "proxy", "kv"};
// StashBox's object-store providers (through pkgcloud): not served here.
const std::vector<std::string> kObjectStores{"amazon", "azure", "google", "hp", "manta", "openstack", "rackspace"};

constexpr const char* kDefaultConfig = R"({ "mounts": [ { "mount": "/", "provider": "file", "basePath": "stash" } ] })";

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string env_or_empty(const Env& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

// Which file to read, in StashBox's order; empty when none (the defaults).
std::string config_path(const StashFlags& flags, const Env& env) {
  if (!flags.config_file.empty()) return flags.config_file;
  if (auto v = env_or_empty(env, "STASHBOX__CONFIG"); !v.empty()) return v;
  if (auto v = env_or_empty(env, "STASHBOX_CONFIG"); !v.empty()) return v;
  struct stat st {};
  if (::stat("config.json", &st) == 0) return "config.json";
  return {};
}

class Reader {
 public:
  Reader(const Decoder& d, const Env& env) : d_(d), env_(env) {}

  Result<StashConfig> read(const Node& root, StashConfig cfg) {
    if (auto r = d_.only_keys(root, kTopKeys); !r) return r.error();
    if (auto n = d_.field(root, "PORT")) {
      auto port = port_of(*n);
      if (!port) return port.error();
      cfg.port = *port;
    }
    if (auto n = d_.field(root, "address")) {
      auto a = d_.string(*n);
      if (!a) return a.error();
      cfg.address = *a;
    }
    std::optional<std::string> global_token;
    if (auto n = d_.field(root, "tokenEnv")) {
      auto t = token(*n);
      if (!t) return t.error();
      global_token = *t;
    }
    auto mounts = d_.field(root, "mounts");
    if (!mounts) return d_.error(root, "no mounts: nothing to serve");
    if (auto r = d_.require_array(*mounts); !r) return r.error();
    for (size_t i = 0; i < (*mounts)->size(); ++i) {
      auto m = mount(d_.element(*mounts, i), global_token);
      if (!m) return m.error();
      for (const auto& other : cfg.mounts)
        if (other.mount == m->mount)
          return d_.error(*d_.field(d_.element(*mounts, i), "mount"), "mount \"" + m->mount + "\" is given twice");
      cfg.mounts.push_back(std::move(*m));
    }
    if (auto n = d_.field(root, "tls")) {
      auto tls = read_tls(*n);
      if (!tls) return tls.error();
      cfg.tls = std::move(*tls);
    }
    if (auto n = d_.field(root, "service")) {
      if (auto r = read_service(*n, cfg.service); !r) return r.error();
    }
    return cfg;
  }

 private:
  Result<int> port_of(const Node& n) {
    auto port = d_.integer(n);
    if (!port) return port.error();
    if (*port < 0 || *port > 65535) return d_.error(n, "must be a port number (0..65535)");
    return static_cast<int>(*port);
  }

  Result<std::string> string(const Node& obj, const char* key, bool required) {
    auto n = d_.field(obj, key);
    if (!n) {
      if (required) return d_.error(obj, std::string("needs \"") + key + "\"");
      return std::string();
    }
    auto s = d_.string(*n);
    if (!s) return s.error();
    if (required && s->empty()) return d_.error(*n, "must not be empty");
    return s;
  }

  // The variable a `tokenEnv` names must hold a token now: a server that
  // was meant to be protected must not start open.
  Result<std::string> token(const Node& n) {
    auto var = d_.string(n);
    if (!var) return var.error();
    auto value = env_or_empty(env_, *var);
    if (value.empty()) return d_.error(n, "the variable " + *var + " is not set (it holds the bearer token)");
    return value;
  }

  Result<std::string> mount_path(const Node& n) {
    auto s = d_.string(n);
    if (!s) return s.error();
    if (s->empty() || (*s)[0] != '/') return d_.error(n, "must start with '/'");
    std::string path = *s;
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    for (const auto& seg : split(std::string_view(path).substr(1), '/'))
      if (seg == "." || seg == ".." || (path != "/" && seg.empty()) || seg.find('%') != std::string::npos)
        return d_.error(n, "must be a plain path (no empty, \".\" or \"..\" segment, no '%')");
    return path;
  }

  Result<std::string> provider_of(const Node& n) {
    auto pnode = d_.field(n, "provider");
    if (!pnode) return d_.error(n, "needs \"provider\" (file, env, proxy or kv)");
    auto provider = d_.string(*pnode);
    if (!provider) return provider.error();
    if (contains(kObjectStores, *provider))
      return d_.error(*pnode, "provider \"" + *provider +
                                  "\" (an object store) is not supported by autopilot stash; "
                                  "sync the objects into a directory served by \"file\", or use \"proxy\"");
    if (!contains(kProviders, *provider)) {
      std::string message = "unknown provider \"" + *provider + "\"";
      if (auto s = suggest(*provider, kProviders)) message += " (did you mean \"" + *s + "\"?)";
      return d_.error(*pnode, message + "; the providers are file, env, proxy and kv");
    }
    return provider;
  }

  Result<MountConfig> mount(const Node& n, const std::optional<std::string>& global_token) {
    if (auto r = d_.require_object(n); !r) return r.error();
    auto provider = provider_of(n);
    if (!provider) return provider.error();
    if (auto r = d_.only_keys(n, kMountKeys); !r) return r.error();
    MountConfig m;
    auto mnode = d_.field(n, "mount");
    if (!mnode) return d_.error(n, "needs \"mount\" (the URL path it serves, e.g. \"/\")");
    auto path = mount_path(*mnode);
    if (!path) return path.error();
    m.mount = *path;
    m.token = global_token;
    if (auto t = d_.field(n, "tokenEnv")) {
      auto tok = token(*t);
      if (!tok) return tok.error();
      m.token = *tok;
    }
    Result<void> decoded = *provider == "file"  ? file_mount(n, m)
                        : *provider == "env" ? env_mount(n, m)
                        : *provider == "proxy" ? proxy_mount(n, m)
                                               : kv_mount(n, m);
    if (!decoded) return decoded.error();
    return m;
  }

  // A key of another provider's ("var" on a file mount) is an error, not ignored.
  Result<void> only_provider_keys(const Node& n, std::initializer_list<std::string_view> allowed,
                                  std::string_view provider) {
    for (std::string_view k : {"basePath", "var", "encoding", "host", "prefix"}) {
      if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
      if (auto f = d_.field(n, k))
        return d_.key_error(*f, fmt::format("\"{}\" does not apply to the {} provider", k, provider));
    }
    return {};
  }

  Result<void> file_mount(const Node& n, MountConfig& m) {
    m.provider = ProviderKind::kFile;
    if (auto r = only_provider_keys(n, {"basePath"}, "file"); !r) return r;
    auto base = string(n, "basePath", true);
    if (!base) return base.error();
    std::error_code ec;
    auto abs = std::filesystem::absolute(*base, ec);
    struct stat st {};
    if (ec || ::stat(abs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return d_.error(*d_.field(n, "basePath"), "\"" + *base + "\" is not a directory");
    m.base_path = abs.lexically_normal().string();
    return {};
  }

  Result<void> env_mount(const Node& n, MountConfig& m) {
    m.provider = ProviderKind::kEnv;
    if (auto r = only_provider_keys(n, {"var", "encoding"}, "env"); !r) return r;
    auto var = string(n, "var", true);
    if (!var) return var.error();
    m.var = *var;
    auto encoding = string(n, "encoding", false);
    if (!encoding) return encoding.error();
    if (!encoding->empty() && *encoding != "base64")
      return d_.error(*d_.field(n, "encoding"), "must be \"base64\" (or left out)");
    auto it = env_.find(*var);
    if (it == env_.end()) return {};  // served as 404, as StashBox does
    m.value = it->second;
    if (*encoding != "base64") return {};
    auto decoded = base64_decode(it->second);
    // The message names the variable, never its content.
    if (!decoded)
      return d_.error(*d_.field(n, "var"),
                      "the variable " + *var + " is not valid base64 (" + decoded.error().message + ")");
    m.value = std::move(*decoded);
    return {};
  }

  Result<void> proxy_mount(const Node& n, MountConfig& m) {
    m.provider = ProviderKind::kProxy;
    if (auto r = only_provider_keys(n, {"host", "basePath"}, "proxy"); !r) return r;
    auto host = string(n, "host", true);
    if (!host) return host.error();
    if (auto r = parse_host(*d_.field(n, "host"), *host, m); !r) return r;
    auto base = string(n, "basePath", false);
    if (!base) return base.error();
    m.base_path = *base;
    while (!m.base_path.empty() && m.base_path.back() == '/') m.base_path.pop_back();
    if (!m.base_path.empty() && m.base_path[0] != '/') m.base_path = "/" + m.base_path;
    return {};
  }

  Result<void> kv_mount(const Node& n, MountConfig& m) {
    m.provider = ProviderKind::kKv;
    if (auto r = only_provider_keys(n, {"prefix"}, "kv"); !r) return r;
    auto prefix = string(n, "prefix", false);
    if (!prefix) return prefix.error();
    m.prefix = *prefix;
    return {};
  }

  // "host", "host:port", "http://host[:port]"; StashBox's proxy speaks http.
  Result<void> parse_host(const Node& n, std::string host, MountConfig& m) {
    if (host.starts_with("https://"))
      return d_.error(n, "https is not supported by the proxy provider; give an http host");
    if (host.starts_with("http://")) host = host.substr(7);
    while (!host.empty() && host.back() == '/') host.pop_back();
    if (host.empty() || host.find('/') != std::string::npos) return d_.error(n, "must be host or host:port");
    std::string port;
    if (host[0] == '[') {  // [v6]:port
      auto close = host.find(']');
      if (close == std::string::npos) return d_.error(n, "must be host or host:port");
      if (close + 1 < host.size()) {
        if (host[close + 1] != ':') return d_.error(n, "must be host or host:port");
        port = host.substr(close + 2);
      }
      host = host.substr(1, close - 1);
    } else if (auto colon = host.find(':'); colon != std::string::npos && host.find(':', colon + 1) == std::string::npos) {
      port = host.substr(colon + 1);
      host.resize(colon);
    }
    if (!port.empty() || host.empty()) {
      if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(port) == 0 || std::stoi(port) > 65535)
        return d_.error(n, "must be host or host:port (bad port)");
      m.host_port = std::stoi(port);
    }
    m.host = host;
    return {};
  }

  Result<TlsConfig> read_tls(const Node& n) {
    static const std::vector<std::string> keys{"cert", "key", "certBase64Env", "keyBase64Env"};
    if (auto r = d_.only_keys(n, keys); !r) return r.error();
    TlsConfig tls;
    auto part = [&](const char* file_key, const char* env_key, std::string& out) -> Result<void> {
      auto file = d_.field(n, file_key);
      auto var = d_.field(n, env_key);
      if (file && var) return d_.key_error(*var, std::string("give \"") + file_key + "\" or \"" + env_key + "\", not both");
      if (!file && !var) return d_.error(n, std::string("needs \"") + file_key + "\" (a PEM file) or \"" + env_key + "\"");
      if (file) {
        auto path = d_.string(*file);
        if (!path) return path.error();
        auto text = read_file(*path);
        if (!text) return d_.error(*file, text.error().message);
        out = std::move(*text);
        return {};
      }
      auto name = d_.string(*var);
      if (!name) return name.error();
      auto it = env_.find(*name);
      if (it == env_.end() || it->second.empty()) return d_.error(*var, "the variable " + *name + " is not set");
      auto decoded = base64_decode(it->second);
      if (!decoded) return d_.error(*var, "the variable " + *name + " is not valid base64 (" + decoded.error().message + ")");
      out = std::move(*decoded);
      return {};
    };
    if (auto r = part("cert", "certBase64Env", tls.cert_pem); !r) return r.error();
    if (auto r = part("key", "keyBase64Env", tls.key_pem); !r) return r.error();
    return tls;
  }

  Result<void> read_service(const Node& n, RegistrationConfig& reg) {
    static const std::vector<std::string> keys{"name", "id", "interfaces", "interval", "ttl"};
    if (auto r = d_.only_keys(n, keys); !r) return r.error();
    if (auto f = d_.field(n, "name")) {
      auto s = d_.string(*f);
      if (!s) return s.error();
      reg.name = *s;
    }
    if (auto f = d_.field(n, "id")) {
      auto s = d_.string(*f);
      if (!s) return s.error();
      reg.id = *s;
    }
    if (auto f = d_.field(n, "interfaces")) {
      if ((*f)->is_string()) {
        reg.interfaces = {(*f)->get<std::string>()};
      } else {
        auto list = d_.string_list(*f);
        if (!list) return list.error();
        reg.interfaces = *list;
      }
    }
    for (auto [key, out] : {std::pair{"interval", &reg.interval}, std::pair{"ttl", &reg.ttl}}) {
      if (auto f = d_.field(n, key)) {
        auto d = d_.duration(*f, true);
        if (!d) return d.error();
        if (d->count() <= 0) return d_.error(*f, "must be positive");
        *out = *d;
      }
    }
    if (reg.ttl <= reg.interval)
      return d_.error(d_.field(n, "ttl").value_or(n), "ttl must be longer than interval");
    return {};
  }

  const Decoder& d_;
  const Env& env_;
};

}  // namespace

bool StashConfig::needs_catalog() const {
  return std::any_of(mounts.begin(), mounts.end(), [](const auto& m) { return m.provider == ProviderKind::kKv; });
}

Result<StashConfig> load_stash_config(const StashFlags& flags, const Env& env) {
  std::string path = config_path(flags, env);
  std::string text = kDefaultConfig;
  std::string source = "the default config (mount / -> file stash)";
  if (!path.empty()) {
    auto read = read_file(path);
    if (!read) return read.error();
    text = std::move(*read);
    source = path;
  }
  auto doc = json5::parse(text, path.empty() ? "<default config>" : path);
  if (!doc) return doc.error();
  if (!doc->value.is_object()) return make_error(path + ": the config must be a JSON object");
  if (auto r = apply_env_overrides(*doc, env); !r) return r.error();
  Decoder d(*doc, text);
  StashConfig cfg;
  cfg.source = source;
  auto read = Reader(d, env).read(d.root(), std::move(cfg));
  if (!read) return read.error();
  if (flags.port) read->port = *flags.port;
  return read;
}

}  // namespace autopilot::stash
