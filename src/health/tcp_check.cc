#include "health/tcp_check.h"

#include <utility>

#include "health/socket_probe.h"

namespace autopilot::health {

// One connect, then close (by finish).
class TcpCheck::Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(boost::asio::io_context& io, const TcpTarget& target, std::function<void(CheckResult)> done)
      : base_(io, std::move(done)), endpoint_(target.ip, target.port) {}

  void start(Duration timeout) {
    base_.start_deadline(timeout, shared_from_this());
    base_.socket().async_connect(endpoint_,
                                 [self = shared_from_this()](boost::system::error_code ec) { self->on_connect(ec); });
  }

  bool is_running() const { return base_.is_running(); }
  void abandon() { base_.abandon(); }

 private:
  void on_connect(boost::system::error_code ec) {
    if (!base_.is_running()) return;
    if (ec) return base_.finish(CheckResult{false, describe_socket_error(ec)});
    base_.finish(CheckResult{true, ""});
  }

  SocketProbe base_;
  boost::asio::ip::tcp::endpoint endpoint_;
};

TcpCheck::TcpCheck(boost::asio::io_context& io, TcpTarget target) : io_(io), target_(std::move(target)) {}

TcpCheck::~TcpCheck() { cancel(); }

void TcpCheck::run(Duration timeout, std::function<void(CheckResult)> done) {
  abort_if_running(probe_ && probe_->is_running(), "TcpCheck");
  probe_ = std::make_shared<Probe>(io_, target_, std::move(done));
  probe_->start(timeout);
}

void TcpCheck::cancel() {
  if (!probe_) return;
  probe_->abandon();
  probe_.reset();
}

}  // namespace autopilot::health
