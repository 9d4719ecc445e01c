// The fixture the function tests share: a FakeSource, a fixed wall clock,
// and render(), which parses and executes a template with the whole library.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "tmpl/template.h"
#include "tmplfuncs/fake_source.h"
#include "tmplfuncs/functions.h"

namespace autopilot::tmplfuncs::testing {

class FunctionsTest : public ::testing::Test {
 protected:
  // The output, or "PARSE: message" / "EXEC: message".
  std::string render(std::string_view text, const tmpl::Value& data = tmpl::Value()) {
    tmpl::FuncMap funcs;
    add_consul_template_funcs(funcs, source, [this] { return now; });
    auto t = tmpl::Template::parse("t", text, std::move(funcs));
    if (!t) return "PARSE: " + t.error().message;
    auto out = t->execute(data);
    if (!out) return "EXEC: " + out.error().message;
    return *out;
  }

  FakeSource source;
  // 2009-11-10 23:04:05.123456789 UTC, a Tuesday, day 314 of the year.
  std::chrono::system_clock::time_point now = std::chrono::sys_days{std::chrono::year{2009} / 11 / 10} +
                                              std::chrono::hours{23} + std::chrono::minutes{4} +
                                              std::chrono::seconds{5} + std::chrono::nanoseconds{123456789};
};

}  // namespace autopilot::tmplfuncs::testing
