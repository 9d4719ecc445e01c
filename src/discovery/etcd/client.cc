// etcd::Client (client.h): options, unary calls with failover across the
// members, and authentication. Attempts and pools: client_attempt.cc;
// streams: client_stream.cc; shared state: client_core.h.
#include "discovery/etcd/client.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "discovery/etcd/client_core.h"

namespace autopilot::discovery::etcd {
namespace {

namespace asio = boost::asio;

// The TLS context for https members: the CA (or the system's), and the
// client certificate when given. Errors say which PEM text is wrong.
Result<std::unique_ptr<asio::ssl::context>> make_tls(const ClientOptions& options) {
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                   ec);
  tls->set_verify_mode(asio::ssl::verify_peer, ec);
  if (options.ca_pem.empty()) {
    tls->set_default_verify_paths(ec);
  } else {
    tls->add_certificate_authority(asio::buffer(options.ca_pem), ec);
    if (ec) return make_error("etcd: bad CA certificate (PEM): " + ec.message());
  }
  if (!options.cert_pem.empty()) {
    tls->use_certificate_chain(asio::buffer(options.cert_pem), ec);
    if (ec) return make_error("etcd: bad client certificate (PEM): " + ec.message());
    tls->use_private_key(asio::buffer(options.key_pem), asio::ssl::context::pem, ec);
    if (ec) return make_error("etcd: bad client key (PEM): " + ec.message());
    if (SSL_CTX_check_private_key(tls->native_handle()) != 1)
      return make_error("etcd: the client key does not match the client certificate");
  }
  return tls;
}

Result<void> check(const ClientOptions& options) {
  if (options.endpoints.empty()) return make_error("etcd: no endpoints");
  for (const auto& endpoint : options.endpoints) {
    if (endpoint.host.empty() || endpoint.port == 0)
      return make_error(fmt::format("etcd: invalid endpoint \"{}\"", endpoint.url()));
  }
  if (options.request_timeout <= Duration::zero()) return make_error("etcd: the request timeout must be positive");
  if (options.stream_probe_interval < Duration::zero())
    return make_error("etcd: the stream probe interval must not be negative");
  if (options.cert_pem.empty() != options.key_pem.empty())
    return make_error("etcd: a client certificate and its key go together (one is missing)");
  if (options.username.empty() && !options.password.empty()) return make_error("etcd: a password without a username");
  return {};
}

class EtcdClient : public Client {
 public:
  explicit EtcdClient(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}
  ~EtcdClient() override { core_->shutdown(); }

  void call(std::string method, Json body, std::function<void(Result<Json>)> done) override {
    core_->call(std::move(method), std::move(body), std::move(done));
  }
  Handle stream(std::string method, Json body, std::function<void(Json)> on_frame,
                std::function<void(Error)> on_end) override {
    return core_->stream(std::move(method), std::move(body), std::move(on_frame), std::move(on_end));
  }
  std::string current_member() const override { return core_->current_member(); }

 private:
  std::shared_ptr<ClientCore> core_;
};

}  // namespace

Result<std::unique_ptr<Client>> Client::create(ClientOptions options, asio::io_context& io, os::Timers& timers,
                                               log::Log& log) {
  if (auto ok = check(options); !ok) return ok.error();
  std::unique_ptr<asio::ssl::context> tls;
  bool any_tls = !options.ca_pem.empty() || !options.cert_pem.empty();
  for (const auto& endpoint : options.endpoints) any_tls = any_tls || endpoint.tls;
  if (any_tls) {
    auto made = make_tls(options);
    if (!made) return made.error();
    tls = std::move(*made);
  }
  auto core = std::make_shared<ClientCore>(std::move(options), io, timers, log, std::move(tls));
  return std::unique_ptr<Client>(std::make_unique<EtcdClient>(std::move(core)));
}

ClientCore::ClientCore(ClientOptions options, asio::io_context& io, os::Timers& timers, log::Log& log,
                       std::unique_ptr<asio::ssl::context> tls)
    : options_(std::move(options)), io_(io), timers_(timers), log_(log), tls_(std::move(tls)), resolver_(io) {
  for (const auto& endpoint : options_.endpoints) members_.push_back(Member{endpoint, endpoint.url(), {}, false});
}

void ClientCore::shutdown() {
  closed_ = true;
  for (auto id : pending_timers_) timers_.cancel(id);
  pending_timers_.clear();
  for (const auto& conn : busy_) conn->close();
  busy_.clear();
  for (auto& member : members_) {
    for (const auto& idle : member.idle) idle.conn->close();
    member.idle.clear();
  }
  token_waiters_.clear();
}

void ClientCore::call(std::string method, Json body, std::function<void(Result<Json>)> done) {
  auto call = std::make_shared<Call>();
  call->target = "/v3/" + method;
  call->body = body.dump();
  call->start = current_;
  call->done = std::move(done);
  // Started from the loop, so that no path can complete inline.
  asio::post(io_, [weak = weak_from_this(), call] {
    auto self = weak.lock();
    if (self && !self->closed_) self->run_call(call);
  });
}

void ClientCore::run_call(const std::shared_ptr<Call>& call) {
  if (!with_token(*call, [this, call](Result<void> ok) {
        if (!ok) return call->done(ok.error());
        run_call(call);
      })) {
    return;
  }
  if (call->tried == members_.size()) return call->done(unavailable(*call));
  size_t member = (call->start + call->tried) % members_.size();
  std::string token = call->with_auth ? token_ : std::string();
  attempt(member, gateway_request(call->target, call->body, token), false, [this, call, member, token](Outcome outcome) {
    note(member, outcome);
    switch (outcome.verdict) {
      case Verdict::kAnswered:
        if (!outcome.reply) return call->done(prefixed(member, outcome.reply.error()));
        return call->done(std::move(outcome.reply));
      case Verdict::kUnauthenticated:
        // Once per call: the token expired (or auth was just enabled); the
        // same member is asked again with a fresh token.
        if (call->with_auth && !options_.username.empty() && !call->reauthenticated) {
          call->reauthenticated = true;
          auth_off_on_server_ = false;
          if (token_ == token) token_.clear();
          return run_call(call);
        }
        return call->done(prefixed(member, outcome.reply.error()));
      case Verdict::kUnavailable:
        call->failures.push_back(members_[member].url + ": " + outcome.failure);
        ++call->tried;
        return run_call(call);
    }
  });
}

// True when `request` may be sent now. Otherwise authentication is started
// (or already under way) and `retry` runs when it has ended.
bool ClientCore::with_token(Request& request, std::function<void(Result<void>)> retry) {
  if (!request.with_auth || !needs_auth() || !token_.empty()) return true;
  token_waiters_.push_back(std::move(retry));
  if (!authenticating_) authenticate();
  return false;
}

void ClientCore::authenticate() {
  authenticating_ = true;
  auto call = std::make_shared<Call>();
  call->target = "/v3/auth/authenticate";
  // The password is only ever in this body: never logged, nor is the token.
  call->body = Json{{"name", options_.username}, {"password", options_.password}}.dump();
  call->with_auth = false;
  call->start = current_;
  call->done = [this](Result<Json> reply) {
    authenticating_ = false;
    Result<void> outcome;
    if (reply && reply->contains("token") && (*reply)["token"].is_string()) {
      token_ = (*reply)["token"].get<std::string>();
      log_.info(fmt::format("etcd: authenticated as user \"{}\"", options_.username));
    } else if (reply) {
      outcome = grpc_error(kCodeUnknown, "etcd: the authenticate reply has no token");
    } else if (reply.error().kind == ErrorKind::kUnsupported) {
      // As etcd's clientv3 does: credentials for a cluster without auth are
      // not an error; requests go without a token until one is refused.
      auth_off_on_server_ = true;
      log_.info("etcd: authentication is not enabled on the cluster; sending requests without a token");
    } else {
      Error error = reply.error();
      error.message += fmt::format(" (authenticating as user \"{}\")", options_.username);
      outcome = error;
    }
    auto waiters = std::move(token_waiters_);
    token_waiters_.clear();
    for (auto& waiter : waiters) {
      if (closed_) return;
      waiter(outcome);
    }
  };
  run_call(call);
}

void ClientCore::note(size_t member, const Outcome& outcome) {
  Member& m = members_[member];
  if (outcome.verdict == Verdict::kUnavailable) {
    if (!m.failing) log_.warn(fmt::format("etcd {} is not answering: {}", m.url, outcome.failure));
    m.failing = true;
    return;
  }
  if (m.failing) log_.info(fmt::format("etcd {}: answering again", m.url));
  m.failing = false;
  current_ = member;
}

Error ClientCore::prefixed(size_t member, Error error) const {
  error.message = fmt::format("etcd {}: {}", members_[member].url, error.message);
  return error;
}

Error ClientCore::unavailable(const Request& request) const {
  std::string message = "etcd: no member answered (";
  for (size_t i = 0; i < request.failures.size(); ++i) message += (i ? "; " : "") + request.failures[i];
  return grpc_error(kCodeUnavailable, message + ")");
}

}  // namespace autopilot::discovery::etcd
