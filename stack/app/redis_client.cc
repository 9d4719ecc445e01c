#include "redis_client.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace stack {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr auto kCommandTimeout = 2s;
constexpr auto kProbeTimeout = 500ms;
constexpr auto kRetryInterval = 500ms;

resp::Value nil() { return resp::Value{}; }
}  // namespace

RedisClient::RedisClient(asio::io_context& io, Logger log)
    : io_(io), log_(std::move(log)), socket_(io), retry_timer_(io), probe_timer_(io), tick_timer_(io) {
  tick();
}

void RedisClient::set_endpoints(std::vector<Endpoint> endpoints) {
  if (state_ == State::kClosed) return;
  if (endpoints == endpoints_ && state_ != State::kIdle) return;
  endpoints_ = std::move(endpoints);
  std::string list;
  for (const auto& e : endpoints_) list += (list.empty() ? "" : ",") + e.str();
  log_("redis: candidates [" + list + "]");
  reconnect();
}

void RedisClient::command(std::vector<std::string> args, Done done) {
  if (state_ == State::kClosed) {
    asio::post(io_, [done = std::move(done)] { done("redis client closed", nil()); });
    return;
  }
  queued_.push_back({std::move(args), std::move(done), Clock::now() + kCommandTimeout});
  if (state_ == State::kReady) flush();
}

void RedisClient::close() {
  state_ = State::kClosed;
  ++gen_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  retry_timer_.cancel();
  probe_timer_.cancel();
  tick_timer_.cancel();
  for (auto* q : {&inflight_, &queued_})
    for (auto& p : *q) asio::post(io_, [done = std::move(p.done)] { done("redis client closed", nil()); });
  inflight_.clear();
  queued_.clear();
}

// Starts over: close the connection, then probe the candidates in order.
void RedisClient::reconnect() {
  ++gen_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  for (auto& p : inflight_) asio::post(io_, [done = std::move(p.done)] { done("redis connection lost", nil()); });
  inflight_.clear();
  out_.clear();
  is_writing_ = false;
  decoder_ = resp::Decoder();
  master_.clear();
  retry_timer_.cancel();
  if (endpoints_.empty()) {
    state_ = State::kIdle;
    return;
  }
  state_ = State::kProbing;
  probe(0, gen_);
}

void RedisClient::probe(std::size_t index, std::uint64_t gen) {
  if (gen != gen_) return;
  if (index >= endpoints_.size()) {  // no master among them (yet): try again later
    state_ = State::kProbing;
    retry_timer_.expires_after(kRetryInterval);
    retry_timer_.async_wait([this, gen](boost::system::error_code ec) {
      if (!ec && gen == gen_) probe(0, gen);
    });
    return;
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(endpoints_[index].host, ec);
  if (ec) return probe(index + 1, gen);
  socket_ = tcp::socket(io_);
  probe_timer_.expires_after(kProbeTimeout);
  probe_timer_.async_wait([this, gen](boost::system::error_code e) {
    if (!e && gen == gen_ && state_ == State::kProbing) {
      boost::system::error_code ignored;
      socket_.close(ignored);  // the pending connect or read fails, which moves on
    }
  });
  tcp::endpoint target(address, endpoints_[index].port);
  socket_.async_connect(target, [this, index, gen](boost::system::error_code e) {
    if (gen != gen_) return;
    if (e) return probe(index + 1, gen);
    out_ = resp::encode({"ROLE"});
    asio::async_write(socket_, asio::buffer(out_), [this, index, gen](boost::system::error_code e2, std::size_t) {
      if (gen != gen_) return;
      out_.clear();
      if (e2) return probe(index + 1, gen);
      probe_read(index, gen);
    });
  });
}

// Reads until the ROLE reply is complete.
void RedisClient::probe_read(std::size_t index, std::uint64_t gen) {
  socket_.async_read_some(asio::buffer(read_buf_), [this, index, gen](boost::system::error_code ec, std::size_t n) {
    if (gen != gen_) return;
    if (ec) return probe(index + 1, gen);
    decoder_.feed(std::string_view(read_buf_, n));
    if (auto reply = decoder_.next()) return on_probe_reply(index, gen, *reply);
    if (decoder_.failed()) return probe(index + 1, gen);
    probe_read(index, gen);
  });
}

void RedisClient::on_probe_reply(std::size_t index, std::uint64_t gen, const resp::Value& role) {
  probe_timer_.cancel();
  bool is_master = role.kind == resp::Value::Kind::kArray && !role.items.empty() && role.items[0].text == "master";
  if (!is_master) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    decoder_ = resp::Decoder();
    return probe(index + 1, gen);
  }
  state_ = State::kReady;
  master_ = endpoints_[index].str();
  log_("redis: connected to master " + master_);
  read_more(gen);
  flush();
}

// A connection failed under us: fail what was sent, keep what was not, and
// look for the master again.
void RedisClient::drop(const std::string& why) {
  if (state_ == State::kClosed) return;
  log_("redis: " + why + "; looking for the master again");
  reconnect();
}

void RedisClient::flush() {
  while (!queued_.empty()) {
    out_ += resp::encode(queued_.front().args);
    inflight_.push_back(std::move(queued_.front()));
    queued_.pop_front();
  }
  write_more();
}

void RedisClient::write_more() {
  if (is_writing_ || out_.empty()) return;
  is_writing_ = true;
  writing_ = std::move(out_);
  out_.clear();
  auto gen = gen_;
  asio::async_write(socket_, asio::buffer(writing_), [this, gen](boost::system::error_code ec, std::size_t) {
    if (gen != gen_) return;
    is_writing_ = false;
    if (ec) return drop("write failed: " + ec.message());
    write_more();
  });
}

void RedisClient::read_more(std::uint64_t gen) {
  socket_.async_read_some(asio::buffer(read_buf_), [this, gen](boost::system::error_code ec, std::size_t n) {
    if (gen != gen_) return;
    if (ec) return drop(ec == asio::error::eof ? "the master closed the connection" : "read failed: " + ec.message());
    decoder_.feed(std::string_view(read_buf_, n));
    while (auto reply = decoder_.next()) {
      on_reply(std::move(*reply));
      if (gen != gen_) return;  // the reply made us reconnect
    }
    if (decoder_.failed()) return drop("protocol error");
    read_more(gen);
  });
}

void RedisClient::on_reply(resp::Value reply) {
  if (inflight_.empty()) return drop("a reply nobody asked for");
  auto p = std::move(inflight_.front());
  inflight_.pop_front();
  bool readonly = reply.is_error() && reply.text.rfind("READONLY", 0) == 0;
  if (reply.is_error())
    p.done(reply.text, reply);
  else
    p.done("", reply);
  if (readonly) drop("the node was demoted (READONLY)");
}

// Every 250 ms: fail queued commands past their deadline, and drop a
// connection whose oldest command has waited too long (a hung master).
void RedisClient::tick() {
  auto now = Clock::now();
  while (!queued_.empty() && queued_.front().deadline <= now) {
    auto p = std::move(queued_.front());
    queued_.pop_front();
    p.done("no redis master", nil());
  }
  if (!inflight_.empty() && inflight_.front().deadline <= now) drop("a command timed out");
  tick_timer_.expires_after(250ms);
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec && state_ != State::kClosed) tick();
  });
}

}  // namespace stack
