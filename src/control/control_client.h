// The client side of the control socket, for the command line (-reload,
// -putmetric, `autopilot status`, ...): one request per connection, blocking
// with a deadline. A CLI process has no loop to block; never call this from
// the supervisor's loop.
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"

namespace autopilot::control {

struct ControlReply {
  int status = 0;
  std::string body;
};

// Sends `method target` with `body` (JSON when not empty) to the server at
// the unix socket `socket` and returns its reply, whatever the status. Fails
// when the socket cannot be reached, the reply is not HTTP or `timeout`
// passes; the error names the call and the socket.
Result<ControlReply> control_request(const std::string& socket, const std::string& method, const std::string& target,
                                     const std::string& body = {},
                                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace autopilot::control
