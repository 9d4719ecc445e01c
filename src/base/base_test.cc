#include <gtest/gtest.h>

#include "base/duration.h"
#include "base/result.h"
#include "base/strings.h"

using namespace autopilot;
using namespace std::chrono_literals;

TEST(Error, FormatsPositionLineAndCaret) {
  Error e = error_at("app.json5", "{\n  foo: 1,\n}", 2, 3, "unknown key \"foo\"");
  EXPECT_EQ(e.format(), "app.json5:2:3: unknown key \"foo\"\n  foo: 1,\n  ^");
}

TEST(Error, ExcerptsQuoteControlBytesAndClipHugeLines) {
  Error e = error_at("c.json5", "{\n  x: \"\x1b]0;pwned\x07\", bad\n}", 2, 20, "oops");
  EXPECT_EQ(e.format(), "c.json5:2:20: oops\n  x: \"\\x1b]0;pwned\\x07\", bad\n" + std::string(25, ' ') + "^");
  std::string huge = "{ x: \"" + std::string(50'000'000, 'a') + "\", bad }";
  Error big = error_at("c.json5", huge, 1, 50'000'010, "oops");
  std::string shown = big.format();
  EXPECT_LT(shown.size(), 600u) << "about 2 x 256 bytes, not 50 MB";
  EXPECT_NE(shown.find("...aaaa"), std::string::npos);
  EXPECT_NE(shown.find("\", bad }"), std::string::npos);
  size_t caret = shown.rfind('^') - shown.rfind('\n') - 1;
  size_t line_start = shown.find('\n') + 1;
  EXPECT_EQ(shown[line_start + caret], 'b') << "the caret stays under the column";
}

TEST(Error, FormatsWithoutPosition) { EXPECT_EQ(make_error("boom").format(), "boom"); }

TEST(Strings, SuggestsCloseNames) {
  std::vector<std::string> keys{"stopTimeout", "restarts", "exec"};
  EXPECT_EQ(suggest("stopTimout", keys), "stopTimeout");
  EXPECT_EQ(suggest("restart", keys), "restarts");
  EXPECT_EQ(suggest("zzzzzz", keys), std::nullopt);
}

TEST(Strings, UrlsLoseTheirCredentials) {
  EXPECT_EQ(without_credentials("http://root:PW@host:2379"), "http://***@host:2379");
  EXPECT_EQ(without_credentials("a https://u@h/p?x=a@b and http://x:y@z:1, done"), "a https://***@h/p?x=a@b and http://***@z:1, done");
  EXPECT_EQ(without_credentials("endpoints: \"http://u:p@w@h:1\","), "endpoints: \"http://***@h:1\",");
  EXPECT_EQ(without_credentials("no url, a@b"), "no url, a@b");
  EXPECT_EQ(without_credentials("http://host:2379"), "http://host:2379");
}

TEST(Duration, ParsesGoForms) {
  EXPECT_EQ(*parse_duration("1500ms", false), 1500ms);
  EXPECT_EQ(*parse_duration("1m30s", false), 90s);
  EXPECT_EQ(*parse_duration("1.5h", false), 5400s);
  EXPECT_EQ(*parse_duration("5", true), 5s);
  EXPECT_EQ(*parse_duration("0", false), 0s);
  EXPECT_EQ(*parse_duration("250us", false), 250us);
}

TEST(Duration, RejectsBadForms) {
  EXPECT_EQ(parse_duration("5", false).error().message, "time: missing unit in duration \"5\"");
  EXPECT_EQ(parse_duration("5x", false).error().message, "time: unknown unit \"x\" in duration \"5x\"");
  EXPECT_EQ(parse_duration("", true).error().message, "time: invalid duration \"\"");
  EXPECT_FALSE(parse_duration("ms", true).ok());
}

TEST(Duration, FormatsLikeGo) {
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(100ms), "100ms");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(3600s), "1h0m0s");
}

TEST(Duration, EqualJitterKeepsHalfAndSpreadsTheRest) {
  EXPECT_EQ(equal_jitter(4s, 0.0), 2s);
  EXPECT_EQ(equal_jitter(4s, 1.0), 4s);
  EXPECT_EQ(equal_jitter(4s, 0.25), 2500ms);
  EXPECT_EQ(equal_jitter(250ms, 0.5), 187ms);  // whole milliseconds, rounded down
  EXPECT_EQ(equal_jitter(1s, -3.0), 500ms);    // u clamped to [0, 1]
  EXPECT_EQ(equal_jitter(1s, 7.0), 1s);
  for (int i = 0; i < 100; ++i) {
    double u = jitter_uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}
