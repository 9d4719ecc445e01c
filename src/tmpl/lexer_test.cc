#include "tmpl/lexer.h"

#include <gtest/gtest.h>

namespace autopilot::tmpl {
namespace {

// Tokens as "type:value" words, spaces shown as "_".
std::string tokens(std::string_view text) {
  std::string err, out;
  for (const Token& t : lex(text, true, true, err)) {
    if (!out.empty()) out += ' ';
    switch (t.type) {
      case Tok::kText:
        out += "text:" + std::string(t.val);
        break;
      case Tok::kLeftDelim:
        out += "{{";
        break;
      case Tok::kRightDelim:
        out += "}}";
        break;
      case Tok::kSpace:
        out += "_";
        break;
      case Tok::kEOF:
        out += "EOF";
        break;
      case Tok::kError:
        out += "error:" + std::string(t.val);
        break;
      default:
        out += token_string(t);
    }
  }
  return out;
}

TEST(Lexer, TextAndActions) {
  EXPECT_EQ(tokens("a{{.b}}c"), "text:a {{ \".b\" }} text:c EOF");
  EXPECT_EQ(tokens("{{ .a.b }}"), "{{ _ \".a\" \".b\" _ }} EOF");
  EXPECT_EQ(tokens("{{$x := 1}}"), "{{ \"$x\" _ \":=\" _ \"1\" }} EOF");
  EXPECT_EQ(tokens("{{$ = .}}"), "{{ \"$\" _ \"=\" _ <.> }} EOF");
  EXPECT_EQ(tokens("{{(1|f)}}"), "{{ \"(\" \"1\" \"|\" \"f\" \")\" }} EOF");
  EXPECT_EQ(tokens("{{nil true if}}"), "{{ <nil> _ \"true\" _ <if> }} EOF");
}

TEST(Lexer, TrimMarkers) {
  EXPECT_EQ(tokens("a \n {{- 1 -}} \n b"), "text:a {{ \"1\" }} text:b EOF");
  // Without the space "-" is part of a number.
  EXPECT_EQ(tokens("a {{-1}}"), "text:a  {{ \"-1\" }} EOF");
  EXPECT_EQ(tokens("{{ 1 -}}  x"), "{{ _ \"1\" }} text:x EOF");
}

TEST(Lexer, Comments) {
  EXPECT_EQ(tokens("a {{/* c */}} b"), "text:a  text: b EOF");
  EXPECT_EQ(tokens("a {{- /* c */ -}} b"), "text:a text:b EOF");
  EXPECT_EQ(tokens("{{/* c */ }}"), "error:comment ends before closing delimiter");
  EXPECT_EQ(tokens("{{/* c }}"), "error:unclosed comment");
}

TEST(Lexer, Literals) {
  EXPECT_EQ(tokens("{{\"a\\\"b\" `r` 'c' 1.5e3 0x1F -2 .5}}"),
            "{{ \"\"a\\\"b\"\" _ \"`r`\" _ \"'c'\" _ \"1.5e3\" _ \"0x1F\" _ \"-2\" _ \".5\" }} EOF");
  EXPECT_EQ(tokens("{{1_000}}"), "{{ \"1_000\" }} EOF");
}

TEST(Lexer, Errors) {
  EXPECT_EQ(tokens("{{3x}}"), "{{ error:bad number syntax: \"3x\"");
  EXPECT_EQ(tokens("{{\"abc}}"), "{{ error:unterminated quoted string");
  EXPECT_EQ(tokens("{{`abc}}"), "{{ error:unterminated raw quoted string");
  EXPECT_EQ(tokens("{{'a}}"), "{{ error:unterminated character constant");
  EXPECT_EQ(tokens("{{.a"), "{{ \".a\" error:unclosed action");
  EXPECT_EQ(tokens("{{(.a}}"), "{{ \"(\" \".a\" error:unclosed left paren");
  EXPECT_EQ(tokens("{{.a)}}"), "{{ \".a\" \")\" error:unexpected right paren U+0029 ')'");
  EXPECT_EQ(tokens("{{a#}}"), "{{ error:bad character U+0023 '#'");
  EXPECT_EQ(tokens("{{:}}"), "{{ error:expected :=");
}

TEST(Lexer, BreakIsIdentifierWhenDisabled) {
  std::string err;
  auto toks = lex("{{break}}", false, true, err);
  EXPECT_EQ(toks[1].type, Tok::kIdentifier);
}

}  // namespace
}  // namespace autopilot::tmpl
