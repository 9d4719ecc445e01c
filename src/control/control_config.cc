#include "control/control_config.h"

#include "decode/decoder.h"
#include "net/socket_path.h"

namespace autopilot::control {

Result<ControlConfig> decode_control(const decode::Decoder& d, const decode::Node& n) {
  static const std::vector<std::string> kKeys{"socket"};
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kKeys); !r) return r.error();
  ControlConfig c;
  c.is_given = true;
  if (auto socket = d.field(n, "socket")) {
    auto s = d.string(*socket);
    if (!s) return s.error();
    if (s->empty()) return d.error(*socket, "must be a path (the default is " + std::string(kDefaultSocket) + ")");
    if (s->size() > net::kMaxSocketPath)
      return d.error(*socket, "is " + std::to_string(s->size()) + " bytes long; a unix socket path holds at most " +
                                  std::to_string(net::kMaxSocketPath));
    if (s->find('\0') != std::string::npos) return d.error(*socket, "must not contain a NUL byte");
    c.socket = *s;
  }
  return c;
}

}  // namespace autopilot::control
