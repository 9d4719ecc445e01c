// Bounded waits on a real io_context, for tests: run the loop until a
// condition holds or a deadline passes (never a bare sleep). Test-only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>

namespace autopilot::os {

// Runs `io` until `done()` or `limit` passes; returns done().
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Runs `io` for `period` (to check that something does NOT happen).
inline void run_for(boost::asio::io_context& io, std::chrono::milliseconds period) {
  auto end = std::chrono::steady_clock::now() + period;
  run_until(
      io, [&] { return std::chrono::steady_clock::now() >= end; }, period + std::chrono::seconds(1));
}

}  // namespace autopilot::os
