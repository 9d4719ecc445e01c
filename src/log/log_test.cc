#include "log/log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace autopilot::log {
namespace {

TEST(Log, FormatsDefaultTextAndJson) {
  Log d({Level::kInfo, Format::kDefault, "stdout"});
  EXPECT_EQ(d.format_for_test(Level::kInfo, "hello", "app", 42, "T"), "T app 42 hello\n");
  EXPECT_EQ(d.format_for_test(Level::kWarn, "x", "", 0, "T"), "T warning: x\n");
  Log t({Level::kInfo, Format::kText, "stdout"});
  EXPECT_EQ(t.format_for_test(Level::kInfo, "two words", "app", 7, "T"),
            "time=T level=info job=app pid=7 msg=\"two words\"\n");
  Log j({Level::kInfo, Format::kJson, "stdout"});
  EXPECT_EQ(j.format_for_test(Level::kError, "a\"b", "app", 0, "T"),
            "{\"time\":\"T\",\"level\":\"error\",\"job\":\"app\",\"msg\":\"a\\\"b\"}\n");
}

// Counts how often it is formatted.
struct Counted {
  int* formatted;
};

}  // namespace
}  // namespace autopilot::log

template <>
struct fmt::formatter<autopilot::log::Counted> : fmt::formatter<std::string_view> {
  auto format(const autopilot::log::Counted& c, format_context& ctx) const {
    ++*c.formatted;
    return fmt::formatter<std::string_view>::format("counted", ctx);
  }
};

namespace autopilot::log {
namespace {

TEST(Log, WritefFormatsOnlyWhatIsWritten) {
  auto path = std::filesystem::temp_directory_path() / ("log_writef_" + std::to_string(::getpid()) + ".log");
  Log log({Level::kInfo, Format::kDefault, path.string()});
  ASSERT_TRUE(log.open().ok());
  int formatted = 0;
  log.writef(Level::kDebug, "hidden {}", Counted{&formatted});
  EXPECT_EQ(formatted, 0) << "a filtered-out line is not formatted";
  log.writef(Level::kInfo, "shown {} {}", Counted{&formatted}, 7);
  EXPECT_EQ(formatted, 1);
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("shown counted 7"), std::string::npos) << s.str();
  EXPECT_EQ(s.str().find("hidden"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(Log, FileOutputIsReopenedAfterRotation) {
  auto dir = std::filesystem::temp_directory_path() / ("log_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "autopilot.log";
  Log log({Level::kInfo, Format::kDefault, path.string()});
  ASSERT_TRUE(log.open().ok());
  log.info("first");
  std::filesystem::rename(path, dir / "autopilot.log.1");
  ASSERT_TRUE(log.reopen().ok());
  log.info("second");
  log.debug("hidden");
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_NE(s.str().find("second"), std::string::npos);
  EXPECT_EQ(s.str().find("first"), std::string::npos);
  EXPECT_EQ(s.str().find("hidden"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Log, OpenFailureNamesThePath) {
  Log log({Level::kInfo, Format::kDefault, "/nonexistent-dir/x.log"});
  auto r = log.open();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "open /nonexistent-dir/x.log: No such file or directory");
}

}  // namespace
}  // namespace autopilot::log
