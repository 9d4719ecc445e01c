// One attempt of one request on one member (client_core.h): a pooled
// connection or a new one (resolve, connect, TLS), the request written and
// the reply read, all under one deadline (`request_timeout`). When the
// deadline passes, the attempt ends as "timed out" and its connection is
// closed, which fails whatever it was waiting for.
#include <fmt/format.h>

#include "discovery/etcd/client_core.h"

namespace autopilot::discovery::etcd {
namespace {

constexpr size_t kMaxIdlePerMember = 8;
// A connection idle for longer is closed rather than reused: a NAT or load
// balancer on the way may have dropped it silently, and a request sent on it
// would only end at the deadline (and be charged to the member).
constexpr auto kMaxIdleAge = std::chrono::seconds(30);
constexpr size_t kMaxReplyBytes = size_t{256} << 20;

}  // namespace

template <class F>
auto ClientCore::guarded(const std::shared_ptr<Attempt>& attempt, F f) {
  return [weak = weak_from_this(), attempt, f = std::move(f)](auto&&... args) mutable {
    auto self = weak.lock();
    if (!self || self->closed_ || attempt->finished) return;
    f(std::forward<decltype(args)>(args)...);
  };
}

std::shared_ptr<ClientCore::Attempt> ClientCore::attempt(size_t member, OutgoingRequest request, bool is_stream,
                                                         std::function<void(Outcome)> done) {
  auto attempt = std::make_shared<Attempt>();
  attempt->member = member;
  attempt->request = std::move(request);
  attempt->is_stream = is_stream;
  attempt->done = std::move(done);
  attempt->timer = start_timer(options_.request_timeout, [this, attempt] {
    attempt->timer = 0;
    finish(attempt, Outcome::failed("timed out after " + format_duration(options_.request_timeout)));
  });
  open_connection(attempt, /*from_pool=*/true);
  return attempt;
}

void ClientCore::open_connection(const std::shared_ptr<Attempt>& attempt, bool from_pool) {
  Member& member = members_[attempt->member];
  while (from_pool && !member.idle.empty()) {
    auto idle = std::move(member.idle.back());
    member.idle.pop_back();
    auto conn = std::move(idle.conn);
    if (timers_.now() - idle.since > kMaxIdleAge) {
      // The rest are older still.
      for (auto& older : member.idle) older.conn->close();
      member.idle.clear();
      conn->close();
      break;
    }
    if (!conn->is_open()) continue;
    busy_.insert(conn);
    attempt->conn = std::move(conn);
    return send(attempt);
  }
  resolver_.resolve(member.endpoint.host, guarded(attempt, [this, attempt](Result<net::Addresses> addresses) {
                      connect(attempt, std::move(addresses));
                    }));
}

void ClientCore::connect(const std::shared_ptr<Attempt>& attempt, Result<net::Addresses> addresses) {
  if (!addresses) return finish(attempt, Outcome::failed(addresses.error().message));
  const Endpoint& endpoint = members_[attempt->member].endpoint;
  attempt->conn = std::make_shared<HttpConnection>(
      io_, tls_.get(), net::HttpEndpoint{endpoint.tls, endpoint.host, endpoint.port});
  busy_.insert(attempt->conn);
  attempt->conn->connect(*addresses, guarded(attempt, [this, attempt](Result<void> connected) {
    if (!connected) return finish(attempt, Outcome::failed(connected.error().message));
    send(attempt);
  }));
}

void ClientCore::send(const std::shared_ptr<Attempt>& attempt) {
  attempt->conn->send(attempt->request,
                      guarded(attempt, [this, attempt](Result<int> status) { got_head(attempt, std::move(status)); }));
}

void ClientCore::got_head(const std::shared_ptr<Attempt>& attempt, Result<int> status) {
  if (!status) {
    // A kept-alive connection the member closed while it sat in the pool:
    // not the member's fault, so once, a fresh connection.
    if (attempt->conn->failed_stale() && !attempt->retried_stale) {
      attempt->retried_stale = true;
      give_back(attempt->conn, attempt->member);
      attempt->conn = nullptr;
      return open_connection(attempt, /*from_pool=*/false);
    }
    return finish(attempt, Outcome::failed(status.error().message));
  }
  if (attempt->is_stream && *status == 200) {
    Outcome outcome;
    outcome.stream = std::move(attempt->conn);  // stays in busy_: the stream owns it now
    attempt->conn = nullptr;
    return finish(attempt, std::move(outcome));
  }
  int code = *status;
  attempt->conn->read_rest(kMaxReplyBytes, guarded(attempt, [this, attempt, code](Result<std::string> body) {
                             got_body(attempt, code, std::move(body));
                           }));
}

void ClientCore::got_body(const std::shared_ptr<Attempt>& attempt, int status, Result<std::string> body) {
  if (!body) return finish(attempt, Outcome::failed(body.error().message));
  Outcome outcome;
  outcome.reply = read_unary_reply(status, *body);
  if (!outcome.reply) {
    const Error& error = outcome.reply.error();
    if (error.kind == ErrorKind::kUnavailable) {
      outcome.verdict = Verdict::kUnavailable;
      outcome.failure = error.message;
    } else if (error.kind == ErrorKind::kUnauthenticated) {
      // Also when auth was enabled while this client sent no token (grpc_code.h).
      outcome.verdict = Verdict::kUnauthenticated;
    }
  }
  finish(attempt, std::move(outcome));
}

void ClientCore::finish(const std::shared_ptr<Attempt>& attempt, Outcome outcome) {
  if (attempt->finished) return;
  attempt->finished = true;
  stop_timer(attempt->timer);
  if (attempt->conn) {
    give_back(attempt->conn, attempt->member);
    attempt->conn = nullptr;
  }
  auto done = std::move(attempt->done);
  done(std::move(outcome));
}

void ClientCore::abort(const std::shared_ptr<Attempt>& attempt) {
  if (attempt->finished) return;
  attempt->finished = true;
  stop_timer(attempt->timer);
  if (attempt->conn) {
    busy_.erase(attempt->conn);
    attempt->conn->close();
    attempt->conn = nullptr;
  }
}

void ClientCore::give_back(const std::shared_ptr<HttpConnection>& conn, size_t member) {
  busy_.erase(conn);
  auto& idle = members_[member].idle;
  if (!closed_ && conn->reusable() && idle.size() < kMaxIdlePerMember) {
    idle.push_back({conn, timers_.now()});
  } else {
    conn->close();
  }
}

os::Timers::Id ClientCore::start_timer(Duration delay, std::function<void()> fire) {
  auto id = std::make_shared<os::Timers::Id>(0);
  *id = timers_.after(delay, [weak = weak_from_this(), id, fire = std::move(fire)] {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    self->pending_timers_.erase(*id);
    fire();
  });
  pending_timers_.insert(*id);
  return *id;
}

void ClientCore::stop_timer(os::Timers::Id& id) {
  if (id == 0) return;
  timers_.cancel(id);
  pending_timers_.erase(id);
  id = 0;
}

}  // namespace autopilot::discovery::etcd
