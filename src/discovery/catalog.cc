#include "discovery/catalog.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace autopilot::discovery {
namespace {

constexpr size_t kMaxServiceName = 63;
constexpr size_t kMaxId = 128;
constexpr size_t kMaxKey = 200;
constexpr size_t kMaxTags = 64;
constexpr size_t kMaxMeta = 64;
constexpr size_t kMaxText = 512;  // a tag, an address, a meta key or value, a node

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// Quotes untrusted text for an error message without letting it forge lines.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 80)) {
    if (is_control(c) || c == '"' || c == '\\') {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  if (text.size() > 80) out += "...";
  return out + "\"";
}

Result<void> validate_text(std::string_view what, std::string_view text) {
  if (text.size() > kMaxText)
    return make_error(fmt::format("{} too long ({} bytes, at most {})", what, text.size(), kMaxText));
  for (char c : text) {
    if (is_control(c)) return make_error(fmt::format("invalid {} {}: control character", what, quoted(text)));
  }
  return {};
}

// An instance's address reaches other programs' configs verbatim (nginx's
// `server ADDRESS:PORT;`): only an IP (v4, or v6 with an optional %zone) or
// a host name (RFC 1123 labels) passes. Empty is allowed (nothing to
// advertise).
Result<void> validate_address(std::string_view address) {
  if (address.empty()) return {};
  auto bad = [&] {
    return make_error(fmt::format("invalid address {}: must be an IP address or a host name", quoted(address)));
  };
  if (address.size() > 253) return bad();
  std::string text(address.substr(0, address.find('%')));
  unsigned char ip[16];
  if (text.find(':') != std::string::npos) {
    if (::inet_pton(AF_INET6, text.c_str(), ip) != 1) return bad();
    for (char c : address.substr(text.size() + (text.size() < address.size())))
      if (!is_alpha(c) && !is_digit(c) && c != '.' && c != '_' && c != '-') return bad();
    return {};
  }
  if (text.size() != address.size()) return bad();  // a zone on an IPv4 address or a name
  if (::inet_pton(AF_INET, text.c_str(), ip) == 1) return {};
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find('.', start), text.size());
    std::string_view label = std::string_view(text).substr(start, end - start);
    if (label.empty() && end == text.size() && start > 0) break;  // one trailing dot: a fully qualified name
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return bad();
    for (char c : label)
      if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_') return bad();
    start = end + 1;
  }
  return {};
}

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    cancel();
    cancel_ = std::move(other.cancel_);
    other.cancel_ = nullptr;
  }
  return *this;
}

void Handle::cancel() {
  if (!cancel_) return;
  auto cancel = std::move(cancel_);
  cancel_ = nullptr;
  cancel();
}

std::string_view status_name(Status status) {
  switch (status) {
    case Status::kPassing:
      return "passing";
    case Status::kWarning:
      return "warning";
    case Status::kCritical:
      return "critical";
    case Status::kMaintenance:
      return "maintenance";
  }
  return "critical";
}

Result<Status> parse_status(std::string_view text) {
  for (Status s : {Status::kPassing, Status::kWarning, Status::kCritical, Status::kMaintenance}) {
    if (status_name(s) == text) return s;
  }
  return make_error(fmt::format("invalid status {}", quoted(text)));
}

Result<void> validate_service_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxServiceName && is_alpha(name[0]);
  for (char c : name) ok = ok && (is_alpha(c) || is_digit(c) || c == '-');
  if (ok) return {};
  return make_error(
      fmt::format("invalid name {}: must start with a letter and hold only letters, digits and '-' (at most {})",
                  quoted(name), kMaxServiceName));
}

Result<void> validate_instance_id(std::string_view id) {
  bool ok = !id.empty() && id.size() <= kMaxId && id[0] != '.';
  for (char c : id) ok = ok && (is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == ':' || c == '-');
  if (ok) return {};
  return make_error(fmt::format(
      "invalid instance id {}: must hold only letters, digits, '.', '_', ':' and '-', not start with '.' (at most {})",
      quoted(id), kMaxId));
}

Result<void> validate_instance(const Instance& instance) {
  if (auto r = validate_service_name(instance.name); !r) return r;
  if (auto r = validate_instance_id(instance.id); !r) return r;
  if (instance.port < 0 || instance.port > 65535) {
    return make_error(fmt::format("invalid port {} for instance {}", instance.port, quoted(instance.id)));
  }
  if (auto r = validate_address(instance.address); !r) return r;
  if (auto r = validate_text("node", instance.node); !r) return r;
  if (instance.tags.size() > kMaxTags) return make_error(fmt::format("too many tags (at most {})", kMaxTags));
  for (const auto& tag : instance.tags) {
    if (auto r = validate_text("tag", tag); !r) return r;
  }
  if (instance.meta.size() > kMaxMeta) return make_error(fmt::format("too many meta entries (at most {})", kMaxMeta));
  for (const auto& [k, v] : instance.meta) {
    if (k.empty()) return make_error("invalid meta key \"\"");
    if (auto r = validate_text("meta key", k); !r) return r;
    if (auto r = validate_text("meta value", v); !r) return r;
  }
  return {};
}

Result<void> validate_key(std::string_view key) {
  auto bad = [&](std::string_view why) { return make_error(fmt::format("invalid key {}: {}", quoted(key), why)); };
  if (key.empty()) return bad("empty");
  if (key.size() > kMaxKey) return bad(fmt::format("longer than {} bytes", kMaxKey));
  if (key[0] == '/') return bad("starts with '/'");
  for (char c : key) {
    if (is_control(c)) return bad("control character");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment == "." || segment == "..") return bad("'.' or '..' path segment");
    start = end + 1;
  }
  return {};
}

Error unknown_instance_error(std::string_view id) {
  return make_error(ErrorKind::kNotFound, fmt::format("unknown instance {}", quoted(id)));
}

std::vector<ServiceSummary> summarize(const std::vector<Instance>& instances) {
  std::map<std::string, std::set<std::string>> tags;
  for (const Instance& instance : instances) tags[instance.name].insert(instance.tags.begin(), instance.tags.end());
  std::vector<ServiceSummary> out;
  for (auto& [name, set] : tags) out.push_back({name, std::vector<std::string>(set.begin(), set.end())});
  return out;
}

}  // namespace autopilot::discovery
