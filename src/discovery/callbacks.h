// Delivering results the way catalog.h promises (on the loop, never inline,
// never after the catalog is gone), shared by the catalog backends.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>

#include "base/lifetime.h"
#include "discovery/catalog.h"

namespace autopilot::discovery {

// Delivers `result` to `done` from the loop, unless `owner` (the catalog's
// Lifetime) has ended by then.
template <class T>
void post_result(boost::asio::io_context& io, const Lifetime& owner, Callback<T> done, Result<T> result) {
  boost::asio::post(io, owner.bind([done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  }));
}

// A watch that failed before it started (an invalid name or key): its error
// is delivered once from the loop, unless the returned handle is cancelled
// first.
template <class T>
Handle fail_watch(boost::asio::io_context& io, std::function<void(Result<T>)> on_update, Error error) {
  auto cancelled = std::make_shared<bool>(false);
  boost::asio::post(io, [cancelled, on_update = std::move(on_update), error = std::move(error)] {
    if (!*cancelled) on_update(Result<T>(error));
  });
  return Handle([cancelled] { *cancelled = true; });
}

}  // namespace autopilot::discovery
