// A small asynchronous Redis client on Asio for the demo app: one connection
// to the master among a list of candidate endpoints, commands pipelined on it.
// On connect it asks each candidate for its ROLE and keeps the first master,
// so a list that still names a demoted or dead master (the catalog catches up
// within a health-check interval) is harmless. A broken connection, a command
// stuck for 2 s or a READONLY reply (the node was demoted under us) drops the
// connection and the client looks for the master again every 500 ms.
//
// Everything runs on the one io_context given; callbacks run on it. The
// client must outlive the io_context's run (the demo app keeps it in main).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "resp.h"

namespace stack {

struct Endpoint {
  std::string host;  // an IP literal
  unsigned short port = 6379;
  bool operator==(const Endpoint&) const = default;
  std::string str() const { return host + ":" + std::to_string(port); }
};

class RedisClient {
 public:
  // `error` is empty on success; an error reply counts as an error.
  using Done = std::function<void(const std::string& error, const resp::Value& reply)>;
  using Logger = std::function<void(const std::string&)>;

  RedisClient(boost::asio::io_context& io, Logger log);

  // Replaces the candidates; reconnects when they changed. Unchanged ones
  // keep the connection: a master that was demoted meanwhile answers
  // READONLY, which reconnects.
  void set_endpoints(std::vector<Endpoint> endpoints);
  // Sends a command; queued (at most 2 s) while no master is connected.
  void command(std::vector<std::string> args, Done done);
  // Fails every queued command and closes the connection for good.
  void close();

  bool is_connected() const { return state_ == State::kReady; }
  const std::string& master() const { return master_; }

 private:
  enum class State { kIdle, kProbing, kReady, kClosed };
  using Clock = std::chrono::steady_clock;
  struct Pending {
    std::vector<std::string> args;
    Done done;
    Clock::time_point deadline;
  };

  void reconnect();
  void probe(std::size_t index, std::uint64_t gen);
  void probe_read(std::size_t index, std::uint64_t gen);
  void on_probe_reply(std::size_t index, std::uint64_t gen, const resp::Value& role);
  void drop(const std::string& why);
  void flush();
  void write_more();
  void read_more(std::uint64_t gen);
  void on_reply(resp::Value reply);
  void tick();

  boost::asio::io_context& io_;
  Logger log_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer retry_timer_, probe_timer_, tick_timer_;
  std::vector<Endpoint> endpoints_;
  State state_ = State::kIdle;
  std::uint64_t gen_ = 0;  // bumped on every (re)connect: late completions of an old socket are ignored
  std::string master_;
  std::deque<Pending> queued_;    // not yet sent
  std::deque<Pending> inflight_;  // sent, reply awaited, in order
  std::string out_, writing_;
  bool is_writing_ = false;
  resp::Decoder decoder_;
  char read_buf_[16384];
};

}  // namespace stack
