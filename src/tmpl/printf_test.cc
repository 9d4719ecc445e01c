#include <gtest/gtest.h>

#include "tmpl/go_format.h"
#include "tmpl/test_util.h"

namespace autopilot::tmpl {
namespace {

using testing::render;
using testing::render_json;

TEST(Print, SpacingRules) {
  EXPECT_EQ(render_json("{{print 1 2 \"a\" \"b\" 3 .f 4.5 true}}", R"({"f":1.5})"), "1 2ab3 1.5 4.5 true");
  EXPECT_EQ(render("{{println 1 2 \"a\"}}"), "1 2 a\n");
  EXPECT_EQ(render("{{print nil}}|{{print}}|{{println}}"), "<nil>||\n");
}

TEST(Print, Floats) {
  EXPECT_EQ(render_json("{{.a}} {{.b}} {{.c}} {{.d}} {{.e}} {{.f}} {{.g}}",
                        R"({"a":1e21,"b":1e20,"c":0.00001,"d":0.0001,"e":100000.0,"f":3.14,"g":-0.0})"),
            "1e+21 1e+20 1e-05 0.0001 100000 3.14 -0");
  EXPECT_EQ(render("{{1e6}} {{print 1e6 0.1 100}} {{printf \"%v\" 123456789.0}} {{1.0}} {{.5}}"),
            "1e+06 1e+06 0.1 100 1.23456789e+08 1 0.5");
}

TEST(Printf, Verbs) {
  EXPECT_EQ(render("{{printf \"%5.2f|%-10s|%*d|%+d|% d|%05d|%x|%X|%o|%b|%#x|%#o|%c|%q|%U|%#U\" "
                   "3.14159 \"ab\" 4 7 5 5 42 -42 255 8 5 255 8 97 97 65 65}}"),
            " 3.14|ab        |   7|+5| 5|00042|-2a|FF|10|101|0xff|010|a|'a'|U+0041|U+0041 'A'");
  EXPECT_EQ(render("{{printf \"%e|%E|%g|%G|%.3g|%8.3e\" 1234.5678 0.000012 100000.0 1e-7 1.0 12345.678}}"),
            "1.234568e+03|1.200000E-05|100000|1E-07|1|1.235e+04");
  EXPECT_EQ(render("{{printf \"%08.3f|%-8.3f|%+.2e|% .3g\" -3.14159 2.5 12345.0 2.0}}"),
            "-003.142|2.500   |+1.23e+04| 2");
  EXPECT_EQ(render("{{printf \"%e %.0e %#.0e %#g %#.3g %#f %#.0f\" 0.0 5.5 5.5 1.0 2.0 3.0 4.0}}"),
            "0.000000e+00 6e+00 6.e+00 1.00000 2.00 3.000000 4.");
  EXPECT_EQ(render("{{printf \"%x %X %x\" \"hello\" 3.5 -1}}|{{printf \"%b\" 1.0}}"),
            "68656c6c6f 0X1.CP+01 -1|4503599627370496p-52");
  EXPECT_EQ(render("{{printf \"%q %+q %#q %x % x %.2s %5.1s %t\" \"x\\u00e9\\x01\" \"\u00e9\" \"abc\" \"hi\" \"hi\" "
                   "\"h\u00e9llo\" \"xyz\" true}}"),
            "\"x\u00e9\\x01\" \"\\u00e9\" `abc` 6869 68 69 h\u00e9     x true");
  EXPECT_EQ(render("{{printf \"%6.2f%%\" 99.5}}|{{printf \"%#v\" 1}}|{{printf \"%[2]d %[1]d\" 1 2}}"), " 99.50%|1|2 1");
}

TEST(Printf, Composites) {
  EXPECT_EQ(render_json("{{printf \"%v %v %v\" .m .l .f}}|{{printf \"%+v|%6.2v|%05v\" .m .l .f}}",
                        R"({"m":{"b":1,"a":[1.5,"x"]},"l":[1,2],"f":2.5})"),
            "map[a:[1.5 x] b:1] [1 2] 2.5|map[a:[1.5 x] b:1]|[    01     02]|002.5");
  EXPECT_EQ(render_json("{{printf \"%#v|%#v\" .m .l}}", R"({"m":{"a":1,"b":"x"},"l":[1,"a",null,2.5]})"),
            "map[string]interface {}{\"a\":1, \"b\":\"x\"}|[]interface {}{1, \"a\", interface {}(nil), 2.5}");
  EXPECT_EQ(render_json("{{printf \"%d\" .l}}|{{printf \"%d\" .l2}}", R"({"l":["a"],"l2":[null,1]})"),
            "[%!d(string=a)]|[<nil> 1]");
}

TEST(Printf, Complaints) {
  EXPECT_EQ(render("{{printf \"%5d\" \"hi\"}}|{{printf \"%d %s\"}}|{{printf \"%d\" 1 2 \"x\" nil}}"),
            "%!d(string=   hi)|%!d(MISSING) %!s(MISSING)|1%!(EXTRA int=2, string=x, <nil>)");
  EXPECT_EQ(
      render_json("{{printf \"%s\" 5}}|{{printf \"%s\" .n}}|{{printf \"%s\" (index \"abc\" 1)}}|{{printf \"%d\" nil}}",
                  R"({"n":5})"),
      "%!s(int=5)|%!s(int64=5)|%!s(uint8=98)|%!d(<nil>)");
  EXPECT_EQ(
      render("{{printf \"%z\" 1}}|{{printf \"%\"}}|{{printf \"%!\"}}|{{printf \"%d\" 1.5}}|{{printf \"%s\" true}}"),
      "%!z(int=1)|%!(NOVERB)|%!!(MISSING)|%!d(float64=1.5)|%!s(bool=true)");
  EXPECT_EQ(render("{{printf \"%*d\" \"x\" 1}}|{{printf \"%[3]d\" 1}}"), "%!(BADWIDTH)1|%!d(BADINDEX)");
  EXPECT_EQ(
      render_json("{{printf \"%T %T %T %T %T %T %T\" 1 .n .f \"s\" .l .m nil}}", R"({"l":["a"],"n":5,"f":1.5,"m":{}})"),
      "int int64 float64 string []interface {} map[string]interface {} <nil>");
}

TEST(Printf, Quirks) {
  EXPECT_EQ(render("{{printf \"%07U|%-7U|%7U\" 2 2 2}}"), " U+0002|U+0002 | U+0002");
  EXPECT_EQ(render("{{printf \"%#X|% #X|%#x|%#.1X\" -2.5 1.0 -2.5 1.0}}"),
            "-0X1.4P+01| 0X1.P+00|-0x1.4000p+01|0X1.0P+00");
  EXPECT_EQ(render("{{printf \"%#.2v|%.1q\" \"a b\" \"xy\"}}"), "\"a \"|\"x\"");
  EXPECT_EQ(render("{{printf \"%+q|%q|%+2q\" 255 -1 -1}}"), "'\\u00ff'|'\uFFFD'|'\\ufffd'");
  EXPECT_EQ(render("{{printf \"%#U|%#U\" 0x1F 0x41}}"), "U+001F|U+0041 'A'");
  EXPECT_EQ(render("{{printf \"%5U\" -3}}"), "U+FFFFFFFFFFFFFFFD");
  EXPECT_EQ(render("{{printf \"%.0X\" 7.0}}"), "0X1P+03");
  // nil elements are never padded.
  EXPECT_EQ(render_json("{{printf \"%7d|%7.0s\" .l .l}}", R"({"l":[null,"ab"]})"),
            "[<nil> %!d(string=     ab)]|[<nil>        ]");
}

TEST(Printf, ComplexConstants) {
  EXPECT_EQ(render("{{1i}}|{{1+2i}}|{{-1.5-2e3i}}|{{0i}}|{{.4i}}|{{0x1p4i}}|{{1_0i}}"),
            "(0+1i)|(1+2i)|(-1.5-2000i)|(0+0i)|(0+0.4i)|(0+16i)|(0+10i)");
  EXPECT_EQ(render("{{printf \"%v|%.2f|%+v|%e|%d|%T\" 1i (1+2i) 2i 3i 4i 5i}}"),
            "(0+1i)|(1.00+2.00i)|(0+2i)|(0.000000e+00+3.000000e+00i)|%!d(complex128=(0+4i))|complex128");
  EXPECT_EQ(render("{{eq 1i 1i}} {{eq 1i 2i}} {{if 0i}}T{{else}}F{{end}}"), "true false F");
  EXPECT_EQ(render("{{lt 1i 2i}}"), "EXEC: error calling lt: invalid type for comparison");
  EXPECT_EQ(render("{{1-i}}"), "PARSE: syntax error scanning complex number");
  EXPECT_EQ(render("{{0x1i}}"), "PARSE: illegal number syntax: \"0x1i\"");
}

TEST(Printf, FormatMustBeString) {
  EXPECT_EQ(render("{{printf}}"), "EXEC: wrong number of args for printf: want at least 1 got 0");
  EXPECT_EQ(render("{{printf 1}}"), "EXEC: expected string; found 1");
  EXPECT_EQ(render_json("{{printf .a}}", R"({"a":1})"), "EXEC: wrong type for value; expected string; got int64");
}

TEST(GoFormat, FormatFloat) {
  EXPECT_EQ(gofmt::format_float(0.1, 'g', -1), "0.1");
  EXPECT_EQ(gofmt::format_float(1e21, 'g', -1), "1e+21");
  EXPECT_EQ(gofmt::format_float(123456, 'g', -1), "123456");
  EXPECT_EQ(gofmt::format_float(1234567, 'g', -1), "1.234567e+06");
  EXPECT_EQ(gofmt::format_float(2.5, 'f', 0), "2");
  EXPECT_EQ(gofmt::format_float(0.000012, 'e', 2), "1.20e-05");
  EXPECT_EQ(gofmt::format_float(100, 'g', 2), "1e+02");
  EXPECT_EQ(gofmt::format_float(-0.0, 'g', -1), "-0");
}

TEST(GoFormat, Quote) {
  std::string q;
  gofmt::append_quoted(q, "a\"\\\n\t\x01\xff\xC3\xA9\xE2\x80\xA8", false);
  EXPECT_EQ(q, "\"a\\\"\\\\\\n\\t\\x01\\xff\xC3\xA9\\u2028\"");
  q.clear();
  gofmt::append_quoted(q, "\xC3\xA9\xF0\x9F\x98\x80", true);
  EXPECT_EQ(q, "\"\\u00e9\\U0001f600\"");
}

}  // namespace
}  // namespace autopilot::tmpl
