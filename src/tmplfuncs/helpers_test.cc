#include <gtest/gtest.h>

#include "tmplfuncs/functions_test_util.h"

namespace autopilot::tmplfuncs {
namespace {

using Helpers = testing::FunctionsTest;

TEST_F(Helpers, ContainsAndIn) {
  EXPECT_EQ(render("{{ split \",\" \"a,b\" | contains \"b\" }} {{ split \",\" \"a,b\" | contains \"c\" }}"),
            "true false");
  EXPECT_EQ(render("{{ in (split \",\" \"a,b\") \"a\" }} {{ in (split \",\" \"a,b\") \"z\" }}"), "true false");
  EXPECT_EQ(render("{{ \"foobar\" | contains \"oba\" }} {{ in \"foobar\" \"x\" }}"), "true false");
  EXPECT_EQ(render("{{ in (parseJSON \"[1, 2]\") 2 }} {{ in (parseJSON \"[1.5]\") 1.5 }} {{ in (parseJSON \"[1]\") "
                   "\"1\" }}"),
            "true true false");
  EXPECT_EQ(render("{{ in 5 5 }} {{ contains \"a\" .missing }}"), "false false");
}

TEST_F(Helpers, ContainsAllAnyNoneNotAll) {
  const char* text =
      "{{ containsAll $n $l }} {{ containsAny $n $l }} {{ containsNone $n $l }} {{ containsNotAll $n $l }}";
  auto with = [&](const char* needles) {
    return render(std::string("{{ $l := split \",\" \"a,b,c\" }}{{ $n := split \",\" \"") + needles + "\" }}" + text);
  };
  EXPECT_EQ(with("a,b"), "true true false false");
  EXPECT_EQ(with("a,z"), "false true false true");
  EXPECT_EQ(with("y,z"), "false false true true");
  EXPECT_EQ(with(""), "true false true false");
  EXPECT_EQ(render("{{ containsAny \"a\" \"abc\" }}"),
            "EXEC: error calling containsAny: containsAny: wrong type for value; expected a list; got string");
}

TEST_F(Helpers, SplitJoinReplaceAll) {
  EXPECT_EQ(render("{{ \" a,b,c \\n\" | split \",\" | join \"-\" }}"), "a-b-c");
  EXPECT_EQ(render("{{ len (split \",\" \"  \") }}"), "0");
  EXPECT_EQ(render("{{ split \"\" \"h\xC3\xA9!\" | join \"|\" }}"), "h|\xC3\xA9|!");
  EXPECT_EQ(render("{{ \"a.b.c\" | replaceAll \".\" \"-\" }} {{ replaceAll \"\" \"-\" \"ab\" }}"), "a-b-c -a-b-");
  EXPECT_EQ(render("{{ join \",\" \"x\" }}"),
            "EXEC: error calling join: join: wrong type for value; expected a list; got string");
}

TEST_F(Helpers, RegexMatch) {
  EXPECT_EQ(render("{{ \"web-12\" | regexMatch `^web-[0-9]+$` }} {{ \"web\" | regexMatch `^api` }}"), "true false");
  EXPECT_EQ(render("{{ \"WEB\" | regexMatch `(?i)^web$` }} {{ \"a\\nb\" | regexMatch `(?s)a.b` }}"), "true true");
  EXPECT_EQ(render("{{ \"x1\" | regexMatch `[[:alpha:]][[:digit:]]` }} {{ \"ab\" | regexMatch `\\Aab\\z` }}"),
            "true true");
}

TEST_F(Helpers, RegexReplaceAllExpandsLikeGo) {
  EXPECT_EQ(render("{{ \"10.0.0.1:80\" | regexReplaceAll `^(\\d+)\\.(\\d+).*$` \"$2-$1\" }}"), "0-10");
  EXPECT_EQ(render("{{ \"abc\" | regexReplaceAll \"(b)\" \"[$1x]\" }}"), "a[]c");  // group "1x" does not exist
  EXPECT_EQ(render("{{ \"abc\" | regexReplaceAll \"(b)\" \"[${1}x]\" }}"), "a[bx]c");
  EXPECT_EQ(render("{{ \"abc\" | regexReplaceAll \"(b)\" \"[$$1]\" }}"), "a[$1]c");
  EXPECT_EQ(render("{{ \"abc\" | regexReplaceAll \"(?P<mid>b)\" \"<${mid}|$mid|$2>\" }}"), "a<b|b|>c");
  EXPECT_EQ(render("{{ \"abc\" | regexReplaceAll \"b\" \"$\" }} {{ \"abc\" | regexReplaceAll \"b\" \"${x\" }}"),
            "a$c a${xc");
  EXPECT_EQ(render("{{ \"baaac\" | regexReplaceAll \"a*\" \"-\" }} {{ \"abc\" | regexReplaceAll \"x*\" \"-\" }}"),
            "-b-c- -a-b-c-");
  EXPECT_EQ(render("{{ \"a.b\" | regexReplaceAll `\\Q.\\E` \"!\" }}"), "a!b");
  EXPECT_EQ(render("{{ \"y\" | regexReplaceAll \"(\" \"x\" }}"),
            "EXEC: error calling regexReplaceAll: regexReplaceAll: invalid regular expression \"(\": missing or "
            "unexpected parenthesis");
  EXPECT_EQ(render("{{ \"y\" | regexReplaceAll `\\pL` \"x\" }}"),
            "EXEC: error calling regexReplaceAll: regexReplaceAll: invalid regular expression \"\\pL\": Unicode "
            "classes (\\p) are not supported");
  EXPECT_EQ(render("{{ \"y\" | regexMatch `a(?i)b` }}"),
            "EXEC: error calling regexMatch: regexMatch: invalid regular expression \"a(?i)b\": only a leading (?i), "
            "(?m) or (?s) flag group is supported");
}

// std::regex's default executor recurses per character (a segfault on long
// text) and backtracks exponentially; the breadth-first one does neither.
TEST_F(Helpers, RegexSurvivesLongTextAndPathologicalPatterns) {
  EXPECT_EQ(render("{{ printf \"%16000s\" \"\" | regexMatch \"^( |b)*$\" }}"), "true");
  EXPECT_EQ(render("{{ printf \"%16000s\" \"\" | regexReplaceAll \"( )\" \"$1\" | len }}"), "16000");
  EXPECT_EQ(render("{{ \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\" | regexMatch \"^(a+)+$\" }}"), "false");
  EXPECT_EQ(render("{{ printf \"%16385s\" \"\" | regexMatch \"x\" }}"),
            "EXEC: error calling regexMatch: regexMatch: text too long for a regular expression (16385 bytes, at most "
            "16384)");
  EXPECT_EQ(render("{{ \"aa\" | regexMatch `(a)\\1` }}"),
            "EXEC: error calling regexMatch: regexMatch: invalid regular expression \"(a)\\1\": backreferences are "
            "not supported");
  // A documented difference from RE2: the longer alternative wins.
  EXPECT_EQ(render("{{ \"foobar\" | regexReplaceAll \"(foo|foobar)\" \"[$1]\" }}"), "[foobar]");
}

TEST_F(Helpers, CaseAndTrim) {
  EXPECT_EQ(render("{{ \"Hello World\" | toLower }} {{ \"Hello World\" | toUpper }}"), "hello world HELLO WORLD");
  EXPECT_EQ(render("{{ \"hello wide-world don't foo_bar x1y\" | toTitle }}"), "Hello Wide-World Don't Foo_bar X1y");
  EXPECT_EQ(render("[{{ \" \\t x y \\n\" | trimSpace }}][{{ \"\xC2\xA0x\xE3\x80\x80\" | trimSpace }}]"), "[x y][x]");
  EXPECT_EQ(render("[{{ \"xxhixyx\" | trim \"xy\" }}][{{ \"xx\" | trim \"x\" }}]"), "[hi][]");
  EXPECT_EQ(render("{{ \"web-1\" | trimPrefix \"web-\" }} {{ \"web-1\" | trimPrefix \"x\" }}"), "1 web-1");
  EXPECT_EQ(render("{{ \"a.conf\" | trimSuffix \".conf\" }} {{ \"a\" | trimSuffix \"abc\" }}"), "a a");
}

TEST_F(Helpers, Indent) {
  EXPECT_EQ(render("{{ \"a\\n\\nb\\n\" | indent 2 }}"), "  a\n\n  b\n");
  EXPECT_EQ(render("{{ \"a\" | indent 0 }}"), "a");
  EXPECT_EQ(render("{{ \"a\" | indent -1 }}"),
            "EXEC: error calling indent: indent: indent value must be a positive integer");
}

TEST_F(Helpers, Default) {
  EXPECT_EQ(render("{{ \"\" | default \"d\" }} {{ \"x\" | default \"d\" }} {{ 0 | default 5 }} {{ .nope | default "
                   "\"d\" }} {{ false | default true }}"),
            "d x 5 d true");
}

TEST_F(Helpers, ParseFunctions) {
  EXPECT_EQ(render("{{ parseBool \"true\" }} {{ parseBool \"T\" }} {{ parseBool \"0\" }} {{ parseBool \"\" }}"),
            "true true false false");
  EXPECT_EQ(render("{{ parseBool \"yes\" }}"),
            "EXEC: error calling parseBool: parseBool: strconv.ParseBool: parsing \"yes\": invalid syntax");
  EXPECT_EQ(render("{{ parseInt \"42\" }} {{ parseInt \"-7\" }} {{ parseInt \"+7\" }} {{ parseInt \"\" }} "
                   "{{ printf \"%T\" (parseInt \"1\") }}"),
            "42 -7 7 0 int64");
  EXPECT_EQ(render("{{ parseInt \"-9223372036854775808\" }}"), "-9223372036854775808");
  EXPECT_EQ(render("{{ parseInt \"x\" }}"),
            "EXEC: error calling parseInt: parseInt: strconv.ParseInt: parsing \"x\": invalid syntax");
  EXPECT_EQ(render("{{ parseInt \"9223372036854775808\" }}"),
            "EXEC: error calling parseInt: parseInt: strconv.ParseInt: parsing \"9223372036854775808\": value out of "
            "range");
  EXPECT_EQ(render("{{ parseUint \"42\" }}"), "42");
  EXPECT_EQ(render("{{ parseUint \"-1\" }}"),
            "EXEC: error calling parseUint: parseUint: strconv.ParseUint: parsing \"-1\": invalid syntax");
  EXPECT_EQ(render("{{ parseFloat \"1.5\" }} {{ parseFloat \"1e3\" }} {{ parseFloat \"-inf\" }} {{ parseFloat "
                   "\"0x1p-2\" }} {{ parseFloat \"1e-400\" }} {{ parseFloat \"\" }}"),
            "1.5 1000 -Inf 0.25 0 0");
  EXPECT_EQ(render("{{ parseFloat \"1e400\" }}"),
            "EXEC: error calling parseFloat: parseFloat: strconv.ParseFloat: parsing \"1e400\": value out of range");
  EXPECT_EQ(render("{{ parseFloat \"nan(1)\" }}"),
            "EXEC: error calling parseFloat: parseFloat: strconv.ParseFloat: parsing \"nan(1)\": invalid syntax");
}

TEST_F(Helpers, Loop) {
  EXPECT_EQ(render("{{ range loop 3 }}{{ . }}{{ end }}|{{ range loop 2 5 }}{{ . }}{{ end }}|"
                   "{{ range loop 5 2 }}{{ . }}{{ end }}|{{ range $i := loop \"3\" }}{{ $i }}{{ end }}"),
            "012|234||012");
  EXPECT_EQ(render("{{ loop 1.5 }}"), "EXEC: error calling loop: loop: bad argument type: float64");
  EXPECT_EQ(render("{{ loop 1 2 3 }}"),
            "EXEC: error calling loop: loop: wrong number of arguments, expected 1 or 2, but got 3");
  EXPECT_EQ(render("{{ loop 1000000 }}"), "EXEC: error calling loop: loop: too many iterations (at most 100000)");
}

TEST_F(Helpers, ArithmeticTakesThePipedValueLast) {
  EXPECT_EQ(render("{{ add 1 2 }} {{ add 1 2.5 }} {{ printf \"%T\" (add 1 2) }}"), "3 3.5 int64");
  EXPECT_EQ(render("{{ 5 | subtract 2 }} {{ subtract 2 5 }} {{ subtract 5 2 }}"), "3 3 -3");
  EXPECT_EQ(render("{{ 10 | divide 4 }} {{ divide 4 10.0 }} {{ divide 2 1 }}"), "2 2.5 0");
  EXPECT_EQ(render("{{ multiply 3 4 }} {{ 10 | modulo 3 }} {{ modulo 3 10 }} {{ modulo 2.5 7.0 }}"), "12 1 1 2");
  EXPECT_EQ(render("{{ minimum 3 7 }} {{ maximum 3 7.5 }} {{ printf \"%T\" (minimum 2.0 7) }}"), "3 7.5 float64");
  EXPECT_EQ(render("{{ add 9223372036854775807 1 }}"), "-9223372036854775808");
  EXPECT_EQ(render("{{ divide 0 5 }}"), "EXEC: error calling divide: divide: division by zero");
  EXPECT_EQ(render("{{ modulo 0 5 }}"), "EXEC: error calling modulo: modulo: division by zero");
  EXPECT_EQ(render("{{ add \"1\" 2 }}"), "EXEC: error calling add: add: unknown type for \"1\" (string)");
}

TEST_F(Helpers, JsonEscapesLikeGo) {
  const char* data = "{{ $v := parseJSON \"{\\\"b\\\":[1,2.5,\\\"<&>\\\"],\\\"a\\\":{},\\\"c\\\":[]}\" }}";
  EXPECT_EQ(render(std::string(data) + "{{ toJSON $v }}"), R"({"a":{},"b":[1,2.5,"\u003c\u0026\u003e"],"c":[]})");
  EXPECT_EQ(render(std::string(data) + "{{ toUnescapedJSON $v }}"), R"({"a":{},"b":[1,2.5,"<&>"],"c":[]})");
  EXPECT_EQ(render(std::string(data) + "{{ toJSONPretty $v }}"),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.5,\n    \"\\u003c\\u0026\\u003e\"\n  ],\n  \"c\": []\n}");
  EXPECT_EQ(render(std::string(data) + "{{ toUnescapedJSONPretty $v }}"),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.5,\n    \"<&>\"\n  ],\n  \"c\": []\n}");
  EXPECT_EQ(render("{{ toJSON \"q\\\"\\\\\\n\\t\\b\\f\\x01\\x7f\\xff\\u2028\" }}"), R"("q\"\\\n\t\b\f\u0001)"
                                                                                    "\x7f"
                                                                                    R"(\ufffd\u2028")");
  EXPECT_EQ(render("{{ toJSON 1e21 }} {{ toJSON 1e-7 }} {{ toJSON 0.000001 }} {{ toJSON 100.0 }} {{ toJSON -0.5 }}"),
            "1e+21 1e-7 0.000001 100 -0.5");
  EXPECT_EQ(render("{{ toJSON .nope }} {{ toJSON true }} {{ toJSON 7 }}"), "null true 7");
  EXPECT_EQ(render("{{ toJSON (parseFloat \"nan\") }}"),
            "EXEC: error calling toJSON: toJSON: json: unsupported value: NaN");
}

TEST_F(Helpers, ParseJson) {
  EXPECT_EQ(render("{{ (parseJSON \"{\\\"n\\\":1000000,\\\"f\\\":1.5}\").n }} {{ len (parseJSON \"\") }}"),
            "1000000 0");
  EXPECT_EQ(render("{{ with parseJSON \"[\\\"a\\\",\\\"b\\\"]\" }}{{ index . 1 }}{{ end }}"), "b");
  EXPECT_EQ(render("{{ parseJSON \"{x\" }}").rfind("EXEC: error calling parseJSON: parseJSON: parse error at", 0), 0u)
      << render("{{ parseJSON \"{x\" }}");
}

TEST_F(Helpers, ParseJsonRefusesDeepNestingInsteadOfOverflowingTheStack) {
  std::string deep = std::string(1001, '[') + std::string(1001, ']');
  EXPECT_EQ(render("{{ parseJSON .s }}", tmpl::Value::map({{"s", tmpl::Value(deep)}})),
            "EXEC: error calling parseJSON: parseJSON: nested too deeply (more than 1000 levels)");
  std::string ok = std::string(1000, '[') + std::string(1000, ']');
  EXPECT_EQ(render("{{ parseJSON .s | toJSON | len }}", tmpl::Value::map({{"s", tmpl::Value(ok)}})), "2000");
  std::string deep_looking = "[\"" + std::string(5000, '[') + "\"]";  // brackets inside a string do not count
  EXPECT_EQ(render("{{ index (parseJSON .s) 0 | len }}", tmpl::Value::map({{"s", tmpl::Value(deep_looking)}})), "5000");
}

TEST_F(Helpers, Base64AndSha256) {
  EXPECT_EQ(render("{{ base64Encode \"hello\" }} {{ base64Encode \"\" }} {{ base64Encode \"ab\" }}"), "aGVsbG8=  YWI=");
  EXPECT_EQ(render("{{ base64Decode \"aGVsbG8=\" }} {{ base64Decode \"YW\\nI=\" }} [{{ base64Decode \"\" }}]"),
            "hello ab []");
  EXPECT_EQ(render("{{ base64Decode \"aGVsbG8\" }}"),
            "EXEC: error calling base64Decode: base64Decode: illegal base64 data at input byte 4");
  EXPECT_EQ(render("{{ base64Decode \"a$==\" }}"),
            "EXEC: error calling base64Decode: base64Decode: illegal base64 data at input byte 1");
  EXPECT_EQ(render("{{ base64Decode \"YWI=YWI=\" }}"),
            "EXEC: error calling base64Decode: base64Decode: illegal base64 data at input byte 4");
  EXPECT_EQ(render("{{ sha256Hex \"\" }}"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(render("{{ sha256Hex \"abc\" }}"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(render("{{ sha256Hex \"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq\" }}"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_F(Helpers, Timestamp) {
  EXPECT_EQ(render("{{ timestamp }}"), "2009-11-10T23:04:05Z");
  EXPECT_EQ(render("{{ timestamp \"unix\" }}"), "1257894245");
  EXPECT_EQ(render("{{ timestamp \"2006-01-02\" }}"), "2009-11-10");
  EXPECT_EQ(render("{{ timestamp \"Mon Jan _2 15:04:05 MST 2006\" }}"), "Tue Nov 10 23:04:05 UTC 2009");
  EXPECT_EQ(render("{{ timestamp \"Monday, January 2, 2006 3:04:05.000 PM -07:00 Z0700\" }}"),
            "Tuesday, November 10, 2009 11:04:05.123 PM +00:00 Z");
  EXPECT_EQ(render("{{ timestamp \"05.999999999|05,000000|002 __2|06/1/2|_2006|Jana|pm|-0700\" }}"),
            "05.123456789|05,123456|314 314|09/11/10|_2009|Jana|pm|+0000");
  now -= std::chrono::hours(23) + std::chrono::nanoseconds(3456789);  // 00:04:05.120000000
  EXPECT_EQ(render("{{ timestamp \"3:04:05.999 PM|15:04:05.999|.000\" }}"), "12:04:05.12 AM|00:04:05.12|.120");
  now -= std::chrono::nanoseconds(120000000);
  EXPECT_EQ(render("{{ timestamp \"15:04:05.999\" }}"), "00:04:05");
  EXPECT_EQ(render("{{ timestamp \"a\" \"b\" }}"),
            "EXEC: error calling timestamp: timestamp: wrong number of arguments, expected 0 or 1, but got 2");
}

}  // namespace
}  // namespace autopilot::tmplfuncs
