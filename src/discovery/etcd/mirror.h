// Mirror: a live copy of every key in [key, range_end) of etcd, kept by a
// range read and then a watch stream. The etcd catalog's service watches,
// prefix watches and lock waits are mirrors.
//
// Rules:
// - Start: with from_index 0, a range at the current revision; with an index
//   the owner has seen, a range at that revision (the owner's baseline), and
//   the watch replays every change after it. If that revision was compacted,
//   the current state instead (delivery stays at least once).
// - The watch resumes from the last revision seen after any failure (member
//   killed, no leader, network), with back-off and jitter (100 ms doubling to
//   2 s): no change is missed, and none is read twice. A compacted resume
//   point leads to a full re-read and a fresh watch, not an error loop.
// - on_change runs on the loop after the first read and after each batch of
//   events, with the whole state and the revision it reflects. Bursts are
//   coalesced: a change after a quiet spell is delivered at once (next loop
//   turn), later ones at most once per kCoalesce (20 ms), so 50 registrations
//   in a row give a few deliveries, not 50. `baseline` is true for a state the owner already
//   has (the read at its from_index): it must not be delivered as news.
// - Transient errors are logged (once per outage), never delivered: the
//   owner keeps what it has. Destroying the Mirror stops everything; no
//   callback runs afterwards.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/lifetime.h"
#include "discovery/etcd/client.h"
#include "discovery/etcd/wire.h"
#include "log/log.h"
#include "os/timers.h"

namespace autopilot::discovery::etcd {

class Mirror {
 public:
  static constexpr std::chrono::milliseconds kCoalesce{20};
  using State = std::map<std::string, Kv>;
  using OnChange = std::function<void(Index revision, const State& state, bool baseline)>;

  Mirror(Client& client, boost::asio::io_context& io, os::Timers& timers, log::Log& log, std::string key,
         std::string range_end, Index from_index, OnChange on_change);
  ~Mirror();
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  void start();

 private:
  void read(Index at_revision);
  void open_watch();
  void on_frame(const Json& frame);
  void on_stream_end(const Error& error);
  void retry(std::function<void()> step, const Error& error);
  void schedule_notify();

  Client& client_;
  boost::asio::io_context& io_;
  os::Timers& timers_;
  log::Log& log_;
  std::string key_, range_end_;
  Index from_index_;
  OnChange on_change_;

  State state_;
  Index revision_ = 0;  // everything up to it is in state_
  bool baseline_ = false;
  bool notify_posted_ = false;
  os::Clock::time_point last_notify_{};
  bool has_state_ = false;
  Handle stream_;
  os::Timer retry_timer_{timers_};
  os::Timer notify_timer_{timers_};  // a notification held back to coalesce
  std::chrono::milliseconds backoff_{0};
  bool failing_ = false;  // an outage was logged and not yet recovered
  Lifetime lifetime_;  // last: ends the client's callbacks and our posts
};

}  // namespace autopilot::discovery::etcd
