#include "health/endpoint.h"

#include <fmt/format.h>

#include <boost/system/error_code.hpp>

namespace autopilot::health {
namespace {

namespace ip = boost::asio::ip;

constexpr std::string_view kHostRule =
    "autopilot does not look up names (use an IPv4 address, an [IPv6] address or localhost)";

std::string quoted(std::string_view s) { return fmt::format("\"{}\"", s); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// The pieces of "host", "host:port", "[v6]" or "[v6]:port", not yet checked.
struct HostPort {
  std::string_view host;
  bool is_bracketed = false;
  std::optional<std::string_view> port;
};

Result<HostPort> split_host_port(std::string_view text, std::string_view whole) {
  HostPort hp;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return make_error(fmt::format("{} has an unclosed '['", quoted(whole)));
    hp.host = text.substr(1, close - 1);
    hp.is_bracketed = true;
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return hp;
    if (rest.front() != ':') return make_error(fmt::format("{} has unexpected text after ']'", quoted(whole)));
    hp.port = rest.substr(1);
    return hp;
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    hp.host = text;
    return hp;
  }
  if (text.find(':', colon + 1) != std::string_view::npos) {
    return make_error(fmt::format("{} has an IPv6 address without brackets (write it as [::1]:PORT)", quoted(whole)));
  }
  hp.host = text.substr(0, colon);
  hp.port = text.substr(colon + 1);
  return hp;
}

Result<std::uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  bool is_valid = !text.empty() && text.size() <= 5;
  for (char c : text) {
    if (c < '0' || c > '9') {
      is_valid = false;
      break;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (!is_valid || value < 1 || value > 65535) {
    return make_error(fmt::format("{} has an invalid port (must be 1..65535)", quoted(whole)));
  }
  return static_cast<std::uint16_t>(value);
}

Result<ip::address> parse_host(const HostPort& hp, std::string_view whole) {
  if (hp.host.empty()) return make_error(fmt::format("{} has no host", quoted(whole)));
  boost::system::error_code ec;
  if (hp.is_bracketed) {
    ip::address_v6 v6 = ip::make_address_v6(std::string(hp.host), ec);
    if (ec) return make_error(fmt::format("{} has an invalid IPv6 address {}", quoted(whole), quoted(hp.host)));
    return ip::address(v6);
  }
  if (iequals(hp.host, "localhost")) return ip::address(ip::address_v4::loopback());
  ip::address_v4 v4 = ip::make_address_v4(std::string(hp.host), ec);
  if (ec) {
    return make_error(
        fmt::format("{} has host {}, which is not an IP address: {}", quoted(whole), quoted(hp.host), kHostRule));
  }
  return ip::address(v4);
}

// The port is checked before the host, so "http://x:99999/" is about the port.
Result<TcpTarget> resolve(const HostPort& hp, std::uint16_t default_port, std::string_view whole) {
  TcpTarget target;
  target.port = default_port;
  if (hp.port) {
    auto port = parse_port(*hp.port, whole);
    if (!port) return port.error();
    target.port = *port;
  }
  auto ip = parse_host(hp, whole);
  if (!ip) return ip.error();
  target.ip = *ip;
  return target;
}

bool has_space_or_control(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool HttpTarget::is_healthy_status(int status) const {
  if (expected_status) return status == *expected_status;
  return status >= 200 && status <= 299;
}

Result<HttpTarget> parse_http_target(std::string_view url, std::optional<int> expected_status) {
  if (istarts_with(url, "https://")) {
    return make_error(fmt::format("{} uses https, which is not supported yet (use http://)", quoted(url)));
  }
  if (!istarts_with(url, "http://")) {
    return make_error(fmt::format("{} is not an http:// URL (expected http://HOST[:PORT][/PATH])", quoted(url)));
  }
  std::string_view rest = url.substr(7);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  tail = tail.substr(0, tail.find('#'));  // a fragment is for the client; never sent

  if (authority.find('@') != std::string_view::npos) {
    return make_error(fmt::format("{} has user info, which is not supported", quoted(url)));
  }
  auto hp = split_host_port(authority, url);
  if (!hp) return hp.error();
  auto address = resolve(*hp, 80, url);
  if (!address) return address.error();
  // Anything below 0x21 would break the request line or smuggle a header.
  if (has_space_or_control(tail)) {
    return make_error(fmt::format("{} has a space or control character in its path", quoted(url)));
  }
  if (expected_status && (*expected_status < 100 || *expected_status > 599)) {
    return make_error(fmt::format("expected status {} is not an HTTP status (must be 100..599)", *expected_status));
  }

  HttpTarget target;
  target.address = *address;
  target.host = hp->is_bracketed ? fmt::format("[{}]", hp->host) : std::string(hp->host);
  if (address->port != 80) target.host += fmt::format(":{}", address->port);
  target.target = tail.empty() || tail.front() == '?' ? fmt::format("/{}", tail) : std::string(tail);
  target.expected_status = expected_status;
  return target;
}

Result<TcpTarget> parse_tcp_target(std::string_view text) {
  if (text.find("://") != std::string_view::npos) {
    return make_error(fmt::format("{} should be HOST:PORT, without a scheme", quoted(text)));
  }
  auto hp = split_host_port(text, text);
  if (!hp) return hp.error();
  if (!hp->port) return make_error(fmt::format("{} has no port (expected HOST:PORT)", quoted(text)));
  return resolve(*hp, 0, text);
}

std::string to_string(const TcpTarget& target) {
  if (target.ip.is_v6()) return fmt::format("[{}]:{}", target.ip.to_string(), target.port);
  return fmt::format("{}:{}", target.ip.to_string(), target.port);
}

std::string to_string(const HttpTarget& target) { return fmt::format("http://{}{}", target.host, target.target); }

}  // namespace autopilot::health
