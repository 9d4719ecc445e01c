// ClientCore: the state and machinery behind etcd::Client (client.h), shared
// by its pieces: client.cc (options, calls, failover, auth),
// client_attempt.cc (one request on one member under one deadline, and the
// per-member connection pools), client_stream.cc (streams and their probes).
// Internal to discovery/etcd.
//
// Lifetime: the Client owns the core through a shared_ptr; every handler
// holds only a weak_ptr and checks `closed_` before touching anything, so
// after the Client's destructor (shutdown(): sockets closed, timers
// cancelled) no handler does anything, and no callback runs. A handler that
// runs a user callback re-checks afterwards (the callback may have destroyed
// the Client, or cancelled its stream). Shared ownership on purpose, not the
// Lifetime of the lifetime rule (base/lifetime.h): a handler holds the core
// for as long as it runs, so every frame on its stack may still read
// `closed_` after a user callback destroyed the Client, and the connections'
// in-flight operations keep their buffers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "discovery/etcd/client.h"
#include "discovery/etcd/gateway_reply.h"
#include "net/http_connection.h"
#include "net/resolver.h"

namespace autopilot::discovery::etcd {

using net::BodyPiece;
using net::HttpConnection;
using net::OutgoingRequest;

// A POST to the JSON gateway. A member that knows it has no leader fails it
// at once (503) instead of holding it until its own 7 s timeout.
inline OutgoingRequest gateway_request(std::string target, std::string body, std::string token) {
  return OutgoingRequest{std::move(target), std::move(body), std::move(token), "POST",
                     {{"Content-Type", "application/json"}, {"Grpc-Metadata-Hasleader", "true"}}};
}


class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  ClientCore(ClientOptions options, boost::asio::io_context& io, os::Timers& timers, log::Log& log,
             std::unique_ptr<boost::asio::ssl::context> tls);

  void call(std::string method, Json body, std::function<void(Result<Json>)> done);
  Handle stream(std::string method, Json body, std::function<void(Json)> on_frame, std::function<void(Error)> on_end);
  std::string current_member() const { return members_[current_].url; }
  // Closes every connection and cancels every timer; nothing runs afterwards.
  void shutdown();

 private:
  struct Member {
    Endpoint endpoint;
    std::string url;
    struct Idle {
      std::shared_ptr<HttpConnection> conn;
      os::Clock::time_point since;
    };
    std::vector<Idle> idle;  // kept-alive connections, the most recently used last
    bool failing = false;    // for logging state changes once
  };

  // What one attempt on one member came to.
  enum class Verdict {
    kAnswered,         // a reply, or an etcd error to return as it is
    kUnavailable,      // no usable answer: try the next member
    kUnauthenticated,  // the token was refused: authenticate again
  };
  struct Outcome {
    Verdict verdict = Verdict::kAnswered;
    Result<Json> reply = Json();             // kAnswered / kUnauthenticated (etcd's message, no prefix)
    std::string failure;                     // kUnavailable: why, briefly
    std::shared_ptr<HttpConnection> stream;  // a stream attempt that got 200: the open connection

    static Outcome failed(std::string why) {
      Outcome outcome;
      outcome.verdict = Verdict::kUnavailable;
      outcome.failure = std::move(why);
      return outcome;
    }
  };
  struct Attempt {
    size_t member = 0;
    OutgoingRequest request;
    bool is_stream = false;
    std::function<void(Outcome)> done;
    std::shared_ptr<HttpConnection> conn;
    os::Timers::Id timer = 0;
    bool finished = false;
    bool retried_stale = false;
  };

  // A unary call, or the opening of a stream, going through the members.
  struct Request {
    std::string target;
    std::string body;
    bool with_auth = true;
    size_t start = 0;
    size_t tried = 0;
    std::vector<std::string> failures;
    bool reauthenticated = false;
  };
  struct Call : Request {
    std::function<void(Result<Json>)> done;
  };
  struct Stream : Request {
    std::function<void(Json)> on_frame;
    std::function<void(Error)> on_end;
    size_t member = 0;
    std::shared_ptr<HttpConnection> conn;
    std::weak_ptr<Attempt> attempt;  // opening or probing
    FrameSplitter frames;
    os::Timers::Id probe_timer = 0;
    bool ended = false;
  };

  // client.cc
  void run_call(const std::shared_ptr<Call>& call);
  bool with_token(Request& request, std::function<void(Result<void>)> retry);
  void authenticate();
  bool needs_auth() const { return !options_.username.empty() && !auth_off_on_server_; }
  // Records what an attempt's outcome means for the member (log on change).
  void note(size_t member, const Outcome& outcome);
  Error prefixed(size_t member, Error error) const;
  Error unavailable(const Request& request) const;

  // client_attempt.cc
  std::shared_ptr<Attempt> attempt(size_t member, OutgoingRequest request, bool is_stream,
                                   std::function<void(Outcome)> done);
  void open_connection(const std::shared_ptr<Attempt>& attempt, bool from_pool);
  void connect(const std::shared_ptr<Attempt>& attempt, Result<net::Addresses> addresses);
  void send(const std::shared_ptr<Attempt>& attempt);
  void got_head(const std::shared_ptr<Attempt>& attempt, Result<int> status);
  void got_body(const std::shared_ptr<Attempt>& attempt, int status, Result<std::string> body);
  void finish(const std::shared_ptr<Attempt>& attempt, Outcome outcome);
  void abort(const std::shared_ptr<Attempt>& attempt);
  // Back to the member's pool when reusable, else closed.
  void give_back(const std::shared_ptr<HttpConnection>& conn, size_t member);
  // A handler that runs `f` only while the core is open and `attempt` pending.
  template <class F>
  auto guarded(const std::shared_ptr<Attempt>& attempt, F f);
  os::Timers::Id start_timer(Duration delay, std::function<void()> fire);
  void stop_timer(os::Timers::Id& id);

  // client_stream.cc
  void open_stream(const std::shared_ptr<Stream>& stream);
  void read_stream(const std::shared_ptr<Stream>& stream);
  void schedule_probe(const std::shared_ptr<Stream>& stream);
  void end_stream(const std::shared_ptr<Stream>& stream, Error error);
  void cancel_stream(const std::shared_ptr<Stream>& stream);

  ClientOptions options_;
  boost::asio::io_context& io_;
  os::Timers& timers_;
  log::Log& log_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  net::Resolver resolver_;
  std::vector<Member> members_;
  size_t current_ = 0;  // the member that answered last
  std::set<std::shared_ptr<HttpConnection>> busy_;
  std::set<os::Timers::Id> pending_timers_;
  std::string token_;
  bool authenticating_ = false;
  bool auth_off_on_server_ = false;  // etcd said "authentication is not enabled"
  std::vector<std::function<void(Result<void>)>> token_waiters_;
  bool closed_ = false;
};

}  // namespace autopilot::discovery::etcd
