#include "stash/stash.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <fmt/format.h>

#include "base/strings.h"
#include "stash/request_path.h"

namespace autopilot::stash {

using net::HttpResponse;

struct Stash::Mount {
  MountConfig config;
  std::vector<std::string> prefix;  // the mount path's segments
  std::optional<FileStore> files;   // file
  std::string env_etag;             // env
};

namespace {

constexpr std::chrono::milliseconds kProxyTimeout{10'000};

// FNV-1a: a cheap fingerprint for the ETags of contents without a file.
std::string content_etag(std::string_view content) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : content) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("\"{:x}-{:x}\"", content.size(), h);
}

std::string content_type_of(const std::string& name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".json", "application/json"}, {".html", "text/html; charset=utf-8"}, {".txt", "text/plain; charset=utf-8"},
      {".conf", "text/plain; charset=utf-8"}, {".yml", "text/yaml"}, {".yaml", "text/yaml"},
      {".pem", "application/x-pem-file"}, {".crt", "application/x-x509-ca-cert"}, {".js", "text/javascript"},
      {".css", "text/css"}, {".xml", "application/xml"}};
  for (const auto& [ext, type] : kTypes)
    if (name.size() > std::strlen(ext) && name.ends_with(ext)) return type;
  return "application/octet-stream";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Constant time in the content (a length mismatch fails at once: the
// length is not the secret).
bool same_token(std::string_view given, std::string_view wanted) {
  if (given.size() != wanted.size() || wanted.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ wanted[i]);
  return diff == 0;
}

HttpResponse not_found() { return HttpResponse::text(404, "not found\n"); }

HttpResponse ok(std::string body, std::string etag, std::string content_type, const net::HttpRequest& request) {
  HttpResponse r;
  if (!etag.empty()) r.headers.emplace_back("ETag", etag);
  if (!etag.empty() && !request.if_none_match.empty() && etag_matches(request.if_none_match, etag)) {
    r.status = 304;
    return r;
  }
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

}  // namespace

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  auto opaque = [](std::string_view t) {
    t = trim(t);
    if (t.starts_with("W/")) t.remove_prefix(2);
    return t;
  };
  for (const auto& candidate : split(if_none_match, ',')) {
    auto c = opaque(candidate);
    if (c == "*" || c == opaque(etag)) return true;
  }
  return false;
}

Stash::Stash(boost::asio::io_context& loop, discovery::Catalog* catalog, log::Log& log)
    : catalog_(catalog), log_(log), resolver_(loop), proxy_(loop, resolver_, kProxyTimeout) {}

Stash::~Stash() = default;

Result<std::unique_ptr<Stash>> Stash::make(const StashConfig& config, boost::asio::io_context& loop,
                                           discovery::Catalog* catalog, log::Log& log) {
  std::unique_ptr<Stash> stash(new Stash(loop, catalog, log));
  for (const auto& m : config.mounts) {
    Mount mount{m, {}, {}, {}};
    if (m.mount != "/") mount.prefix = split(std::string_view(m.mount).substr(1), '/');
    if (m.provider == ProviderKind::kFile) {
      auto files = FileStore::open(m.base_path);
      if (!files) return files.error();
      mount.files.emplace(std::move(*files));
    }
    if (m.provider == ProviderKind::kEnv && m.value) mount.env_etag = content_etag(*m.value);
    stash->mounts_.push_back(std::move(mount));
  }
  std::stable_sort(stash->mounts_.begin(), stash->mounts_.end(),
                   [](const Mount& a, const Mount& b) { return a.prefix.size() > b.prefix.size(); });
  return stash;
}

void Stash::handle(const net::HttpRequest& request, net::HttpServer::Reply reply) {
  if (request.method != "GET" && request.method != "HEAD") {
    auto r = HttpResponse::text(405, "method not allowed\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return reply(std::move(r));
  }
  auto path = parse_request_path(request.target);
  if (!path) {
    log_.debug(fmt::format("stash: refused a request path ({})", path.error().message));
    return reply(HttpResponse::text(400, "bad path\n"));
  }
  if (path->text() == kHealthPath) return reply(HttpResponse::text(200, "ok\n"));
  for (const auto& mount : mounts_) {
    auto rest = path->segments;
    if (!strip_mount(mount.prefix, rest)) continue;
    if (mount.config.token) {
      std::string_view auth = request.authorization;
      bool bearer = auth.size() > 7 && std::equal(auth.begin(), auth.begin() + 7, "bearer ",
                                                  [](char a, char b) { return std::tolower(a) == b; });
      if (!bearer || !same_token(trim(auth.substr(7)), *mount.config.token)) {
        auto r = HttpResponse::text(401, "unauthorized\n");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"stash\"");
        return reply(std::move(r));
      }
    }
    return serve(mount, rest, path->trailing_slash, request, std::move(reply));
  }
  reply(not_found());
}

void Stash::serve(const Mount& mount, const std::vector<std::string>& rest, bool trailing_slash,
                  const net::HttpRequest& request, net::HttpServer::Reply reply) {
  const MountConfig& m = mount.config;
  switch (m.provider) {
    case ProviderKind::kFile: {
      if (trailing_slash) return reply(not_found());  // no listings
      auto file = mount.files->read(rest);
      if (!file) {
        log_.warn(fmt::format("stash: {}", file.error().message));
        return reply(HttpResponse::text(500, "cannot read\n"));
      }
      if (!*file) return reply(not_found());
      return reply(ok(std::move((*file)->content), std::move((*file)->etag), content_type_of(rest.back()), request));
    }
    case ProviderKind::kEnv:
      if (!rest.empty() || trailing_slash || !m.value) return reply(not_found());
      return reply(ok(*m.value, mount.env_etag, content_type_of(m.mount), request));
    case ProviderKind::kProxy: {
      std::string target = m.base_path;
      for (const auto& s : rest) target += "/" + encode_segment(s);
      if (target.empty() || trailing_slash) target += "/";
      std::string name = rest.empty() ? m.mount : rest.back();
      proxy_.get(m.host, m.host_port, target,
                 [this, reply, name, request](Result<Upstream> up) {
                   if (!up) {
                     log_.warn(fmt::format("stash: proxy: {}", up.error().message));
                     return reply(HttpResponse::text(502, "bad gateway\n"));
                   }
                   if (up->status == 404) return reply(not_found());
                   if (up->status != 200) return reply(HttpResponse::text(502, fmt::format("upstream answered {}\n", up->status)));
                   std::string etag = up->etag.empty() ? content_etag(up->body) : up->etag;
                   std::string type = up->content_type.empty() ? content_type_of(name) : up->content_type;
                   reply(ok(std::move(up->body), std::move(etag), std::move(type), request));
                 });
      return;
    }
    case ProviderKind::kKv: {
      if (!catalog_ || rest.empty() || trailing_slash) return reply(not_found());
      std::string key = m.prefix + join(rest, "/");
      if (!discovery::validate_key(key)) return reply(not_found());
      catalog_->get(key, lifetime_.bind([this, reply, request, key](Result<std::optional<discovery::KvEntry>> entry) {
        if (!entry) {
          log_.warn(fmt::format("stash: reading key {}: {}", key, entry.error().message));
          return reply(HttpResponse::text(503, "catalog unavailable\n"));
        }
        if (!*entry) return reply(not_found());
        std::string etag = fmt::format("\"kv-{:x}\"", (*entry)->mod_index);
        reply(ok(std::move((*entry)->value), std::move(etag), content_type_of(key), request));
      }));
      return;
    }
  }
}

}  // namespace autopilot::stash
