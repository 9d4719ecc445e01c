#include <gtest/gtest.h>

#include "tmplfuncs/source.h"

namespace autopilot::tmplfuncs {
namespace {

using discovery::Status;

std::string error_of(const std::string& text, const std::string& second = "") {
  auto q = parse_service_query(text, second);
  return q ? "no error" : q.error().message;
}

TEST(ServiceQuery, NameOnlyMeansHealthy) {
  auto q = parse_service_query("web");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->name, "web");
  EXPECT_EQ(q->tag, "");
  EXPECT_TRUE(q->healthy_only());
}

TEST(ServiceQuery, TagIsBeforeTheLastDot) {
  auto q = parse_service_query("blue.web");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->tag, "blue");
  EXPECT_EQ(q->name, "web");
  q = parse_service_query("v1.2=x:y_z.api-2");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->tag, "v1.2=x:y_z");
  EXPECT_EQ(q->name, "api-2");
}

TEST(ServiceQuery, Filters) {
  auto q = parse_service_query("web|any");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->statuses,
            (std::set<Status>{Status::kPassing, Status::kWarning, Status::kCritical, Status::kMaintenance}));
  EXPECT_FALSE(q->healthy_only());

  q = parse_service_query("web| passing , warning,");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->statuses, (std::set<Status>{Status::kPassing, Status::kWarning}));
  EXPECT_FALSE(q->healthy_only());  // an explicit filter is not the healthy default

  q = parse_service_query("blue.web|critical");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->tag, "blue");
  EXPECT_EQ(q->statuses, (std::set<Status>{Status::kCritical}));

  q = parse_service_query("web", "maintenance");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->statuses, (std::set<Status>{Status::kMaintenance}));
  EXPECT_EQ(*parse_service_query("web", "any"), *parse_service_query("web|any"));
}

TEST(ServiceQuery, ErrorsNameTheQuery) {
  EXPECT_EQ(error_of("x|bogus"),
            "service \"x|bogus\": invalid filter \"bogus\" (any, passing, warning, critical, maintenance)");
  EXPECT_EQ(error_of("x", "passing,healthy"),
            "service \"x|passing,healthy\": invalid filter \"healthy\" (any, passing, warning, critical, maintenance)");
  EXPECT_EQ(error_of("x|"), "service \"x|\": empty filter after '|' (any, passing, warning, critical, maintenance)");
  EXPECT_EQ(error_of("web@dc2"), "service \"web@dc2\": @DC is not supported (the catalog has one datacenter)");
  EXPECT_EQ(error_of("web?ns=a"), "service \"web?ns=a\": ?QUERY options are not supported");
  EXPECT_EQ(error_of("web~_agent"), "service \"web~_agent\": ~NEAR is not supported");
  EXPECT_EQ(error_of(""), "service \"\": a service name is required");
  EXPECT_EQ(error_of(".web"), "service \".web\": invalid tag \"\": must hold only letters, digits and _=:.-");
  EXPECT_EQ(error_of("a/b.web"), "service \"a/b.web\": invalid tag \"a/b\": must hold only letters, digits and _=:.-");
  EXPECT_EQ(error_of("web_1"),
            "service \"web_1\": invalid name \"web_1\": must start with a letter and hold only letters, digits and "
            "'-' (at most 63)");
  EXPECT_EQ(error_of("blue."),
            "service \"blue.\": invalid name \"\": must start with a letter and hold only letters, digits and "
            "'-' (at most 63)");
}

}  // namespace
}  // namespace autopilot::tmplfuncs
