#include "log/log_config.h"

#include <gtest/gtest.h>

#include "json5/json5.h"

namespace autopilot::log {
namespace {

// Decodes the `logging` block of `text`, a whole config document.
Result<LogConfig> decode(const std::string& text) {
  auto doc = json5::parse(text, "c.json5");
  if (!doc) return doc.error();
  decode::Decoder d(*doc, text);
  auto logging = d.field(d.root(), "logging");
  if (!logging) return make_error("no logging block");
  return decode_logging(d, *logging);
}

std::string error_of(const std::string& text) {
  auto c = decode(text);
  return c ? "no error" : c.error().format();
}

TEST(LogConfig, DecodesEachFieldAndKeepsDefaultsForTheRest) {
  auto c = decode(R"({ logging: { level: "debug", format: "json", output: "/var/log/a.log" } })");
  ASSERT_TRUE(c.ok()) << c.error().format();
  EXPECT_EQ(*c, (LogConfig{Level::kDebug, Format::kJson, "/var/log/a.log"}));
  auto empty = decode("{ logging: {} }");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, LogConfig{});
}

TEST(LogConfig, LevelsAreCaseInsensitiveWithContainerPilotsAliases) {
  EXPECT_EQ(decode(R"({ logging: { level: "Warning" } })")->level, Level::kWarn);
  EXPECT_EQ(decode(R"({ logging: { level: "INFO" } })")->level, Level::kInfo);
  EXPECT_EQ(decode(R"({ logging: { level: "fatal" } })")->level, Level::kError);
  EXPECT_EQ(decode(R"({ logging: { level: "PANIC" } })")->level, Level::kError);
}

TEST(LogConfig, ErrorsPointAtTheOffendingKeyOrValue) {
  EXPECT_EQ(error_of(R"({ logging: { level: "LOUD" } })"),
            "c.json5:1:21: logging.level: \"LOUD\" is not a log level (DEBUG, INFO, WARN, ERROR)\n"
            "{ logging: { level: \"LOUD\" } }\n"
            "                    ^");
  EXPECT_EQ(error_of(R"({ logging: { format: "xml" } })"),
            "c.json5:1:22: logging.format: \"xml\" is not a log format (default, text, json)\n"
            "{ logging: { format: \"xml\" } }\n"
            "                     ^");
  EXPECT_EQ(error_of(R"({ logging: { output: "" } })"),
            "c.json5:1:22: logging.output: must be stdout, stderr or a file path\n"
            "{ logging: { output: \"\" } }\n"
            "                     ^");
  EXPECT_EQ(error_of(R"({ logging: { levl: "INFO" } })"),
            "c.json5:1:14: logging: unknown key \"levl\" (did you mean \"level\"?)\n"
            "{ logging: { levl: \"INFO\" } }\n"
            "             ^");
}

}  // namespace
}  // namespace autopilot::log
