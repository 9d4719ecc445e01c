// ControlConfig: the config's `control` block (ContainerPilot v3):
//
//   "control": { "socket": "/var/run/containerpilot.socket" }
//
// `socket` is the path of the unix socket the control server listens on and
// the CLI's -reload, -putenv, ... talk to. Without the block the server
// listens on the default path (ContainerPilot's), but a failure to listen
// there only warns (control/control_server.h); a path given here must work.
#pragma once

#include <string>

#include "base/result.h"

namespace autopilot::decode {
class Decoder;
struct Node;
}  // namespace autopilot::decode

namespace autopilot::control {

inline constexpr const char* kDefaultSocket = "/var/run/containerpilot.socket";

struct ControlConfig {
  std::string socket = kDefaultSocket;
  bool is_given = false;  // from a `control` block, not the default

  bool operator==(const ControlConfig&) const = default;
};

// Decodes and checks the block: `socket` a non-empty path that fits a unix
// socket address.
Result<ControlConfig> decode_control(const decode::Decoder& d, const decode::Node& n);

}  // namespace autopilot::control
