// Resolver: host names to addresses on the event loop, without glibc's NSS
// (the static binary runs in scratch/alpine images where NSS is missing or
// different). Built on c-ares: it reads /etc/hosts and /etc/resolv.conf and
// queries DNS itself; its sockets are watched by the Asio loop, so a lookup
// never blocks and never needs a thread.
//
// Rules: IP literals (v4 or v6, with or without [brackets]) answer without any
// lookup; "localhost" answers 127.0.0.1 (and ::1) even without /etc/hosts.
// Answers come IPv4 first, in the resolver's order. Every resolve() calls its
// callback exactly once, on the loop, never inline; a lookup is bounded by
// `timeout`. Destroying the Resolver cancels pending lookups (their callbacks
// never run). Loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/result.h"

namespace autopilot::net {

using Addresses = std::vector<boost::asio::ip::address>;

struct ResolverOptions {
  Duration timeout = std::chrono::seconds(2);  // bound of one resolve(), hosts file and DNS together
  // DNS servers as "ip", "ip:port" or "[ipv6]:port"; empty: those of /etc/resolv.conf.
  std::vector<std::string> servers;
  // A hosts file read instead of /etc/hosts (tests point it at a fixture); empty: /etc/hosts.
  std::string hosts_file;
};

class Resolver {
 public:
  explicit Resolver(boost::asio::io_context& io, Duration timeout = std::chrono::seconds(2));
  Resolver(boost::asio::io_context& io, ResolverOptions options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Errors read like "cannot resolve \"etcd-1\": no such host" or
  // "cannot resolve \"etcd-1\": timed out after 2s".
  void resolve(const std::string& host, std::function<void(Result<Addresses>)> done);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// An IP literal (brackets allowed for v6), or nullopt for a name.
std::optional<boost::asio::ip::address> parse_ip_literal(std::string_view host);

}  // namespace autopilot::net
