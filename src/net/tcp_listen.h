// Opening a TCP listener: the one place a server (telemetry, stash) binds
// ADDRESS:PORT, with the same error text for both.
#pragma once

#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "base/result.h"

namespace autopilot::net {

// Opens, binds (SO_REUSEADDR) and listens; on failure the acceptor is closed
// and the error reads "listening on ADDRESS:PORT: why" ([v6] bracketed).
Result<void> listen_tcp(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, int port);

}  // namespace autopilot::net
