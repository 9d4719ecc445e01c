#include "health/http_check.h"

#include <fmt/format.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <utility>

#include "health/socket_probe.h"

namespace autopilot::health {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;

// Status line and headers only; 16 KiB is generous (Beast's default is 8).
constexpr std::uint32_t kHeaderLimit = 16 * 1024;

std::string describe_http_error(const error_code& ec) {
  // end_of_stream: closed before any byte; partial_message: closed mid-header.
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return "connection closed before a response";
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return fmt::format("bad HTTP response ({})", ec.message());
  }
  return describe_socket_error(ec);
}

}  // namespace

// One GET: connect, write the request, read the response header, close.
class HttpCheck::Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(boost::asio::io_context& io, const HttpTarget& target, std::function<void(CheckResult)> done)
      : base_(io, std::move(done)),
        endpoint_(target.address.ip, target.address.port),
        request_(http::verb::get, target.target, 11),
        target_(target) {
    request_.set(http::field::host, target.host);
    request_.set(http::field::user_agent, "autopilot");
    request_.set(http::field::connection, "close");
    parser_.header_limit(kHeaderLimit);
  }

  void start(Duration timeout) {
    base_.start_deadline(timeout, shared_from_this());
    base_.socket().async_connect(endpoint_, [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
  }

  bool is_running() const { return base_.is_running(); }
  void abandon() { base_.abandon(); }

 private:
  void on_connect(error_code ec) {
    if (!base_.is_running()) return;
    if (ec) return base_.finish(CheckResult{false, describe_socket_error(ec)});
    http::async_write(base_.socket(), request_,
                      [self = shared_from_this()](error_code ec, size_t) { self->on_written(ec); });
  }

  void on_written(error_code ec) {
    if (!base_.is_running()) return;
    if (ec) return base_.finish(CheckResult{false, describe_socket_error(ec)});
    http::async_read_header(base_.socket(), buffer_, parser_,
                            [self = shared_from_this()](error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (!base_.is_running()) return;
    if (ec) return base_.finish(CheckResult{false, describe_http_error(ec)});
    int status = static_cast<int>(parser_.get().result_int());
    if (target_.is_healthy_status(status)) return base_.finish(CheckResult{true, ""});
    std::string detail = target_.expected_status
                             ? fmt::format("HTTP {} (expected {})", status, *target_.expected_status)
                             : fmt::format("HTTP {}", status);
    base_.finish(CheckResult{false, std::move(detail)});
  }

  SocketProbe base_;
  boost::asio::ip::tcp::endpoint endpoint_;
  http::request<http::empty_body> request_;
  HttpTarget target_;
  beast::flat_buffer buffer_;
  http::response_parser<http::empty_body> parser_;
};

HttpCheck::HttpCheck(boost::asio::io_context& io, HttpTarget target) : io_(io), target_(std::move(target)) {}

HttpCheck::~HttpCheck() { cancel(); }

void HttpCheck::run(Duration timeout, std::function<void(CheckResult)> done) {
  abort_if_running(probe_ && probe_->is_running(), "HttpCheck");
  probe_ = std::make_shared<Probe>(io_, target_, std::move(done));
  probe_->start(timeout);
}

void HttpCheck::cancel() {
  if (!probe_) return;
  probe_->abandon();
  probe_.reset();
}

}  // namespace autopilot::health
