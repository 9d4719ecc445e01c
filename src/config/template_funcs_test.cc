#include "config/template_funcs.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace autopilot::config {
namespace {

std::string render(const std::string& text, const Env& env, tmpl::MissingKey missing = tmpl::MissingKey::kZero) {
  auto t = tmpl::Template::parse("t", text, containerpilot_funcs(env));
  if (!t) return "PARSE: " + t.error().format();
  std::map<std::string, tmpl::Value> data;
  for (const auto& [k, v] : env) data.emplace(k, tmpl::Value(v));
  auto out = t->execute(tmpl::Value::map(std::move(data)), missing);
  return out ? *out : "EXEC: " + out.error().message;
}

TEST(ContainerPilotFuncs, DefaultEnvAndMissingKeys) {
  Env env{{"SET", "x"}, {"EMPTY", ""}, {"EQ", "a=b=c"}};
  EXPECT_EQ(render("{{ .SET | default \"d\" }}", env), "x");
  EXPECT_EQ(render("{{ .EMPTY | default \"d\" }}", env), "d");
  EXPECT_EQ(render("{{ .UNSET | default \"d\" }}", env), "d");
  EXPECT_EQ(render("[{{ .UNSET }}]", env), "[]");
  EXPECT_EQ(render("{{ .EQ }}|{{ env \"EQ\" }}", env), "a=b=c|a=b=c");
  EXPECT_EQ(render("{{ env \"UNSET\" }}.", env), ".");
  EXPECT_EQ(render("{{ if .SET }}yes{{ end }}{{ if .UNSET }}no{{ end }}", env), "yes");
}

TEST(ContainerPilotFuncs, SplitJoinReplace) {
  Env env{{"P", " a:b:c "}, {"S", "one.two.two"}};
  EXPECT_EQ(render("{{ .P | split \":\" | join \",\" }}", env), "a,b,c");
  EXPECT_EQ(render("{{ len (split \":\" \"\") }}", env), "0");
  EXPECT_EQ(render("{{ .S | replaceAll \"two\" \"2\" }}", env), "one.2.2");
  EXPECT_EQ(render("{{ .S | regexReplaceAll \"t(w)o\" \"[$1]\" }}", env), "one.[w].[w]");
  EXPECT_EQ(render("{{ .S | regexReplaceAll \"(\" \"x\" }}", env).substr(0, 5), "EXEC:");
}

TEST(ContainerPilotFuncs, Loop) {
  Env env{{"N", "3"}};
  EXPECT_EQ(render("{{ range loop 3 }}{{ . }}{{ end }}", env), "012");
  EXPECT_EQ(render("{{ range loop 2 5 }}{{ . }}{{ end }}", env), "234");
  EXPECT_EQ(render("{{ range loop 5 1 }}{{ . }}{{ end }}", env), "5432");
  EXPECT_EQ(render("{{ range loop .N }}{{ . }}{{ end }}", env), "012");
  EXPECT_EQ(render("{{ range loop \"x\" }}{{ . }}{{ end }}", env).substr(0, 5), "EXEC:");
}

// The helpers are typed as ContainerPilot's Go funcs; each expectation below
// is what Go 1.19 text/template gives with those signatures.
TEST(ContainerPilotFuncs, DefaultReturnsTheDefaultForEveryNonStringValue) {
  Env env{{"N", "3"}};
  EXPECT_EQ(render("{{ 3 | default \"d\" }}", env), "d");
  EXPECT_EQ(render("{{ true | default \"d\" }}", env), "d");
  EXPECT_EQ(render("{{ 1.5 | default \"d\" }}", env), "d");
  EXPECT_EQ(render("{{ loop 2 | default \"d\" }}", env), "d");
  EXPECT_EQ(render("{{ default \"d\" nil }}", env), "d");
  EXPECT_EQ(render("{{ .N | default \"d\" }}", env), "3");  // the env value is a string
  // A non-string default prints with %v; nil as <nil>; the result is a string.
  EXPECT_EQ(render("{{ \"\" | default 100 }}|{{ .X | default 10.1 }}|{{ default nil \"\" }}", env), "100|10.1|<nil>");
  EXPECT_EQ(render("{{ default (split \",\" \"a,b\") \"\" }}", env), "[a b]");
  EXPECT_EQ(render("{{ printf \"%T\" (default 1 2) }}", env), "string");
  EXPECT_EQ(render("{{ default 1 }}", env), "EXEC: wrong number of args for default: want 2 got 1");
}

TEST(ContainerPilotFuncs, StringHelpersTakeStringsOnly) {
  Env env{{"S", "abc"}};
  EXPECT_EQ(render("{{ 3 | replaceAll \"a\" \"A\" }}", env), "EXEC: wrong type for value; expected string; got int");
  EXPECT_EQ(render("{{ replaceAll 3 \"a\" \"b\" }}", env), "EXEC: expected string; found 3");
  EXPECT_EQ(render("{{ replaceAll true \"a\" \"b\" }}", env), "EXEC: expected string; found true");
  EXPECT_EQ(render("{{ replaceAll nil \"a\" \"b\" }}", env), "EXEC: cannot assign nil to string");
  EXPECT_EQ(render("{{ 1.5 | regexReplaceAll \"a\" \"b\" }}", env),
            "EXEC: wrong type for value; expected string; got float64");
  EXPECT_EQ(render("{{ regexReplaceAll \"a\" \"b\" (loop 1) }}", env),
            "EXEC: wrong type for value; expected string; got []int");
  EXPECT_EQ(render("{{ split \",\" 7 }}", env), "EXEC: expected string; found 7");
  EXPECT_EQ(render("{{ env 1 }}", env), "EXEC: expected string; found 1");
  EXPECT_EQ(render("{{ replaceAll \"a\" }}", env), "EXEC: wrong number of args for replaceAll: want 3 got 1");
  EXPECT_EQ(render("{{ .S | replaceAll \"a\" \"A\" }}", env), "Abc");
}

TEST(ContainerPilotFuncs, JoinTakesTheListSplitGives) {
  Env env;
  EXPECT_EQ(render("{{ printf \"%T %T\" (split \",\" \"a\") (loop 3) }}", env), "[]string []int");
  EXPECT_EQ(render("{{ split \":\" \"a:b\" | join \"-\" }}", env), "a-b");
  EXPECT_EQ(render("{{ slice (split \":\" \"a:b:c\") 1 | join \"-\" }}", env), "b-c");
  EXPECT_EQ(render("{{ join \",\" nil }}.", env), ".");
  EXPECT_EQ(render("{{ join \",\" \"a\" }}", env), "EXEC: can't handle \"a\" for arg of type []string");
  EXPECT_EQ(render("{{ join \",\" (loop 2) }}", env), "EXEC: wrong type for value; expected []string; got []int");
}

TEST(ContainerPilotFuncs, ValuesFromJsonDataAreTypedAsGoDecodesThem) {
  auto t =
      tmpl::Template::parse("t", "{{ join \",\" .l }}|{{ replaceAll \"a\" \"b\" .nul }}", containerpilot_funcs({}));
  ASSERT_TRUE(t.ok());
  auto data = tmpl::Value::from_json(nlohmann::json::parse(R"({"l": ["a"], "nul": null})"));
  auto out = t->execute(data, tmpl::MissingKey::kZero);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "wrong type for value; expected []string; got []interface {}");
  t = tmpl::Template::parse("t", "{{ replaceAll \"a\" \"b\" .nul }}|{{ .nul | replaceAll \"a\" \"b\" }}",
                            containerpilot_funcs({}));
  ASSERT_TRUE(t.ok());
  out = t->execute(data, tmpl::MissingKey::kZero);
  EXPECT_EQ(out.error().message, "wrong type for value; expected string; got interface {}");
  t = tmpl::Template::parse("t", "{{ .nul | replaceAll \"a\" \"b\" }}", containerpilot_funcs({}));
  out = t->execute(data, tmpl::MissingKey::kZero);
  EXPECT_EQ(out.error().message, "invalid value; expected string");
}

TEST(ContainerPilotFuncs, LoopTakesGoIntsAndNumericStrings) {
  Env env{{"N", "3"}};
  EXPECT_EQ(render("{{ loop 3 }} {{ loop 2 5 }} {{ loop 5 1 }} {{ loop \"-2\" \"+1\" }}", env),
            "[0 1 2] [2 3 4] [5 4 3 2] [-2 -1 0]");
  EXPECT_EQ(render("{{ loop 1 .N }} {{ loop (len \"ab\") }}", env), "[1 2] [0 1]");
  EXPECT_EQ(render("{{ loop }}", env),
            "EXEC: error calling loop: loop: wrong number of arguments, expected 1 or 2, but got 0");
  EXPECT_EQ(render("{{ loop 1 2 3 }}", env),
            "EXEC: error calling loop: loop: wrong number of arguments, expected 1 or 2, but got 3");
  EXPECT_EQ(render("{{ loop 1.5 }}", env),
            "EXEC: error calling loop: interface conversion: interface {} is float64, not int");
  EXPECT_EQ(render("{{ loop nil }}", env),
            "EXEC: error calling loop: interface conversion: interface {} is nil, not int");
  EXPECT_EQ(render("{{ loop true }}", env),
            "EXEC: error calling loop: interface conversion: interface {} is bool, not int");
  EXPECT_EQ(render("{{ loop \"x\" }}", env), "EXEC: error calling loop: strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(render("{{ loop \"99999999999999999999\" }}", env),
            "EXEC: error calling loop: strconv.Atoi: parsing \"99999999999999999999\": value out of range");
}

TEST(ContainerPilotFuncs, TypeErrorsCarryTheTemplatePosition) {
  auto t =
      tmpl::Template::parse("conf.json5", "{\n  a: \"{{ 3 | replaceAll \"a\" \"A\" }}\"\n}", containerpilot_funcs({}));
  ASSERT_TRUE(t.ok());
  auto out = t->execute(tmpl::Value::map({}), tmpl::MissingKey::kZero);
  ASSERT_FALSE(out.ok());
  // Go: `template: conf.json5:2:28: executing ... at <"A">` (0-based column).
  EXPECT_EQ(out.error().format(),
            "conf.json5:2:29: wrong type for value; expected string; got int\n"
            "  a: \"{{ 3 | replaceAll \"a\" \"A\" }}\"\n"
            "                            ^");
}

TEST(ContainerPilotFuncs, StrictModeMakesMissingVariablesErrors) {
  Env env;
  EXPECT_EQ(render("{{ .NOPE }}", env, tmpl::MissingKey::kError).substr(0, 5), "EXEC:");
}

}  // namespace
}  // namespace autopilot::config
