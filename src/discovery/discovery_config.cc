#include "discovery/discovery_config.h"

#include <fmt/format.h>

#include "base/base64.h"
#include "base/file.h"
#include "base/strings.h"
#include "decode/decoder.h"
#include "discovery/etcd/client.h"

namespace autopilot::discovery {

std::string DiscoveryConfig::describe() const {
  if (etcd) return fmt::format("etcd at {} (prefix {})", fmt::join(etcd->endpoints, ","), etcd->prefix);
  return "embedded catalog at " + embedded_dir;
}

namespace {

// The excerpt of an endpoint's error shows the line without the password a
// URL's user info may hold.
Error excerpt_without_credentials(Error e) {
  e.source_line = autopilot::without_credentials(e.source_line);
  return e;
}

Result<std::string> decode_string(const decode::Decoder& d, const decode::Node& obj, std::string_view key,
                                  std::string fallback) {
  auto n = d.field(obj, key);
  if (!n) return fallback;
  return d.string(*n);
}

// A PEM text from `NAME_file` (a path) or `NAME` (base64 of the PEM, e.g.
// from an env var); not both.
Result<std::string> decode_pem(const decode::Decoder& d, const decode::Node& tls, const std::string& name) {
  auto file = d.field(tls, name + "_file");
  auto inline_b64 = d.field(tls, name);
  if (file && inline_b64) return d.key_error(*inline_b64, fmt::format("give {0} or {0}_file, not both", name));
  if (file) {
    auto path = d.string(*file);
    if (!path) return path.error();
    auto text = read_file(*path);
    if (!text) return d.error(*file, text.error().message);
    if (text->find("-----BEGIN") == std::string::npos) return d.error(*file, fmt::format("{} is not a PEM file", *path));
    return std::move(*text);
  }
  if (inline_b64) {
    auto b64 = d.string(*inline_b64);
    if (!b64) return b64.error();
    auto text = base64_decode(*b64);
    if (!text) return d.error(*inline_b64, "must be base64 (of a PEM text): " + text.error().message);
    if (text->find("-----BEGIN") == std::string::npos) return d.error(*inline_b64, "does not decode to a PEM text");
    return std::move(*text);
  }
  return std::string();
}

Result<EtcdConfig> decode_etcd(const decode::Decoder& d, const decode::Node& n) {
  static const std::vector<std::string> kKeys{"endpoints", "prefix", "timeout", "username", "password", "tls"};
  static const std::vector<std::string> kTlsKeys{"ca", "ca_file", "cert", "cert_file", "key", "key_file"};
  if (auto r = d.require_object(n); !r) return r.error();
  for (const auto& key : kTlsKeys) {
    if (auto misplaced = d.field(n, key))
      return d.key_error(*misplaced, fmt::format("\"{0}\" belongs under \"tls\": etcd: {{ tls: {{ {0}: ... }} }}", key));
  }
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  EtcdConfig c;
  auto endpoints = d.field(n, "endpoints");
  if (!endpoints) return d.error(n, "needs \"endpoints\": the client URLs of the etcd members");
  if ((*endpoints)->is_string()) {
    auto text = d.string(*endpoints);
    if (!text) return text.error();
    for (auto part : split(*text, ',')) {
      auto first = part.find_first_not_of(" \t");
      if (first != std::string::npos) c.endpoints.push_back(part.substr(first, part.find_last_not_of(" \t") - first + 1));
    }
    for (const auto& endpoint : c.endpoints) {
      if (auto parsed = etcd::parse_endpoint(endpoint); !parsed)
        return excerpt_without_credentials(d.error(*endpoints, parsed.error().message));
    }
  } else {
    if (auto r = d.require_array(*endpoints); !r) return r.error();
    for (size_t i = 0; i < (*endpoints)->size(); ++i) {
      auto element = d.element(*endpoints, i);
      auto text = d.string(element);
      if (!text) return text.error();
      if (auto parsed = etcd::parse_endpoint(*text); !parsed)
        return excerpt_without_credentials(d.error(element, parsed.error().message));
      c.endpoints.push_back(std::move(*text));
    }
  }
  if (c.endpoints.empty()) return d.error(*endpoints, "needs at least one etcd endpoint");
  auto prefix = decode_string(d, n, "prefix", c.prefix);
  if (!prefix) return prefix.error();
  c.prefix = std::move(*prefix);
  if (c.prefix.size() < 2 || c.prefix.front() != '/' || c.prefix.back() != '/')
    return d.error(*d.field(n, "prefix"), "must start and end with '/', like \"/autopilot/\"");
  if (auto timeout = d.field(n, "timeout")) {
    auto t = d.duration(*timeout, false);
    if (!t) return t.error();
    if (*t <= Duration::zero()) return d.error(*timeout, "must be positive");
    c.timeout = *t;
  }
  auto username = decode_string(d, n, "username", "");
  if (!username) return username.error();
  auto password = decode_string(d, n, "password", "");
  if (!password) return password.error();
  c.username = std::move(*username);
  c.password = std::move(*password);
  if (!c.password.empty() && c.username.empty()) return d.error(*d.field(n, "password"), "a password needs a username");
  if (auto tls = d.field(n, "tls")) {
    if (auto r = d.require_object(*tls); !r) return r.error();
    if (auto r = d.only_keys(*tls, kTlsKeys); !r) return r.error();
    for (auto [name, out] : {std::pair{"ca", &c.ca_pem}, {"cert", &c.cert_pem}, {"key", &c.key_pem}}) {
      auto pem = decode_pem(d, *tls, name);
      if (!pem) return pem.error();
      *out = std::move(*pem);
    }
    if (c.cert_pem.empty() != c.key_pem.empty()) return d.error(*tls, "a client cert and its key go together");
  }
  return c;
}

}  // namespace

Result<DiscoveryConfig> decode_discovery(const decode::Decoder& d, const decode::Node& n) {
  static const std::vector<std::string> kKeys{"embedded", "etcd"};
  static const std::vector<std::string> kEmbeddedKeys{"dir"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  DiscoveryConfig c;
  auto embedded = d.field(n, "embedded");
  auto etcd = d.field(n, "etcd");
  if (embedded && etcd) return d.key_error(*etcd, "choose one catalog: \"embedded\" or \"etcd\", not both");
  if (embedded) {
    if (auto r = d.require_object(*embedded); !r) return r.error();
    if (auto r = d.only_keys(*embedded, kEmbeddedKeys); !r) return r.error();
    if (auto dir = d.field(*embedded, "dir")) {
      auto s = d.string(*dir);
      if (!s) return s.error();
      if (s->empty() || (*s)[0] != '/') return d.error(*dir, "must be an absolute directory path");
      c.embedded_dir = *s;
    }
  }
  if (etcd) {
    auto e = decode_etcd(d, *etcd);
    if (!e) return e.error();
    c.etcd = std::move(*e);
  }
  return c;
}

}  // namespace autopilot::discovery
