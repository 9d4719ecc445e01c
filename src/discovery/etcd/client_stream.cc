// Streams (client.h): opened like a call (the first member that answers 200
// within the deadline), then read piece by piece and split into frames on
// '\n' (frames need not align with HTTP chunks). While open, the member is
// probed with a status request every `stream_probe_interval` under the usual
// deadline: an idle watch on a member cut off by the network would otherwise
// wait forever. Streams are never retried here; the caller resumes them.
#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "discovery/etcd/client_core.h"

namespace autopilot::discovery::etcd {
namespace {

constexpr size_t kMaxFrameBytes = size_t{64} << 20;

}  // namespace

Handle ClientCore::stream(std::string method, Json body, std::function<void(Json)> on_frame,
                          std::function<void(Error)> on_end) {
  auto stream = std::make_shared<Stream>();
  stream->target = "/v3/" + method;
  stream->body = body.dump();
  stream->start = current_;
  stream->on_frame = std::move(on_frame);
  stream->on_end = std::move(on_end);
  boost::asio::post(io_, [weak = weak_from_this(), stream] {
    auto self = weak.lock();
    if (self && !self->closed_ && !stream->ended) self->open_stream(stream);
  });
  return Handle([weak = weak_from_this(), weak_stream = std::weak_ptr<Stream>(stream)] {
    auto self = weak.lock();
    auto stream = weak_stream.lock();
    if (self && stream) self->cancel_stream(stream);
  });
}

void ClientCore::open_stream(const std::shared_ptr<Stream>& stream) {
  if (!with_token(*stream, [this, stream](Result<void> ok) {
        if (stream->ended) return;
        if (!ok) return end_stream(stream, ok.error());
        open_stream(stream);
      })) {
    return;
  }
  if (stream->tried == members_.size()) return end_stream(stream, unavailable(*stream));
  size_t member = (stream->start + stream->tried) % members_.size();
  std::string token = stream->with_auth ? token_ : std::string();
  OutgoingRequest request = gateway_request(stream->target, stream->body, token);
  stream->attempt = attempt(member, std::move(request), true, [this, stream, member, token](Outcome outcome) {
    note(member, outcome);
    switch (outcome.verdict) {
      case Verdict::kAnswered:
        if (outcome.stream) {
          stream->member = member;
          stream->conn = std::move(outcome.stream);
          read_stream(stream);
          return schedule_probe(stream);
        }
        return end_stream(
            stream, prefixed(member, outcome.reply ? make_error("the stream was not opened") : outcome.reply.error()));
      case Verdict::kUnauthenticated:
        if (!options_.username.empty() && !stream->reauthenticated) {
          stream->reauthenticated = true;
          auth_off_on_server_ = false;
          if (token_ == token) token_.clear();
          return open_stream(stream);
        }
        return end_stream(stream, prefixed(member, outcome.reply.error()));
      case Verdict::kUnavailable:
        stream->failures.push_back(members_[member].url + ": " + outcome.failure);
        ++stream->tried;
        return open_stream(stream);
    }
  });
}

void ClientCore::read_stream(const std::shared_ptr<Stream>& stream) {
  stream->conn->read_some([weak = weak_from_this(), stream](Result<BodyPiece> piece) {
    auto self = weak.lock();
    if (!self || self->closed_ || stream->ended) return;
    const std::string& url = self->members_[stream->member].url;
    if (!piece) {
      return self->end_stream(
          stream, grpc_error(kCodeUnavailable, fmt::format("etcd {}: stream broken: {}", url, piece.error().message)));
    }
    stream->frames.append(piece->data);
    while (auto line = stream->frames.next()) {
      auto frame = read_frame(*line);
      if (!frame) return self->end_stream(stream, self->prefixed(stream->member, frame.error()));
      if (!*frame) continue;
      stream->on_frame(std::move(**frame));
      // The callback may have cancelled the stream or destroyed the Client.
      if (self->closed_ || stream->ended) return;
    }
    if (stream->frames.pending() > kMaxFrameBytes) {
      return self->end_stream(
          stream,
          self->prefixed(stream->member, make_error(fmt::format("stream frame over {} bytes", kMaxFrameBytes))));
    }
    if (piece->last) {
      return self->end_stream(stream,
                              grpc_error(kCodeUnavailable, fmt::format("etcd {}: the member ended the stream", url)));
    }
    self->read_stream(stream);
  });
}

void ClientCore::schedule_probe(const std::shared_ptr<Stream>& stream) {
  if (options_.stream_probe_interval <= Duration::zero()) return;
  stream->probe_timer = start_timer(options_.stream_probe_interval, [this, stream] {
    stream->probe_timer = 0;
    if (stream->ended) return;
    std::string token = needs_auth() ? token_ : std::string();
    OutgoingRequest request = gateway_request("/v3/maintenance/status", "{}", token);
    stream->attempt = attempt(stream->member, std::move(request), false, [this, stream](Outcome outcome) {
      if (stream->ended) return;
      if (outcome.verdict == Verdict::kUnavailable) {
        note(stream->member, outcome);
        return end_stream(stream,
                          grpc_error(kCodeUnavailable, fmt::format("etcd {}: stream probe failed: {}",
                                                                   members_[stream->member].url, outcome.failure)));
      }
      schedule_probe(stream);
    });
  });
}

void ClientCore::end_stream(const std::shared_ptr<Stream>& stream, Error error) {
  if (stream->ended) return;
  cancel_stream(stream);
  log_.debug("etcd: stream " + stream->target + " ended: " + error.message);
  auto on_end = std::move(stream->on_end);
  on_end(std::move(error));
}

void ClientCore::cancel_stream(const std::shared_ptr<Stream>& stream) {
  if (stream->ended) return;
  stream->ended = true;
  if (closed_) return;  // shutdown() closed everything already
  stop_timer(stream->probe_timer);
  if (auto attempt = stream->attempt.lock()) abort(attempt);
  if (stream->conn) {
    busy_.erase(stream->conn);
    stream->conn->close();
    stream->conn = nullptr;
  }
}

}  // namespace autopilot::discovery::etcd
