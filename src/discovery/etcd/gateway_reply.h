// Reading etcd's JSON gateway replies (../shared/reference/etcd-v3-gateway.md
// §6, §10): unary bodies, unary error bodies, and the newline-separated frames
// of streams. Pure functions, no I/O; internal to discovery/etcd (client.cc).
//
// Errors carry etcd's own message (no member prefix: the client adds it), the
// gRPC code in Error::code and its kind (grpc_code.h); a body that is not the
// gateway's JSON gets the code gRPC derives from the HTTP status (404 -> 12,
// 503 -> 14, ...).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace autopilot::discovery::etcd {

// A whole reply: status 200 gives the body (or, for a stream method called
// as unary, the first frame's `result`); anything else, or an error frame,
// gives an Error.
Result<nlohmann::json> read_unary_reply(int status, std::string_view body);

// One stream frame (a line without its '\n'): the `result` object, an Error
// for an error frame or malformed JSON, or nullopt for a blank line.
Result<std::optional<nlohmann::json>> read_frame(std::string_view line);

// Collects body bytes and hands out complete lines.
class FrameSplitter {
 public:
  void append(std::string_view data) { buffer_.append(data); }
  // The next complete line without its '\n', or nullopt.
  std::optional<std::string> next();
  // Bytes of an incomplete line.
  size_t pending() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  size_t start_ = 0;
};

}  // namespace autopilot::discovery::etcd
