// Endpoint: the addresses health checks probe, parsed from what users write
// in the config: `http://HOST[:PORT][/PATH][?QUERY]` for http checks and
// `HOST:PORT` / `[IPv6]:PORT` for tcp checks.
//
// Hosts are literal only: an IPv4 address, an [IPv6] address in brackets, or
// `localhost` (taken as 127.0.0.1). The binary is static, so there is no
// resolver (no NSS) and no name is ever looked up. https is not supported
// yet. Parse errors are for people: they quote the value and say what is
// wrong; the caller adds the config position (`file:line:col: `).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace autopilot::health {

// Where a check connects.
struct TcpTarget {
  boost::asio::ip::address ip;
  std::uint16_t port = 0;

  bool operator==(const TcpTarget&) const = default;
};

// One HTTP GET and the status that counts as healthy.
struct HttpTarget {
  TcpTarget address;
  std::string host;                    // the Host header: the host as written, ":PORT" added unless 80
  std::string target;                  // the request target, "/PATH?QUERY"; at least "/"
  std::optional<int> expected_status;  // an exact code; nullopt means any 2xx

  bool is_healthy_status(int status) const;
  bool operator==(const HttpTarget&) const = default;
};

// `"http://x:99999/" has an invalid port (must be 1..65535)` and the like.
// `expected_status`, when given, must be 100..599. A fragment (#...) is
// dropped: it is never sent.
Result<HttpTarget> parse_http_target(std::string_view url, std::optional<int> expected_status = std::nullopt);

// HOST:PORT or [IPv6]:PORT; the port is required.
Result<TcpTarget> parse_tcp_target(std::string_view text);

// For logs: "127.0.0.1:8080", "[::1]:8080", "http://localhost:8080/health".
std::string to_string(const TcpTarget& target);
std::string to_string(const HttpTarget& target);

}  // namespace autopilot::health
