#include <gtest/gtest.h>

#include "tmpl/test_util.h"

namespace autopilot::tmpl {
namespace {

using testing::render;
using testing::render_json;

TEST(Builtins, AndOrNot) {
  EXPECT_EQ(render("{{and 1 0 2}}|{{or 0 \"\" \"x\"}}|{{and 1 2}}|{{or 0 \"\"}}|{{not 0}}|{{and .missing 1}}"),
            "0|x|2||true|<no value>");
  // Short-circuit: the failing call is never made.
  EXPECT_EQ(render("{{or 1 (index nil 1)}}|{{and 0 (index nil 1)}}"), "1|0");
  EXPECT_EQ(render("{{and}}"), "EXEC: wrong number of args for and: want at least 1 got 0");
  EXPECT_EQ(render("{{not 1 2}}"), "EXEC: wrong number of args for not: want 1 got 2");
  EXPECT_EQ(render("{{1 | not}}|{{0 | and 1}}|{{0 | or 2}}"), "false|0|2");
}

TEST(Builtins, Len) {
  EXPECT_EQ(render_json("{{len .a}}|{{len .m}}|{{len \"h\u00e9llo\"}}", R"({"a":[1,2],"m":{"x":1}})"), "2|1|6");
  EXPECT_EQ(render("{{len 3}}"), "EXEC: error calling len: len of type int");
  EXPECT_EQ(render("{{len nil}}"), "EXEC: error calling len: reflect: call of reflect.Value.Type on zero Value");
}

TEST(Builtins, Index) {
  EXPECT_EQ(render_json("{{index . \"a\" 1 \"b\"}}|{{index .a 0}}|{{index \"abc\" 1}}", R"({"a":[0,{"b":"x"}]})"),
            "x|0|98");
  EXPECT_EQ(render_json("{{index . \"zz\"}}", "{}"), "<no value>");
  EXPECT_EQ(render_json("{{index .l 5}}", R"({"l":[1]})"), "EXEC: error calling index: index out of range: 5");
  EXPECT_EQ(render_json("{{index .l 1}}", R"({"l":[1]})"),
            "EXEC: error calling index: reflect: slice index out of range");
  EXPECT_EQ(render_json("{{index .l 1.0}}", R"({"l":[1]})"),
            "EXEC: error calling index: cannot index slice/array with type float64");
  EXPECT_EQ(render_json("{{index .m 1}}", R"({"m":{}})"),
            "EXEC: error calling index: value has type int; should be string");
  EXPECT_EQ(render("{{index nil 1}}"), "EXEC: error calling index: index of untyped nil");
  EXPECT_EQ(render("{{index 1 0}}"), "EXEC: error calling index: can't index item of type int");
  EXPECT_EQ(render("{{printf \"%T\" (index \"a\" 0)}}"), "uint8");
}

TEST(Builtins, Slice) {
  EXPECT_EQ(render_json("{{slice \"abc\" 1 2}}|{{slice .l 1}}|{{slice .l}}|{{slice .l 0 1 2}}", R"({"l":[1,2,3]})"),
            "b|[2 3]|[1 2 3]|[1]");
  EXPECT_EQ(render("{{slice \"abc\" 1 2 3}}"), "EXEC: error calling slice: cannot 3-index slice a string");
  EXPECT_EQ(render_json("{{slice .l 1 5}}", R"({"l":[1,2,3]})"), "EXEC: error calling slice: index out of range: 5");
  EXPECT_EQ(render_json("{{slice .l 2 1}}", R"({"l":[1,2,3]})"),
            "EXEC: error calling slice: invalid slice index: 2 > 1");
  EXPECT_EQ(render("{{slice 1}}"), "EXEC: error calling slice: can't slice item of type int");
  EXPECT_EQ(render("{{slice nil}}"), "EXEC: error calling slice: slice of untyped nil");
}

TEST(Builtins, SliceSharesGoCapacity) {
  // Go's JSON decoder appends, so a 3-element array has capacity 4, and a
  // slice of a slice sees its backing array.
  EXPECT_EQ(render_json("{{slice .l 1 4}}|{{slice (slice .l 0 1) 0 3}}|{{len (slice .l 0 4)}}", R"({"l":[1,2,3]})"),
            "[2 3 <nil>]|[1 2 3]|4");
  EXPECT_EQ(render_json("{{slice .l 0 5}}", R"({"l":[1,2,3]})"), "EXEC: error calling slice: index out of range: 5");
  EXPECT_EQ(render_json("{{slice (slice .l 0 1 2) 0 3}}", R"({"l":[1,2,3]})"),
            "EXEC: error calling slice: index out of range: 3");
  EXPECT_EQ(render("{{slice .l 0 2}}", Value::map({{"l", Value::list({Value(1), Value(2)})}})), "[1 2]");
}

TEST(Builtins, Comparisons) {
  EXPECT_EQ(render_json("{{eq .a .b}}{{eq .i 1}}{{eq .f 1.5}}{{eq .s \"x\" \"y\" \"z\"}}{{ne .i 2}}{{lt .s \"y\"}}"
                        "{{eq .n nil}}{{eq .missing 1}}{{eq .m .m2}}",
                        R"({"a":1,"b":1,"i":1,"f":1.5,"s":"z","n":null})"),
            "truetruetruetruetruefalsetruefalsetrue");
  EXPECT_EQ(render("{{le 1 1}}{{gt 2 1}}{{ge 1 2}}{{ne \"a\" \"a\"}}{{lt 1.5 2.5}}{{lt \"a\" \"b\"}}"),
            "truetruefalsefalsetruetrue");
  EXPECT_EQ(render("{{eq 1 1.0}}"), "EXEC: error calling eq: incompatible types for comparison");
  EXPECT_EQ(render("{{eq \"a\" 1}}"), "EXEC: error calling eq: incompatible types for comparison");
  EXPECT_EQ(render("{{lt true false}}"), "EXEC: error calling lt: invalid type for comparison");
  EXPECT_EQ(render("{{lt nil 1}}"), "EXEC: error calling lt: invalid type for comparison");
  EXPECT_EQ(render("{{eq 1}}"), "EXEC: error calling eq: missing argument for comparison");
  EXPECT_EQ(render_json("{{eq .a .b}}", R"({"a":[1],"b":[1]})"),
            "EXEC: error calling eq: non-comparable type [%!s(int64=1)]: []interface {}");
  EXPECT_EQ(render_json("{{eq .a 1}}", R"({"a":[1]})"), "EXEC: error calling eq: incompatible types for comparison");
  EXPECT_EQ(render("{{ne 1}}"), "EXEC: wrong number of args for ne: want 2 got 1");
  EXPECT_EQ(render("{{eq}}"), "EXEC: wrong number of args for eq: want at least 1 got 0");
  // int and int64 are both integers to Go's comparisons.
  EXPECT_EQ(render_json("{{eq .i 1}} {{lt .i 2}} {{eq (len .l) .i}}", R"({"i":1,"l":[0]})"), "true true true");
}

TEST(Builtins, Escapers) {
  EXPECT_EQ(render("{{html \"<a href='x'>&\\\"\"}}"), "&lt;a href=&#39;x&#39;&gt;&amp;&#34;");
  EXPECT_EQ(render("{{html nil}}|{{html .x}}|{{html 1 \"a\" 2}}"), "&lt;no value&gt;|&lt;no value&gt;|1a2");
  EXPECT_EQ(render("{{js \"a'b\\\"c\\\\d<>&=\\n\"}}"), "a\\'b\\\"c\\\\d\\u003C\\u003E\\u0026\\u003D\\u000A");
  EXPECT_EQ(render("{{js \"\\u2028\\u00ad\\u0001\u00e9\"}}"), "\\u2028\\u00AD\\u0001\u00e9");
  EXPECT_EQ(render("{{urlquery \"a b&c~-_.\"}}|{{urlquery \"\u00fc/\"}}"), "a+b%26c~-_.|%C3%BC%2F");
}

TEST(Builtins, Call) { EXPECT_EQ(render("{{call 1}}"), "EXEC: error calling call: non-function of type int"); }

}  // namespace
}  // namespace autopilot::tmpl
