#include "discovery/catalog.h"

#include <gtest/gtest.h>

#include "discovery/embedded/records.h"

namespace autopilot::discovery {
namespace {

TEST(CatalogTest, ServiceNames) {
  for (const char* ok : {"a", "web", "web-2", "Api-Gateway"}) EXPECT_TRUE(validate_service_name(ok).ok()) << ok;
  for (const char* bad : {"", "2web", "-web", "web_app", "web.app", "web/app", "a b"}) {
    EXPECT_FALSE(validate_service_name(bad).ok()) << bad;
  }
  EXPECT_FALSE(validate_service_name(std::string(64, 'a')).ok());
  EXPECT_EQ(validate_service_name("a\nb").error().message,
            "invalid name \"a\\x0ab\": must start with a letter and hold only letters, digits and '-' (at most 63)");
}

TEST(CatalogTest, UnknownInstanceError) {
  Error e = unknown_instance_error("web-1");
  EXPECT_EQ(e.message, "unknown instance \"web-1\"");
  EXPECT_EQ(e.kind, ErrorKind::kNotFound);
  EXPECT_EQ(make_error("disk full").kind, ErrorKind::kOther);
}

TEST(CatalogTest, StatusNamesRoundTrip) {
  for (Status s : {Status::kPassing, Status::kWarning, Status::kCritical, Status::kMaintenance}) {
    EXPECT_EQ(*parse_status(status_name(s)), s);
  }
  EXPECT_FALSE(parse_status("healthy").ok());
  EXPECT_TRUE(is_healthy(Status::kWarning));
  EXPECT_FALSE(is_healthy(Status::kMaintenance));
}

TEST(RecordsTest, InstanceRoundTripAndValidation) {
  embedded::InstanceRecord r;
  r.instance = {"id-1", "web", "10.0.0.1", 80, {"a"}, {{"k", "v"}}, Status::kWarning, "n1"};
  r.ttl = std::chrono::milliseconds(1500);
  r.expires = embedded::WallClock::time_point(std::chrono::milliseconds(1700000000123));
  r.create_index = 3;
  r.mod_index = 7;
  auto back = embedded::decode_instance(embedded::encode_instance(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->instance, r.instance);
  EXPECT_EQ(back->ttl, r.ttl);
  EXPECT_EQ(back->expires, r.expires);
  EXPECT_EQ(back->mod_index, 7u);
  for (
      const char* bad :
      {"", "[]", "{\"v\":1}", "{\"v\":2,\"id\":\"x\"}", "null",
       R"({"v":1,"id":"x","name":"1bad","address":"","port":1,"tags":[],"meta":{},"status":"passing","node":"","ttl_ms":1,"expires_unix_ms":1,"create_index":1,"mod_index":1})",
       R"({"v":1,"id":"x","name":"ok","address":"","port":1,"tags":[],"meta":{},"status":"passing","node":"","ttl_ms":1,"expires_unix_ms":1,"create_index":-1,"mod_index":1})",
       R"({"v":1,"id":"x","name":"ok","address":"","port":1,"tags":[3],"meta":{},"status":"passing","node":"","ttl_ms":1,"expires_unix_ms":1,"create_index":1,"mod_index":1})"}) {
    EXPECT_FALSE(embedded::decode_instance(bad).ok()) << bad;
  }
}

TEST(CatalogTest, AddressesAreIpsOrHostNames) {
  Instance in{"id-1", "web", "", 80, {}, {}, Status::kPassing, "n1"};
  for (const char* ok : {"", "10.0.0.1", "::1", "fe80::1%eth0", "web-1.example.com", "web-1.example.com.", "app_1",
                         "localhost"}) {
    in.address = ok;
    EXPECT_TRUE(validate_instance(in).ok()) << ok;
  }
  for (const char* bad : {"1.2.3.4:80; } server { listen 80", "a b", "10.0.0.1:80", "-web", "web..x", "[::1]",
                          "1.2.3.4%eth0", "host;rm", "a\nb", "x/y"}) {
    in.address = bad;
    EXPECT_FALSE(validate_instance(in).ok()) << bad;
  }
  in.address = "1.2.3.4:80; }";
  EXPECT_EQ(validate_instance(in).error().message,
            "invalid address \"1.2.3.4:80; }\": must be an IP address or a host name");
  // Read back from a record, the same check applies.
  embedded::InstanceRecord r;
  r.instance = {"id-1", "web", "10.0.0.1", 80, {}, {}, Status::kPassing, "n1"};
  std::string text = embedded::encode_instance(r);
  text.replace(text.find("10.0.0.1"), 8, "1.2.3.4:80; } server {");
  EXPECT_FALSE(embedded::decode_instance(text).ok()) << text;
}

// Found writing fuzz/catalog_fuzz (inputs in fuzz/findings/catalog_fuzz/): times beyond the
// clock's range overflowed converting milliseconds to the clock's
// nanoseconds (UBSan: signed overflow), and a TTL near that range made
// `now + ttl` overflow at the next heartbeat.
TEST(RecordsTest, TimesOutsideTheClocksRangeAreRefused) {
  embedded::InstanceRecord r;
  r.instance = {"id-1", "web", "10.0.0.1", 80, {}, {}, Status::kPassing, "n1"};
  r.ttl = std::chrono::milliseconds(1500);
  r.create_index = 1;
  r.mod_index = 1;
  std::string text = embedded::encode_instance(r);
  auto with = [&](const std::string& field, const std::string& value) {
    std::string t = text;
    auto at = t.find("\"" + field + "\":") + field.size() + 3;
    t.replace(at, t.find_first_of(",}", at) - at, value);
    return t;
  };
  for (const char* v : {"9223372036854775807", "-9223372036854775807", "9300000000000"}) {
    auto bad = embedded::decode_instance(with("expires_unix_ms", v));
    ASSERT_FALSE(bad.ok()) << v;
    EXPECT_EQ(bad.error().message, "ttl_ms and expires_unix_ms must be within the clock's range");
  }
  EXPECT_FALSE(embedded::decode_instance(with("ttl_ms", "9223372036854775807")).ok());
  auto long_ttl = embedded::decode_instance(with("ttl_ms", "3153600000001"));  // 100 years (of 365 days) and 1 ms
  ASSERT_FALSE(long_ttl.ok());
  EXPECT_EQ(long_ttl.error().message, "ttl_ms is too large");
  EXPECT_TRUE(embedded::decode_instance(with("ttl_ms", "3153600000000")).ok());
  EXPECT_TRUE(embedded::decode_instance(with("expires_unix_ms", "-5")).ok());
}

TEST(RecordsTest, IndexFiles) {
  EXPECT_EQ(embedded::parse_index("42\n"), 42u);
  EXPECT_EQ(embedded::parse_index("18446744073709551615"), 18446744073709551615u);
  for (const char* zero : {"", "\n", "-1", "x1", "18446744073709551616"}) EXPECT_EQ(embedded::parse_index(zero), 0u);
}

TEST(RecordsTest, KeyEncodingIsSafeAndReversible) {
  for (std::string key : {"a", "app/config", "a..b", "sp ace", "%41", "ünï"}) {
    std::string name = embedded::encode_key(key);
    EXPECT_EQ(name.find('/'), std::string::npos);
    EXPECT_NE(name[0], '.');
    EXPECT_EQ(embedded::decode_key(name), key);
  }
  EXPECT_EQ(embedded::encode_key("app/x.y"), "app%2Fx%2Ey.kv");
  for (const char* bad : {".kv", "a.json", "%2.kv", "%zz.kv", "a%2f.kv", ".tmp-1-a.kv", "a.b.kv"}) {
    EXPECT_FALSE(embedded::decode_key(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace autopilot::discovery
