#include "discovery/etcd/mirror.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "base/base64.h"
#include "base/duration.h"

namespace autopilot::discovery::etcd {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

}  // namespace

Mirror::Mirror(Client& client, boost::asio::io_context& io, os::Timers& timers, log::Log& log, std::string key,
               std::string range_end, Index from_index, OnChange on_change)
    : client_(client),
      io_(io),
      timers_(timers),
      log_(log),
      key_(std::move(key)),
      range_end_(std::move(range_end)),
      from_index_(from_index),
      on_change_(std::move(on_change)) {}

Mirror::~Mirror() = default;

void Mirror::start() { read(from_index_); }

void Mirror::read(Index at_revision) {
  Json body = range_request(key_, range_end_);
  if (at_revision > 0) body["revision"] = std::to_string(at_revision);
  client_.call("kv/range", std::move(body), lifetime_.bind([this, at_revision](Result<Json> r) {
    if (!r) {
      // A baseline that was compacted away (or lies in the future, after a
      // restore): read the current state and deliver it.
      if (at_revision > 0 && r.error().kind == ErrorKind::kOutOfRange) return read(0);
      return retry([this, at_revision] { read(at_revision); }, r.error());
    }
    auto kvs = kvs_of(*r);
    if (!kvs) return retry([this, at_revision] { read(at_revision); }, kvs.error());
    state_.clear();
    for (auto& kv : *kvs) {
      std::string key = kv.key;
      state_.emplace(std::move(key), std::move(kv));
    }
    revision_ = at_revision > 0 ? at_revision : revision_of(*r);
    baseline_ = at_revision > 0;
    has_state_ = true;
    schedule_notify();
    open_watch();
  }));
}

void Mirror::open_watch() {
  Json create = {{"key", base64_encode(key_)}, {"start_revision", std::to_string(revision_ + 1)}};
  if (!range_end_.empty()) create["range_end"] = base64_encode(range_end_);
  stream_ = client_.stream(
      "watch", Json{{"create_request", std::move(create)}}, lifetime_.bind([this](Json frame) { on_frame(frame); }),
      lifetime_.bind([this](Error error) { on_stream_end(error); }));
}

void Mirror::on_frame(const Json& frame) {
  if (failing_) {
    failing_ = false;
    log_.info(fmt::format("etcd: watch on {} resumed at revision {}", key_, revision_));
  }
  backoff_ = std::chrono::milliseconds(0);
  WatchFrame parsed = read_watch_frame(frame);
  if (parsed.canceled) {
    stream_.cancel();
    if (parsed.compact_revision > 0) {
      // Our resume point was compacted away: read everything again.
      log_.info(fmt::format("etcd: revision {} of {} was compacted; reading it again", revision_ + 1, key_));
      return read(0);
    }
    return retry([this] { open_watch(); }, make_error("watch cancelled: " + parsed.cancel_reason));
  }
  for (const auto& error : parsed.malformed) log_.warn("etcd: skipping a malformed watch event: " + error.message);
  bool changed = false;
  for (auto& event : parsed.events) {
    if (event.kv.mod_revision <= revision_) continue;  // already in state_ (never read twice)
    revision_ = event.kv.mod_revision;
    if (event.is_delete) {
      changed = state_.erase(event.kv.key) > 0 || changed;
    } else {
      std::string key = event.kv.key;
      state_[key] = std::move(event.kv);
      changed = true;
    }
  }
  if (changed) {
    baseline_ = false;
    schedule_notify();
  }
}

void Mirror::on_stream_end(const Error& error) {
  stream_ = Handle();
  retry([this] { open_watch(); }, error);
}

void Mirror::retry(std::function<void()> step, const Error& error) {
  if (!failing_) {
    failing_ = true;
    log_.warn(fmt::format("etcd: watch on {} interrupted ({}); resuming from revision {}", key_, error.message,
                          revision_ + 1));
  }
  backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
  retry_timer_.after(equal_jitter(backoff_, jitter_uniform()), [step = std::move(step)] { step(); });
}

void Mirror::schedule_notify() {
  if (notify_posted_) return;
  notify_posted_ = true;
  auto fire = [this] {
    notify_posted_ = false;
    last_notify_ = timers_.now();
    if (has_state_) on_change_(revision_, state_, baseline_);
  };
  auto since = timers_.now() - last_notify_;
  if (since >= kCoalesce) return boost::asio::post(io_, lifetime_.bind(std::move(fire)));
  notify_timer_.after(kCoalesce - since, std::move(fire));
}

}  // namespace autopilot::discovery::etcd
