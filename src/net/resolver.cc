// Resolver on c-ares, driven by the Asio loop (see resolver.h).
//
// How the loop drives c-ares:
// - c-ares reports each socket it opens, and what it waits for, through
//   ARES_OPT_SOCK_STATE_CB; each one is wrapped (not owned) in a
//   stream_descriptor and waited on with async_wait. (0, 0) means c-ares is
//   about to close it: the descriptor is released, its waits cancelled.
// - Asio's epoll reactor is edge-triggered and async_wait only sees edges that
//   come while a wait is queued, so after every (re)arm the socket is also
//   polled with a zero timeout; c-ares then reads whatever is already there.
// - c-ares' own retries and timeouts run from one steady_timer set from
//   ares_timeout() after every call into c-ares (ares_process_fd with
//   ARES_SOCKET_BAD for both sockets processes timeouts only).
// - Every lookup also has its own deadline (ResolverOptions::timeout), so a
//   lookup ends on time whatever c-ares' retry schedule; c-ares' late answer
//   is then dropped.
// - c-ares may call back inside ares_getaddrinfo() (hosts file, errors) or
//   inside ares_process_fd(); results are therefore always posted. Every
//   handler holds a weak token of the Impl and does nothing once it is gone;
//   ares_destroy() calls the pending callbacks with ARES_EDESTRUCTION, which
//   are swallowed.
#include "net/resolver.h"

#include <ares.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "base/lifetime.h"

namespace autopilot::net {

namespace {

using Clock = std::chrono::steady_clock;
using Callback = std::function<void(Result<Addresses>)>;

// ares_library_init once per process; never cleaned up (other channels may live).
int init_library() {
  static const int status = ares_library_init(ARES_LIB_INIT_ALL);
  return status;
}

std::string lookup_error(const std::string& host, const std::string& why) {
  return fmt::format("cannot resolve \"{}\": {}", host, why);
}

std::string describe_status(int status) {
  switch (status) {
    case ARES_ENOTFOUND:
      return "no such host";
    case ARES_ENODATA:
      return "no such host (the name has no address records)";
    case ARES_ESERVFAIL:
      return "DNS server failure (SERVFAIL)";
    case ARES_EREFUSED:
      return "the DNS server refused the query";
    case ARES_ECONNREFUSED:
      return "no DNS server answered (connection refused)";
    case ARES_EBADNAME:
      return "not a valid host name";
    case ARES_EFILE:
      return "cannot read the hosts file";
    case ARES_ENOMEM:
      return "out of memory";
    default:
      return ares_strerror(status);
  }
}

bool is_localhost(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host.size() == 9 && ::strncasecmp(host.data(), "localhost", 9) == 0;
}

// IPv4 first, otherwise in the given order, without duplicates.
Addresses ipv4_first(Addresses in) {
  Addresses out;
  for (int pass = 0; pass < 2; ++pass)
    for (auto& a : in)
      if (a.is_v4() == (pass == 0) && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  return out;
}

Addresses to_addresses(const ares_addrinfo* ai) {
  Addresses out;
  for (auto* node = ai != nullptr ? ai->nodes : nullptr; node != nullptr; node = node->ai_next) {
    if (node->ai_family == AF_INET && node->ai_addr != nullptr) {
      auto* sin = reinterpret_cast<const sockaddr_in*>(node->ai_addr);
      out.push_back(boost::asio::ip::address_v4(ntohl(sin->sin_addr.s_addr)));
    } else if (node->ai_family == AF_INET6 && node->ai_addr != nullptr) {
      auto* sin6 = reinterpret_cast<const sockaddr_in6*>(node->ai_addr);
      boost::asio::ip::address_v6::bytes_type bytes;
      std::copy_n(sin6->sin6_addr.s6_addr, bytes.size(), bytes.begin());
      out.push_back(boost::asio::ip::address_v6(bytes, sin6->sin6_scope_id));
    }
  }
  return ipv4_first(std::move(out));
}

std::chrono::milliseconds to_ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); }

}  // namespace

class Resolver::Impl {
 public:
  Impl(boost::asio::io_context& io, ResolverOptions options);
  ~Impl();
  void resolve(const std::string& host, Callback done);

 private:
  // A socket of c-ares, watched (not owned) by the loop.
  struct Socket {
    Socket(boost::asio::io_context& io, ares_socket_t fd) : fd(fd), descriptor(io) {}
    ares_socket_t fd;
    boost::asio::posix::stream_descriptor descriptor;
    bool want_read = false;
    bool want_write = false;
    bool reading = false;  // an async_wait is queued
    bool writing = false;
    bool closed = false;  // c-ares closed it (or the resolver is gone)
  };
  struct Lookup {
    Lookup(boost::asio::io_context& io, std::string host, Callback done)
        : host(std::move(host)), done(std::move(done)), deadline(io), started(Clock::now()) {}
    std::string host;
    Callback done;
    boost::asio::steady_timer deadline;
    Clock::time_point started;
    bool finished = false;
  };
  // The argument c-ares hands back to on_addrinfo.
  struct Pending {
    Impl* impl;
    std::shared_ptr<Lookup> lookup;
  };

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
  static void on_addrinfo(void* arg, int status, int timeouts, ares_addrinfo* result);
  void arm(const std::shared_ptr<Socket>& socket);
  void drive(const std::shared_ptr<Socket>& socket);
  void schedule_timeouts();
  void finish(const std::shared_ptr<Lookup>& lookup, Result<Addresses> result);

  boost::asio::io_context& io_;
  ResolverOptions options_;
  ares_channel channel_ = nullptr;
  std::string init_error_;  // set when c-ares could not be set up: every lookup fails with it
  std::unordered_map<ares_socket_t, std::shared_ptr<Socket>> sockets_;
  boost::asio::steady_timer ares_timer_;
  // Last: queued handlers do nothing once the Impl is gone. They also share
  // the Socket or Lookup they wait on, which an in-flight wait must keep.
  Lifetime lifetime_;
};

Resolver::Impl::Impl(boost::asio::io_context& io, ResolverOptions options)
    : io_(io), options_(std::move(options)), ares_timer_(io) {
  if (int status = init_library(); status != ARES_SUCCESS) {
    init_error_ = std::string("c-ares initialisation failed: ") + ares_strerror(status);
    return;
  }
  // c-ares' own schedule: a few tries per server, short enough that one or
  // two servers get asked more than once within the lookup's deadline.
  const auto total = std::max<long long>(to_ms(options_.timeout).count(), 1);
  ares_options opts{};
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  opts.sock_state_cb = &Impl::on_sock_state;
  opts.sock_state_cb_data = this;
  opts.timeout = static_cast<int>(std::max<long long>(total / 4, 50));
  opts.tries = 3;
  char lookups[] = "fb";  // the hosts file first, then DNS
  if (!options_.hosts_file.empty()) {
    opts.lookups = lookups;
    mask |= ARES_OPT_LOOKUPS;
  }
  if (int status = ares_init_options(&channel_, &opts, mask); status != ARES_SUCCESS) {
    channel_ = nullptr;
    init_error_ = std::string("c-ares channel setup failed: ") + ares_strerror(status);
    return;
  }
  if (!options_.servers.empty()) {
    std::string csv;
    for (auto& s : options_.servers) csv += (csv.empty() ? "" : ",") + s;
    if (int status = ares_set_servers_ports_csv(channel_, csv.c_str()); status != ARES_SUCCESS)
      init_error_ = fmt::format("bad DNS server list \"{}\": {}", csv, ares_strerror(status));
  }
}

Resolver::Impl::~Impl() {
  // No handler runs inline from here (c-ares' callbacks below only cancel
  // and release), and the ones queued find lifetime_ ended.
  ares_timer_.cancel();
  // Calls every pending on_addrinfo with ARES_EDESTRUCTION and reports every
  // socket closed through on_sock_state (which releases the descriptors).
  if (channel_ != nullptr) ares_destroy(channel_);
  for (auto& [fd, socket] : sockets_) {
    socket->closed = true;
    boost::system::error_code ec;
    socket->descriptor.cancel(ec);
    socket->descriptor.release();
  }
}

void Resolver::Impl::resolve(const std::string& host, Callback done) {
  auto lookup = std::make_shared<Lookup>(io_, host, std::move(done));
  if (host.empty()) return finish(lookup, make_error("cannot resolve \"\": empty host name"));
  if (auto literal = parse_ip_literal(host)) return finish(lookup, Addresses{*literal});
  if (is_localhost(host))
    return finish(lookup, Addresses{boost::asio::ip::address_v4::loopback(), boost::asio::ip::address_v6::loopback()});
  if (!init_error_.empty()) return finish(lookup, make_error(lookup_error(host, init_error_)));
  if (host.find('\0') != std::string::npos || host.front() == '[')
    return finish(lookup, make_error(lookup_error(host, "not a valid host name")));

  lookup->deadline.expires_after(options_.timeout);
  lookup->deadline.async_wait(lifetime_.bind([this, lookup](boost::system::error_code ec) {
    if (ec || lookup->finished) return;
    finish(lookup, make_error(lookup_error(lookup->host, "timed out after " + format_duration(options_.timeout))));
  }));

  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NOSORT;  // keep the servers' order (round robin)
  // c-ares 1.18 has no option for the hosts file's path, only CARES_HOSTS
  // with ARES_AI_ENVHOSTS. With lookups "fb" the file is read inside
  // ares_getaddrinfo() itself, so the variable is only set around the call.
  const bool custom_hosts = !options_.hosts_file.empty();
  std::optional<std::string> saved_env;
  if (custom_hosts) {
    hints.ai_flags |= ARES_AI_ENVHOSTS;
    if (const char* old = std::getenv("CARES_HOSTS")) saved_env = old;
    ::setenv("CARES_HOSTS", options_.hosts_file.c_str(), 1);
  }
  ares_getaddrinfo(channel_, host.c_str(), nullptr, &hints, &Impl::on_addrinfo, new Pending{this, lookup});
  if (custom_hosts) {
    if (saved_env)
      ::setenv("CARES_HOSTS", saved_env->c_str(), 1);
    else
      ::unsetenv("CARES_HOSTS");
  }
  schedule_timeouts();
}

void Resolver::Impl::on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(arg));
  std::unique_ptr<ares_addrinfo, decltype(&ares_freeaddrinfo)> owned(result, &ares_freeaddrinfo);
  if (status == ARES_EDESTRUCTION) {  // the Resolver is being destroyed: no callback
    pending->lookup->deadline.cancel();
    return;
  }
  Impl* self = pending->impl;
  auto& lookup = pending->lookup;
  if (lookup->finished) return;  // already timed out
  if (status == ARES_SUCCESS) {
    Addresses addresses = to_addresses(result);
    if (!addresses.empty()) return self->finish(lookup, std::move(addresses));
    status = ARES_ENODATA;
  }
  std::string why = describe_status(status);
  if (status == ARES_ETIMEOUT)
    why = fmt::format(
        "timed out after {} (no answer from the DNS servers)",
        format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - lookup->started)));
  self->finish(lookup, make_error(lookup_error(lookup->host, why)));
}

void Resolver::Impl::finish(const std::shared_ptr<Lookup>& lookup, Result<Addresses> result) {
  if (lookup->finished) return;
  lookup->finished = true;
  lookup->deadline.cancel();
  // Posted, never inline: we may be inside resolve() or inside c-ares.
  boost::asio::post(io_, lifetime_.bind([lookup, result = std::move(result)]() mutable {
    auto done = std::move(lookup->done);
    lookup->done = nullptr;
    if (done) done(std::move(result));
  }));
}

void Resolver::Impl::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<Impl*>(data);
  auto it = self->sockets_.find(fd);
  if (!readable && !writable) {
    // c-ares closes the socket right after this returns.
    if (it == self->sockets_.end()) return;
    auto socket = it->second;
    self->sockets_.erase(it);
    socket->closed = true;
    boost::system::error_code ec;
    socket->descriptor.cancel(ec);
    socket->descriptor.release();
    return;
  }
  std::shared_ptr<Socket> socket;
  if (it == self->sockets_.end()) {
    socket = std::make_shared<Socket>(self->io_, fd);
    boost::system::error_code ec;
    socket->descriptor.assign(fd, ec);
    if (ec) {
      // Not watchable (should not happen for a socket): c-ares' timeouts
      // still end the query.
      socket->closed = true;
      return;
    }
    self->sockets_.emplace(fd, socket);
  } else {
    socket = it->second;
  }
  socket->want_read = readable != 0;
  socket->want_write = writable != 0;
  self->arm(socket);
  // Data may already be there (edge-triggered waits miss it): look once the
  // current c-ares call has returned.
  boost::asio::post(self->io_, self->lifetime_.bind([self, socket] {
    if (!socket->closed) self->drive(socket);
  }));
}

void Resolver::Impl::arm(const std::shared_ptr<Socket>& socket) {
  if (socket->closed) return;
  using Wait = boost::asio::posix::descriptor_base::wait_type;
  auto wait = [&](Wait type, bool& busy) {
    busy = true;
    // `busy` is a flag of *socket, which the handler holds.
    socket->descriptor.async_wait(type, [self = lifetime_.observe(), this, socket, &busy](boost::system::error_code ec) {
      busy = false;
      if (ec || self.has_ended() || socket->closed) return;
      arm(socket);
      drive(socket);
    });
  };
  if (socket->want_read && !socket->reading) wait(Wait::wait_read, socket->reading);
  if (socket->want_write && !socket->writing) wait(Wait::wait_write, socket->writing);
}

void Resolver::Impl::drive(const std::shared_ptr<Socket>& socket) {
  // Bounded: c-ares consumes what is readable, so this ends after a pass or two.
  for (int pass = 0; pass < 64 && !socket->closed; ++pass) {
    pollfd p{socket->fd, 0, 0};
    if (socket->want_read) p.events |= POLLIN;
    if (socket->want_write) p.events |= POLLOUT;
    if (p.events == 0 || ::poll(&p, 1, 0) <= 0) break;
    const bool can_read = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0 && socket->want_read;
    const bool can_write = (p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0 && socket->want_write;
    if (!can_read && !can_write) break;
    ares_process_fd(channel_, can_read ? socket->fd : ARES_SOCKET_BAD, can_write ? socket->fd : ARES_SOCKET_BAD);
    arm(socket);
  }
  schedule_timeouts();
}

void Resolver::Impl::schedule_timeouts() {
  timeval buffer{};
  timeval* next = ares_timeout(channel_, nullptr, &buffer);
  if (next == nullptr) {
    ares_timer_.cancel();
    return;
  }
  ares_timer_.expires_after(std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec));
  ares_timer_.async_wait(lifetime_.bind([this](boost::system::error_code ec) {
    if (ec) return;
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    schedule_timeouts();
  }));
}

Resolver::Resolver(boost::asio::io_context& io, Duration timeout) : Resolver(io, ResolverOptions{timeout, {}, {}}) {}

Resolver::Resolver(boost::asio::io_context& io, ResolverOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

Resolver::~Resolver() = default;

void Resolver::resolve(const std::string& host, std::function<void(Result<Addresses>)> done) {
  impl_->resolve(host, std::move(done));
}

std::optional<boost::asio::ip::address> parse_ip_literal(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    // Brackets are for IPv6 only.
    if (host.find(':') == std::string_view::npos) return std::nullopt;
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return address;
}

}  // namespace autopilot::net
