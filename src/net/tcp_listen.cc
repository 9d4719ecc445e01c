#include "net/tcp_listen.h"

namespace autopilot::net {

Result<void> listen_tcp(boost::asio::ip::tcp::acceptor& a, const std::string& address, int port) {
  namespace asio = boost::asio;
  auto where = [&] {
    return (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);
  };
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return make_error("listening on " + where() + ": " + ec.message());
  asio::ip::tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  if (!a.open(endpoint.protocol(), ec) && !a.set_option(asio::socket_base::reuse_address(true), ec) &&
      !a.bind(endpoint, ec) && !a.listen(asio::socket_base::max_listen_connections, ec))
    return {};
  boost::system::error_code ignored;
  a.close(ignored);
  return make_error("listening on " + where() + ": " + ec.message());
}

}  // namespace autopilot::net
