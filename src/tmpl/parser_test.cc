#include "tmpl/parser.h"

#include <gtest/gtest.h>

#include "tmpl/test_util.h"

namespace autopilot::tmpl {
namespace {

using testing::render;

std::string parse_error(std::string_view text) {
  auto t = Template::parse("t", text);
  return t ? "OK" : t.error().message;
}

TEST(Parser, ErrorsInGoWords) {
  EXPECT_EQ(parse_error("{{if .a}}"), "unexpected EOF");
  EXPECT_EQ(parse_error("{{end}}"), "unexpected {{end}}");
  EXPECT_EQ(parse_error("{{else}}"), "unexpected {{else}}");
  EXPECT_EQ(parse_error("{{foo}}"), "function \"foo\" not defined");
  EXPECT_EQ(parse_error("{{$x}}"), "undefined variable \"$x\"");
  EXPECT_EQ(parse_error("{{if}}{{end}}"), "missing value for if");
  EXPECT_EQ(parse_error("{{.a | 1}}"), "non executable command in pipeline stage 2");
  EXPECT_EQ(parse_error("{{.a b}}"), "function \"b\" not defined");
  EXPECT_EQ(parse_error("{{.a.}}"), "unexpected <.> in operand");
  EXPECT_EQ(parse_error("{{\"x\".y}}"), "unexpected . after term \"\\\"x\\\"\"");
  EXPECT_EQ(parse_error("{{range $a, $b, $c := .}}{{end}}"), "too many declarations in range");
  EXPECT_EQ(parse_error("{{with $a, $b := .}}{{end}}"), "too many declarations in with");
  EXPECT_EQ(parse_error("{{if 1}}{{else}}{{else}}{{end}}"), "expected end; found {{else}}");
  EXPECT_EQ(parse_error("{{ | }}"), "unexpected \"|\" in command");
  EXPECT_EQ(parse_error("{{break}}"), "{{break}} outside {{range}}");
  EXPECT_EQ(parse_error("{{range .}}{{else}}{{continue}}{{end}}"), "{{continue}} outside {{range}}");
  EXPECT_EQ(parse_error("{{define \"a\"}}{{define \"b\"}}{{end}}{{end}}"), "unexpected <define> in command");
  EXPECT_EQ(parse_error("{{define \"a\"}}A{{end}}{{define \"a\"}}B{{end}}"),
            "template: multiple definition of template \"a\"");
  EXPECT_EQ(parse_error("{{template .x}}"), "unexpected \".x\" in template clause");
  EXPECT_EQ(parse_error("{{with .a}}{{else if .b}}{{end}}"), "unexpected <if> in input");
  EXPECT_EQ(parse_error("{{(1}}"), "unclosed left paren");
  EXPECT_EQ(parse_error("{{ 08 }}"), "integer overflow: \"08\"");
  EXPECT_EQ(parse_error("{{ 99999999999999999999 }}"), "integer overflow: \"99999999999999999999\"");
  EXPECT_EQ(parse_error("{{ 0x1.8 }}"), "illegal number syntax: \"0x1.8\"");
  EXPECT_EQ(parse_error("{{ \"\\q\" }}"), "invalid syntax");
  EXPECT_EQ(parse_error("{{ 'ab' }}"), "malformed character constant: 'ab'");
}

TEST(Parser, ErrorPositionAndSourceLine) {
  auto t = Template::parse("conf.json5", "line one\n  {{ foo }}\n");
  ASSERT_FALSE(t.ok());
  ASSERT_TRUE(t.error().pos.has_value());
  EXPECT_EQ(t.error().pos->file, "conf.json5");
  EXPECT_EQ(t.error().pos->line, 2);
  EXPECT_EQ(t.error().pos->col, 6);
  EXPECT_EQ(t.error().source_line, "  {{ foo }}");
  EXPECT_EQ(t.error().format(), "conf.json5:2:6: function \"foo\" not defined\n  {{ foo }}\n     ^");
}

TEST(Parser, ElseWithIsAccepted) {
  // Go 1.23 syntax; Go 1.19 rejects it (the differential test skips it).
  EXPECT_EQ(render("{{with .}}a{{else with 1}}b{{else}}c{{end}}"), "b");
}

TEST(Parser, BreakAndContinueAreFunctionsWhenDefined) {
  FuncMap funcs;
  funcs.add("break", [](std::span<const Value>) -> Result<Value> { return Value("B"); });
  EXPECT_EQ(render("{{break}}", Value(), MissingKey::kDefault, funcs), "B");
}

TEST(Parser, NestingLimit) {
  std::string deep(2000, '(');
  deep = "{{" + deep + "1" + std::string(2000, ')') + "}}";
  EXPECT_EQ(parse_error(deep), "template nesting too deep (more than 1000 levels)");
}

TEST(Literals, Unquote) {
  EXPECT_EQ(unquote("\"a\\tb\\u00e9\\x41\\101\\\\\\\"\""),
            "a\tb\xC3\xA9"
            "AA\\\"");
  EXPECT_EQ(unquote("`raw\\n\r`"), "raw\\n");
  EXPECT_EQ(unquote("\"\\U0001F600\""), "\xF0\x9F\x98\x80");
  EXPECT_FALSE(unquote("\"\\'\"").has_value());
  EXPECT_FALSE(unquote("\"\\400\"").has_value());
  EXPECT_FALSE(unquote("\"\\ud800\"").has_value());
}

std::string number(std::string_view text) {
  auto v = number_constant(text, text[0] == '\'');
  if (!v) return "error: " + v.error().message;
  std::string kind = v->kind() == Value::Kind::kInt ? "int " : "float ";
  return kind + (v->kind() == Value::Kind::kInt ? std::to_string(v->as_int()) : std::to_string(v->as_float()));
}

TEST(Literals, Numbers) {
  EXPECT_EQ(number("42"), "int 42");
  EXPECT_EQ(number("-0x10"), "int -16");
  EXPECT_EQ(number("0o17"), "int 15");
  EXPECT_EQ(number("017"), "int 15");
  EXPECT_EQ(number("0b101"), "int 5");
  EXPECT_EQ(number("1_000"), "int 1000");
  EXPECT_EQ(number("'a'"), "int 97");
  EXPECT_EQ(number("'\\n'"), "int 10");
  EXPECT_EQ(number("1e3"), "float 1000.000000");
  EXPECT_EQ(number("1.0"), "float 1.000000");
  EXPECT_EQ(number("0x1p4"), "float 16.000000");
  EXPECT_EQ(number("-9223372036854775808"), "int -9223372036854775808");
  EXPECT_EQ(number("18446744073709551615"), "error: 18446744073709551615 overflows int");
  EXPECT_EQ(number("1__0"), "error: illegal number syntax: \"1__0\"");
  // Only an int that Go parses and fails to evaluate is out of range; the
  // parser keeps it for the evaluation to report.
  EXPECT_EQ(number_constant("18446744073709551615", false).error().kind, ErrorKind::kOutOfRange);
  EXPECT_EQ(number_constant("99999999999999999999", false).error().kind, ErrorKind::kOther);
  EXPECT_EQ(number_constant("1__0", false).error().kind, ErrorKind::kOther);
}

TEST(FieldUses, FindsTheDataFieldButNotStringsOrFieldsOfOtherValues) {
  auto at = [](std::string_view text) {
    std::string out;
    for (const auto& p : field_uses("f", text, "TempFile"))
      out += (out.empty() ? "" : " ") + p.file + ":" + std::to_string(p.line) + ":" + std::to_string(p.col);
    return out;
  };
  EXPECT_EQ(at("nginx -t -c {{.TempFile}}"), "f:1:15");
  EXPECT_EQ(at("a\n  [\"-c\", \"{{- .TempFile -}}\"]\n{{ if .TempFile }}x{{ end }}{{ .TempFile | printf \"%s\" }}"),
            "f:2:15 f:3:7 f:3:32");
  EXPECT_EQ(at("{{ \"{{.TempFile}}\" }} {{ `{{ .TempFile }}` }} {{/* .TempFile */}}"), "");
  EXPECT_EQ(at("{{ .X.TempFile }} {{ $v.TempFile }} {{ (.X).TempFile }} {{ .TempFiles }} {{ .Temp }}"), "");
  EXPECT_EQ(at("{{ .TempFile }} {{ \"unterminated }}"), "f:1:4") << "uses before a lexical error";
}

}  // namespace
}  // namespace autopilot::tmpl
