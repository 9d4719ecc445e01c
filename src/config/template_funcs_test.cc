#include "config/template_funcs.h"

#include <gtest/gtest.h>

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

TEST(ContainerPilotFuncs, StrictModeMakesMissingVariablesErrors) {
  Env env;
  EXPECT_EQ(render("{{ .NOPE }}", env, tmpl::MissingKey::kError).substr(0, 5), "EXEC:");
}

}  // namespace
}  // namespace autopilot::config
