#include "events/source.h"

#include <gtest/gtest.h>

namespace autopilot::events {
namespace {

TEST(Source, ParsesEveryFormAConfigCanWriteAndPrintsItBack) {
  struct Case {
    const char* text;
    SourceKind kind;
    const char* name;
  } cases[] = {
      {"global", SourceKind::kGlobal, "global"},     {"SIGHUP", SourceKind::kSignal, "SIGHUP"},
      {"SIGUSR2", SourceKind::kSignal, "SIGUSR2"},   {"check.app", SourceKind::kCheck, "app"},
      {"watch.db", SourceKind::kWatch, "db"},        {"template.nginx.conf", SourceKind::kTemplate, "nginx.conf"},
      {"preStart", SourceKind::kJob, "preStart"},    {"SIGTERM", SourceKind::kJob, "SIGTERM"},
      {"file.ssl.crt", SourceKind::kFile, "ssl.crt"},
  };
  for (const auto& c : cases) {
    Source s = Source::parse(c.text);
    EXPECT_EQ(s.kind(), c.kind) << c.text;
    EXPECT_EQ(s.name(), c.name) << c.text;
    EXPECT_EQ(s.str(), c.text) << "round trip";
  }
}

TEST(Source, ProducersAndParsedConfigNamesAreEqual) {
  EXPECT_EQ(Source::watch("db"), Source::parse("watch.db"));
  EXPECT_EQ(Source::check("app"), Source::parse("check.app"));
  EXPECT_EQ(Source::templ("up"), Source::parse("template.up"));
  EXPECT_EQ(Source::file("ssl-key"), Source::parse("file.ssl-key"));
  EXPECT_NE(Source::job("watch.db"), Source::parse("watch.db")) << "kinds differ even when the text is the same";
  EXPECT_NE(Source::error("x"), Source::job("x"));
}

TEST(Source, CheckSourceAcceptsWhatTheConfigDefines) {
  KnownSources known{{"app", "pre"}, {"db"}, {"nginx"}, {}};
  for (const char* ok : {"global", "SIGHUP", "SIGUSR2", "app", "check.pre", "watch.db", "template.nginx"})
    EXPECT_EQ(check_source(Source::parse(ok), known), std::nullopt) << ok;
}

TEST(Source, CheckSourceNamesTheValidFormsAndSuggests) {
  KnownSources known{{"prepare"}, {"db"}, {"nginx.conf"}, {}};
  auto job = check_source(Source::parse("prepar"), known);
  ASSERT_TRUE(job);
  EXPECT_EQ(*job,
            "\"prepar\" is not a job, a job's check (check.JOB), a watch (watch.NAME), a template (template.NAME), "
            "a file (file.NAME), global, SIGHUP or SIGUSR2 (did you mean \"prepare\"?)");
  EXPECT_EQ(check_source(Source::parse("watch.dbb"), known), "no watch named \"dbb\" (did you mean \"watch.db\"?)");
  EXPECT_EQ(check_source(Source::parse("template.nginx.con"), known),
            "no template named \"nginx.con\" (did you mean \"template.nginx.conf\"?)");
  EXPECT_EQ(check_source(Source::parse("check.prepar"), known),
            "no job named \"prepar\" (did you mean \"check.prepare\"?)");
  EXPECT_TRUE(check_source(Source::error("boom"), known));
  KnownSources with_files{{"app"}, {}, {}, {"ssl-cert"}};
  EXPECT_EQ(check_source(Source::parse("file.ssl-cert"), with_files), std::nullopt);
  EXPECT_EQ(check_source(Source::parse("file.ssl-crt"), with_files),
            "no file named \"ssl-crt\" (did you mean \"file.ssl-cert\"?)");
}

}  // namespace
}  // namespace autopilot::events
