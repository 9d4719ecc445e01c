// Endpoint parsing (client.h): the forms etcd's own tools accept for
// --endpoints, minus what a gateway client cannot use (paths, user info).
#include <fmt/format.h>

#include "base/strings.h"

#include <charconv>

#include "discovery/etcd/client.h"

namespace autopilot::discovery::etcd {
namespace {

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

Result<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty()) return make_error("empty port");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return make_error(fmt::format("bad port \"{}\"", text));
  if (value == 0 || value > 65535) return make_error(fmt::format("port {} out of range (1-65535)", text));
  return static_cast<std::uint16_t>(value);
}

// "host", "host:port", "[v6]" or "[v6]:port".
Result<void> parse_authority(std::string_view text, Endpoint& endpoint) {
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return make_error("missing ']'");
    endpoint.host = std::string(text.substr(1, close - 1));
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return make_error("unexpected text after ']'");
      port = rest.substr(1);
      if (port.empty()) return make_error("empty port");
    }
    if (endpoint.host.empty() || endpoint.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos)
      return make_error("bad IPv6 address");
  } else {
    auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos)
      return make_error("an IPv6 address needs brackets, as in http://[::1]:2379");
    endpoint.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = text.substr(colon + 1);
      if (port.empty()) return make_error("empty port");
    }
    if (endpoint.host.empty()) return make_error("no host");
    for (char c : endpoint.host) {
      if (!is_host_char(c)) return make_error(fmt::format("bad character '{}' in the host", c));
    }
  }
  if (!port.empty()) {
    auto parsed = parse_port(port);
    if (!parsed) return parsed.error();
    endpoint.port = *parsed;
  }
  return {};
}

}  // namespace

std::string Endpoint::url() const {
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", tls ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  auto fail = [&](const std::string& why) {
    return make_error(fmt::format("invalid etcd endpoint \"{}\": {}", without_credentials(text), why));
  };
  Endpoint endpoint;
  std::string_view rest = text;
  if (starts_with_nocase(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (starts_with_nocase(rest, "https://")) {
    endpoint.tls = true;
    rest.remove_prefix(8);
  } else if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    return fail(fmt::format("unsupported scheme \"{}\" (http or https)", rest.substr(0, scheme)));
  }
  if (rest.find('@') != std::string_view::npos) return fail("user info is not supported (use username/password)");
  if (rest.find_first_of("?#") != std::string_view::npos) return fail("a query or fragment is not allowed");
  // A lone trailing slash ("http://host:2379/") is common in configs; any
  // other path would be silently dropped, so it is refused.
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (slash != rest.size() - 1) return fail("a path is not allowed");
    rest.remove_suffix(1);
  }
  if (rest.empty()) return fail("no host");
  if (auto ok = parse_authority(rest, endpoint); !ok) return fail(ok.error().message);
  return endpoint;
}

}  // namespace autopilot::discovery::etcd
