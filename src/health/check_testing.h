// Test support for probes: run one and wait (bounded) for its result.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "health/check.h"
#include "os/linux/loop_testing.h"

namespace autopilot::health {

inline CheckResult probe_once(boost::asio::io_context& io, Check& check, Duration timeout) {
  std::optional<CheckResult> result;
  check.run(timeout, [&](CheckResult r) { result = std::move(r); });
  EXPECT_FALSE(result.has_value()) << "done ran inline";
  EXPECT_TRUE(os::run_until(io, [&] { return result.has_value(); }));
  return result.value_or(CheckResult{false, "no result"});
}

}  // namespace autopilot::health
