// Client: etcd's v3 API through its HTTP/JSON gateway (etcd 3.4, `/v3/...`),
// on Boost.Beast over the Asio loop; optional TLS (OpenSSL via Asio) and
// username/password auth. It knows HTTP, members and failover; it does not
// know what the RPCs mean (etcd_catalog.cc builds and reads the bodies).
//
// Rules:
// - Every attempt has its own deadline (`request_timeout`, about 1 s): a
//   member that holds a request (etcd keeps one for 7 s when the leader dies)
//   is given up on, and the call moves to the next member.
// - A unary call tries each member at most once, starting with the last one
//   that answered; it fails (ErrorKind::kUnavailable, Error::code 14) only
//   when none answered. Transport errors, timeouts and gRPC code 14 (HTTP
//   503) move on to the next member; any other etcd error is returned at once
//   with its kind, its gRPC code in Error::code (grpc_code.h) and etcd's
//   message in the text.
// - Every request carries `Grpc-Metadata-Hasleader: true`, so a member
//   without a leader fails fast instead of holding the request.
// - Auth: with a username, the client authenticates before its first request
//   and again when a token is refused (401); the password is never logged,
//   nor is the token.
// - Connections are kept alive and pooled per member; concurrent calls use
//   separate connections, so a stalled request never delays another (lease
//   keep-alives must not wait behind a stuck put).
// - Host names are resolved with net::Resolver (c-ares), never with NSS.
// - Callbacks run on the loop, exactly once, never inline, and never after the
//   Client is destroyed. Loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/result.h"
#include "discovery/catalog.h"  // Handle
#include "discovery/etcd/grpc_code.h"
#include "log/log.h"
#include "os/timers.h"

namespace autopilot::discovery::etcd {

using Json = nlohmann::json;

struct Endpoint {
  bool tls = false;
  std::string host;  // a name or an IP literal (v6 without brackets)
  std::uint16_t port = 2379;

  std::string url() const;  // "http://127.0.0.1:2379", "https://[::1]:2379"
  bool operator==(const Endpoint&) const = default;
};

// "http://10.0.0.1:2379", "https://etcd-1:2379", "http://[::1]:2379",
// "etcd-1:2379" and "etcd-1" (http, port 2379). A path, user info, query or
// a port out of range is an error that names the text.
Result<Endpoint> parse_endpoint(std::string_view text);

struct ClientOptions {
  std::vector<Endpoint> endpoints;  // at least one
  Duration request_timeout = std::chrono::seconds(1);
  // How often an open stream's member is probed (a cheap status request with
  // the same deadline); a failed probe ends the stream, so a member cut off
  // by the network is noticed even when the stream is idle. 0 disables.
  Duration stream_probe_interval = std::chrono::seconds(3);
  std::string username;  // auth when not empty
  std::string password;
  // TLS (for https endpoints): PEM texts, not paths. An empty CA means the
  // system's default verify paths. cert and key go together or not at all.
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

class Client {
 public:
  // Checks the options (endpoints, TLS material parses, cert without key...);
  // connects lazily.
  static Result<std::unique_ptr<Client>> create(ClientOptions options, boost::asio::io_context& io,
                                                os::Timers& timers, log::Log& log);
  virtual ~Client() = default;

  // POST /v3/<method> (e.g. "kv/range", "lease/grant", "lease/keepalive")
  // with `body`; yields the parsed reply body. For stream methods used this
  // way (lease/keepalive with one request object) the reply is the first
  // frame's `result` object.
  virtual void call(std::string method, Json body, std::function<void(Result<Json>)> done) = 0;

  // Opens a streaming RPC (e.g. "watch") on one member: the first that
  // accepts the request within the deadline, in the same order as call().
  // `on_frame` gets each frame's `result` object; `on_end` runs once when the
  // stream ends for any reason (error frame, member gone, failed probe,
  // connection closed), with an Error saying why. The stream is not retried:
  // the caller resumes it. Cancelling the handle (or destroying it) closes
  // the stream; neither callback runs after that.
  virtual Handle stream(std::string method, Json body, std::function<void(Json)> on_frame,
                        std::function<void(Error)> on_end) = 0;

  // The member that answered last ("http://127.0.0.1:2379"), for logs.
  virtual std::string current_member() const = 0;
};

}  // namespace autopilot::discovery::etcd
