#include "json5/json5.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace autopilot;
using nlohmann::ordered_json;

namespace {

// "line:col: message" of a failed parse, or "ok" when it succeeded.
std::string error_of(std::string_view text) {
  auto doc = json5::parse(text, "t.json5");
  if (doc) return "ok";
  const Error& e = doc.error();
  if (!e.pos) return "no position: " + e.message;
  return std::to_string(e.pos->line) + ":" + std::to_string(e.pos->col) + ": " + e.message;
}

// The parsed value dumped as JSON, or the error.
std::string dump_of(std::string_view text) {
  auto doc = json5::parse(text, "t.json5");
  if (!doc) return "error: " + error_of(text);
  return doc->value.dump();
}

std::string at(const SourcePos& p) { return std::to_string(p.line) + ":" + std::to_string(p.col); }

struct ValidCase {
  const char* name;
  std::string text;
  std::string json;  // expected value, dumped
};

std::ostream& operator<<(std::ostream& os, const ValidCase& c) { return os << c.name; }

class Valid : public ::testing::TestWithParam<ValidCase> {};

TEST_P(Valid, Parses) { EXPECT_EQ(dump_of(GetParam().text), GetParam().json) << GetParam().text; }

INSTANTIATE_TEST_SUITE_P(
    Json5, Valid,
    ::testing::Values(
        // Objects.
        ValidCase{"EmptyObject", "{}", "{}"},
        ValidCase{"DoubleQuotedKey", R"({"a": 1})", R"({"a":1})"},
        ValidCase{"SingleQuotedKey", "{'a': 1}", R"({"a":1})"},
        ValidCase{"UnquotedKey", "{a: 1}", R"({"a":1})"},
        ValidCase{"DollarUnderscoreDigitsKey", "{$_a1: 1, _: 2, $: 3}", R"({"$_a1":1,"_":2,"$":3})"},
        ValidCase{"ReservedWordKeys", "{null: 1, true: 2, if: 3, NaN: 4}", R"({"null":1,"true":2,"if":3,"NaN":4})"},
        ValidCase{"UnicodeLetterKey", "{caf\u00e9: 1, \u00fcber_\u4e2d\u6587: 2}",
                  "{\"caf\u00e9\":1,\"\u00fcber_\u4e2d\u6587\":2}"},
        ValidCase{"EscapedIdentifierKey", R"({\u0061b\u0063: 1})", R"({"abc":1})"},
        ValidCase{"CombiningMarkContinuesKey", "{e\u0301: 1}", "{\"e\u0301\":1}"},
        ValidCase{"ZeroWidthJoinerContinuesKey", "{a\u200db: 1}", "{\"a\u200db\":1}"},
        ValidCase{"ObjectTrailingComma", "{a: 1, b: 2,}", R"({"a":1,"b":2})"},
        ValidCase{"ObjectKeepsFileOrder", "{b: 1, a: 2, c: 3}", R"({"b":1,"a":2,"c":3})"},
        ValidCase{"SameKeyInSiblingObjects", "[{a: 1}, {a: 2}]", R"([{"a":1},{"a":2}])"},
        ValidCase{"QuotedKeyWithSpaces", "{'a b': 1}", R"({"a b":1})"},
        ValidCase{"EmptyKey", "{'': 1}", R"({"":1})"},
        // Arrays.
        ValidCase{"EmptyArray", "[]", "[]"},
        ValidCase{"Array", "[1, 'two', null]", R"([1,"two",null])"},
        ValidCase{"ArrayTrailingComma", "[1, 2,]", "[1,2]"},
        ValidCase{"Nested", "{a: [{b: [[], {}]}]}", R"({"a":[{"b":[[],{}]}]})"},
        // Literals and roots.
        ValidCase{"Literals", "[true, false, null]", "[true,false,null]"},
        ValidCase{"RootString", "'x'", R"("x")"},
        ValidCase{"RootNumber", "42", "42"},
        ValidCase{"RootNull", "null", "null"},
        // Strings.
        ValidCase{"DoubleQuotedString", R"("abc")", R"("abc")"},
        ValidCase{"SingleQuotedString", "'abc'", R"("abc")"},
        ValidCase{"DoubleQuoteInsideSingle", R"('a"b')", R"("a\"b")"},
        ValidCase{"SingleQuoteInsideDouble", R"("a'b")", R"("a'b")"},
        ValidCase{"EscapedQuotes", R"(['\'', "\""])", R"(["'","\""])"},
        ValidCase{"SingleCharEscapes", R"("\b\f\n\r\t\v\\\/")", R"("\b\f\n\r\t\u000b\\/")"},
        ValidCase{"NulEscape", R"("a\0b")", R"("a\u0000b")"},
        ValidCase{"HexEscape", R"("\x41\x7e")", R"("A~")"},
        ValidCase{"HexEscapeAboveAsciiIsUtf8", R"("\xe9")", "\"\u00e9\""},
        ValidCase{"UnicodeEscape", R"("\u0041\u00e9\u4E2D")", "\"A\u00e9\u4e2d\""},
        ValidCase{"SurrogatePairEscape", R"("\uD83D\uDE00")", "\"\U0001F600\""},
        ValidCase{"NonEscapeCharacterStandsForItself", R"("\a\c\q\ \u00e9\)" "\u00e9\"", "\"acq \u00e9\u00e9\""},
        ValidCase{"LineContinuationLf", "'a\\\nb'", R"("ab")"},
        ValidCase{"LineContinuationCrLf", "'a\\\r\nb'", R"("ab")"},
        ValidCase{"LineContinuationCr", "'a\\\rb'", R"("ab")"},
        ValidCase{"LineContinuationLineSeparator", "'a\\\u2028b'", R"("ab")"},
        ValidCase{"LineContinuationParagraphSeparator", "'a\\\u2029b'", R"("ab")"},
        ValidCase{"RawLineAndParagraphSeparatorsInString", "'a\u2028b\u2029c'", "\"a\u2028b\u2029c\""},
        ValidCase{"RawTabInString", "'a\tb'", R"("a\tb")"},
        ValidCase{"Utf8PassesThrough", "'h\u00e9llo \U0001F600'", "\"h\u00e9llo \U0001F600\""},
        ValidCase{"CommentMarkersInString", "'// not /* a comment'", R"("// not /* a comment")"},
        // Numbers.
        ValidCase{"Integers", "[0, 7, -7, +7, 123456789]", "[0,7,-7,7,123456789]"},
        ValidCase{"Fractions", "[1.5, -0.25, 0.0]", "[1.5,-0.25,0.0]"},
        ValidCase{"LeadingDecimalPoint", "[.5, -.5, +.5]", "[0.5,-0.5,0.5]"},
        ValidCase{"TrailingDecimalPoint", "[5., -5., 0.]", "[5.0,-5.0,0.0]"},
        ValidCase{"Exponents", "[1e3, 1E3, 1e+2, 25e-1, .5e1, 5.e1, 0e9]",
                  "[1000.0,1000.0,100.0,2.5,5.0,50.0,0.0]"},
        ValidCase{"Hexadecimal", "[0x1F, 0XaB, 0xff, -0x10, +0x10, 0x0]", "[31,171,255,-16,16,0]"},
        ValidCase{"Int64Limits", "[9223372036854775807, -9223372036854775808]",
                  "[9223372036854775807,-9223372036854775808]"},
        ValidCase{"Uint64", "[9223372036854775808, 18446744073709551615, 0xFFFFFFFFFFFFFFFF]",
                  "[9223372036854775808,18446744073709551615,18446744073709551615]"},
        ValidCase{"HexInt64Min", "-0x8000000000000000", "-9223372036854775808"},
        ValidCase{"IntegersTooLargeBecomeDoubles",
                  "[18446744073709551616, -9223372036854775809, 0x10000000000000000, -0x8000000000000001]",
                  "[1.8446744073709552e+19,-9.223372036854776e+18,1.8446744073709552e+19,-9.223372036854776e+18]"},
        ValidCase{"TinyNumbersUnderflowToZero", "[1e-400, -1e-400, 0.0000000001e-330]", "[0.0,-0.0,0.0]"},
        ValidCase{"SubnormalKept", "5e-324", "5e-324"},
        // Whitespace and comments.
        ValidCase{"AllAsciiWhitespace", "\t\n\v\f\r [1] \r\n", "[1]"},
        ValidCase{"UnicodeWhitespace",
                  "\u00a0\u2028\u2029\ufeff\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
                  "\u200a\u202f\u205f\u3000[1]",
                  "[1]"},
        ValidCase{"ByteOrderMark", "\ufeff{a: 1}", R"({"a":1})"},
        ValidCase{"LineComment", "// comment\n{a: 1} // after", R"({"a":1})"},
        ValidCase{"LineCommentEndsAtCr", "[1, // c\r2]", "[1,2]"},
        ValidCase{"LineCommentEndsAtLineSeparator", "[1, // c\u20282]", "[1,2]"},
        ValidCase{"LineCommentAtEndOfInput", "1 //", "1"},
        ValidCase{"BlockComment", "/* a */ [1, /* b\n c */ 2 /**/] /* end */", "[1,2]"},
        ValidCase{"BlockCommentWithStars", "/*** a * / ** ***/ 1", "1"},
        ValidCase{"CommentsEverywhere", "{/*a*/a/*b*/:/*c*/1/*d*/,/*e*/}", R"({"a":1})"},
        ValidCase{"NoSpaceNeeded", "{a:1,b:[2,3],c:'x'}", R"({"a":1,"b":[2,3],"c":"x"})"}),
    [](const auto& info) { return std::string(info.param.name); });

struct InvalidCase {
  const char* name;
  std::string text;
  std::string error;  // "line:col: message"
};

std::ostream& operator<<(std::ostream& os, const InvalidCase& c) { return os << c.name; }

class Invalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(Invalid, Fails) { EXPECT_EQ(error_of(GetParam().text), GetParam().error) << GetParam().text; }

INSTANTIATE_TEST_SUITE_P(
    Json5, Invalid,
    ::testing::Values(
        // Structure.
        InvalidCase{"Empty", "", "1:1: unexpected end of input (expected a value)"},
        InvalidCase{"OnlyWhitespaceAndComments", "  // c\n /* */ ", "2:8: unexpected end of input (expected a value)"},
        InvalidCase{"UnclosedObject", "{", "1:2: unexpected end of input (unclosed object opened at 1:1)"},
        InvalidCase{"UnclosedObjectAfterKey", "{a", "1:3: unexpected end of input (unclosed object opened at 1:1)"},
        InvalidCase{"UnclosedArray", "[1,", "1:4: unexpected end of input (unclosed array opened at 1:1)"},
        InvalidCase{"UnclosedInnermostReported", "{\n  a: [1, {b: 2}",
                    "2:16: unexpected end of input (unclosed array opened at 2:6)"},
        InvalidCase{"TwoTrailingCommasInArray", "[1,,]", "1:4: invalid character ',' (expected a value)"},
        InvalidCase{"CommaOnlyArray", "[,]", "1:2: invalid character ',' (expected a value)"},
        InvalidCase{"TwoTrailingCommasInObject", "{a:1,,}", "1:6: invalid character ',' (expected a key or '}')"},
        InvalidCase{"CommaOnlyObject", "{,}", "1:2: invalid character ',' (expected a key or '}')"},
        InvalidCase{"MissingColon", "{foo 1}", "1:6: expected ':' after key \"foo\", found '1'"},
        InvalidCase{"MissingCommaInObject", "{a: 1 b: 2}", "1:7: expected ',' or '}' after value, found 'b'"},
        InvalidCase{"MissingCommaInArray", "[1 2]", "1:4: expected ',' or ']' after value, found '2'"},
        InvalidCase{"WrongCloser", "[1}", "1:3: expected ',' or ']' after value, found '}'"},
        InvalidCase{"DuplicateKey", "{a: 1,\n a: 2}", "2:2: duplicate key \"a\" (first at 1:2)"},
        InvalidCase{"DuplicateKeyDifferentQuoting", "{a: 1, 'a': 2}", "1:8: duplicate key \"a\" (first at 1:2)"},
        InvalidCase{"DuplicateKeyViaEscape", "{ab: 1, \\u0061b: 2}", "1:9: duplicate key \"ab\" (first at 1:2)"},
        InvalidCase{"SecondRootValue", "1 2", "1:3: unexpected '2' after the value (a document holds exactly one value)"},
        InvalidCase{"ExtraCloser", "[1]]", "1:4: unexpected ']' after the value (a document holds exactly one value)"},
        InvalidCase{"CloserAsValue", "}", "1:1: invalid character '}' (expected a value)"},
        InvalidCase{"NumberKey", "{1: 2}", "1:2: invalid character '1' (expected a key or '}')"},
        InvalidCase{"DashInKey", "{a-b: 2}", "1:3: expected ':' after key \"a\", found '-'"},
        InvalidCase{"ControlCharacter", "[\x01]", "1:2: invalid character U+0001 (expected a value)"},
        InvalidCase{"LoneSlash", "/ 1", "1:1: invalid character '/' (expected a value)"},
        InvalidCase{"UnquotedString", "{a: yes}", "1:5: unexpected identifier 'yes' (expected a value; strings need quotes)"},
        InvalidCase{"LiteralsAreCaseSensitive", "True", "1:1: unexpected identifier 'True' (expected a value; strings need quotes)"},
        InvalidCase{"LiteralWithEscapeIsNotALiteral", "\\u0074rue",
                    "1:1: unexpected identifier 'true' (expected a value; strings need quotes)"},
        InvalidCase{"UndefinedIsNotAValue", "[undefined]",
                    "1:2: unexpected identifier 'undefined' (expected a value; strings need quotes)"},
        // Comments.
        InvalidCase{"UnterminatedBlockComment", "[1] /* never\n closed", "1:5: unterminated block comment"},
        InvalidCase{"HalfClosedBlockComment", "/* a *", "1:1: unterminated block comment"},
        // Strings.
        InvalidCase{"UnterminatedString", "{a: 'abc", "1:5: unterminated string"},
        InvalidCase{"MismatchedQuotes", "\"abc'", "1:1: unterminated string"},
        InvalidCase{"NewlineInString", "['ab\ncd']", "1:2: unterminated string (a line break inside a string must be escaped)"},
        InvalidCase{"CarriageReturnInString", "'ab\rcd'", "1:1: unterminated string (a line break inside a string must be escaped)"},
        InvalidCase{"BackslashAtEnd", "'ab\\", "1:1: unterminated string"},
        InvalidCase{"OctalEscape", R"("a\1")", "1:3: invalid escape '\\1'"},
        InvalidCase{"NineEscape", R"("\9")", "1:2: invalid escape '\\9'"},
        InvalidCase{"NulEscapeBeforeDigit", R"("\01")", "1:2: invalid escape '\\0' before a digit (octal escapes are not allowed)"},
        InvalidCase{"ShortHexEscape", R"("\x4")", "1:2: invalid escape '\\x' (expected two hex digits)"},
        InvalidCase{"BadHexEscape", R"("\xZZ")", "1:2: invalid escape '\\x' (expected two hex digits)"},
        InvalidCase{"ShortUnicodeEscape", R"("\u12")", "1:2: invalid escape '\\u' (expected four hex digits)"},
        InvalidCase{"LoneHighSurrogate", R"("\uD800")", "1:2: invalid escape: unpaired surrogate in '\\u'"},
        InvalidCase{"LoneLowSurrogate", R"("x\uDC00")", "1:3: invalid escape: unpaired surrogate in '\\u'"},
        InvalidCase{"HighSurrogateThenNonSurrogate", R"("\uD800\u0041")", "1:2: invalid escape: unpaired surrogate in '\\u'"},
        InvalidCase{"HighSurrogateThenBadEscape", R"("\uD800\u00")", "1:8: invalid escape '\\u' (expected four hex digits)"},
        // Identifiers.
        InvalidCase{"NonUnicodeEscapeInKey", R"({\x61: 1})", "1:2: invalid escape in identifier (only \\uXXXX is allowed)"},
        InvalidCase{"EscapedDigitStartsKey", R"({\u0031: 1})", "1:2: invalid escape in identifier ('1' cannot appear in a name)"},
        InvalidCase{"EscapedDashInKey", R"({a\u002d: 1})", "1:3: invalid escape in identifier ('-' cannot appear in a name)"},
        InvalidCase{"SymbolKey", "{\u2192: 1}", "1:2: invalid character '\u2192' (expected a key or '}')"},
        InvalidCase{"CombiningMarkCannotStartKey", "{\u0301a: 1}", "1:2: invalid character '\u0301' (expected a key or '}')"},
        // Numbers.
        InvalidCase{"LeadingZero", "01", "1:1: leading zeros are not allowed"},
        InvalidCase{"NegativeLeadingZero", "[-00.5]", "1:2: leading zeros are not allowed"},
        InvalidCase{"HexWithoutDigits", "0x", "1:1: invalid hexadecimal number (expected hex digits after '0x')"},
        InvalidCase{"HexBadDigit", "[0xG]", "1:2: invalid hexadecimal number (expected hex digits after '0x')"},
        InvalidCase{"HexFraction", "0x1.5", "1:4: invalid hexadecimal number (unexpected '.')"},
        InvalidCase{"HexTrailingLetter", "0x1fg", "1:5: invalid hexadecimal number (unexpected 'g')"},
        InvalidCase{"LoneDecimalPoint", "[.]", "1:2: invalid number (expected digits around '.')"},
        InvalidCase{"SignedDecimalPoint", "-.", "1:1: invalid number (expected digits around '.')"},
        InvalidCase{"DoubleDecimalPoint", "1.2.3", "1:4: unexpected '.' after the value (a document holds exactly one value)"},
        InvalidCase{"EmptyExponent", "1e", "1:3: unexpected end of input (expected digits in the exponent)"},
        InvalidCase{"SignedEmptyExponent", "[1e+]", "1:5: invalid character ']' (expected digits in the exponent)"},
        InvalidCase{"LetterAfterNumber", "[12ab]", "1:4: invalid number (unexpected 'a')"},
        InvalidCase{"LoneSign", "+", "1:2: unexpected end of input (expected a number after the sign)"},
        InvalidCase{"DoubleSign", "--1", "1:2: invalid character '-' (expected a number after the sign)"},
        InvalidCase{"SignBeforeWord", "-Infinit", "1:1: invalid number '-Infinit' (expected Infinity or NaN after the sign)"},
        InvalidCase{"LowercaseInfinity", "infinity", "1:1: unexpected identifier 'infinity' (expected a value; strings need quotes)"},
        // Encoding.
        InvalidCase{"InvalidUtf8Byte", "'a\xff'", "1:3: invalid UTF-8 (byte 0xFF)"},
        InvalidCase{"OverlongUtf8", "['\xc0\xaf']", "1:3: invalid UTF-8 (byte 0xC0)"},
        InvalidCase{"EncodedSurrogate", "\n'\xed\xa0\x80'", "2:2: invalid UTF-8 (byte 0xED)"},
        InvalidCase{"TruncatedUtf8", "'\u00e9\xe2\x82", "1:3: invalid UTF-8 (byte 0xE2)"},
        InvalidCase{"AboveUnicodeRange", "'\xf4\x90\x80\x80'", "1:2: invalid UTF-8 (byte 0xF4)"},
        InvalidCase{"StrayContinuationByte", "1 \x80", "1:3: invalid UTF-8 (byte 0x80)"},
        // Positions: lines end at \n, \r\n, \r, U+2028, U+2029; columns count code points.
        InvalidCase{"LineFeedLines", "{\n  a: 1,\n  b: ?\n}", "3:6: invalid character '?' (expected a value)"},
        InvalidCase{"CrLfLines", "{\r\n  a: 1,\r\n  b: ?\r\n}", "3:6: invalid character '?' (expected a value)"},
        InvalidCase{"CrLines", "{\r  a: 1,\r  b: ?\r}", "3:6: invalid character '?' (expected a value)"},
        InvalidCase{"SeparatorLines", "{\u2028a: 1,\u2029b: ?}", "3:4: invalid character '?' (expected a value)"},
        InvalidCase{"ColumnsCountCodePoints", "{'\u00e9\U0001F600': ?}", "1:8: invalid character '?' (expected a value)"},
        InvalidCase{"TabIsOneColumn", "\t[\t?]", "1:4: invalid character '?' (expected a value)"},
        InvalidCase{"LineContinuationCountsAsLine", "['a\\\nb', ?]", "2:5: invalid character '?' (expected a value)"},
        InvalidCase{"BlockCommentLinesCount", "/*\r\n\r\n*/ ?", "3:4: invalid character '?' (expected a value)"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Json5, NumberTypes) {
  auto doc = json5::parse("[1, -1, 18446744073709551615, 1.0, 0x7fffffffffffffff, 0x8000000000000000, 1e2]", "t");
  ASSERT_TRUE(doc) << doc.error().format();
  const auto& v = doc->value;
  EXPECT_TRUE(v[0].is_number_integer() && !v[0].is_number_unsigned());
  EXPECT_EQ(v[1].get<int64_t>(), -1);
  EXPECT_TRUE(v[2].is_number_unsigned());
  EXPECT_TRUE(v[3].is_number_float());
  EXPECT_EQ(v[4].get<int64_t>(), INT64_MAX);
  EXPECT_TRUE(v[5].is_number_unsigned());
  EXPECT_EQ(v[5].get<uint64_t>(), uint64_t{1} << 63);
  EXPECT_TRUE(v[6].is_number_float());
}

TEST(Json5, InfinityAndNaN) {
  auto doc = json5::parse("[Infinity, -Infinity, +Infinity, NaN, -NaN, +NaN, 1e400, -1e400]", "t");
  ASSERT_TRUE(doc) << doc.error().format();
  const auto& v = doc->value;
  double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(v[0].get<double>(), inf);
  EXPECT_EQ(v[1].get<double>(), -inf);
  EXPECT_EQ(v[2].get<double>(), inf);
  EXPECT_TRUE(std::isnan(v[3].get<double>()));
  EXPECT_TRUE(std::isnan(v[4].get<double>()));
  EXPECT_TRUE(std::isnan(v[5].get<double>()));
  EXPECT_EQ(v[6].get<double>(), inf);
  EXPECT_EQ(v[7].get<double>(), -inf);
}

TEST(Json5, NulInsideString) {
  auto doc = json5::parse(R"('a\0b\x00c')", "t");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->value.get<std::string>(), std::string("a\0b\0c", 5));
}

TEST(Json5, NestingLimit) {
  std::string ok = std::string(json5::kMaxDepth, '[') + std::string(json5::kMaxDepth, ']');
  EXPECT_EQ(error_of(ok), "ok");
  std::string deep = std::string(json5::kMaxDepth + 1, '[') + std::string(json5::kMaxDepth + 1, ']');
  EXPECT_EQ(error_of(deep), "1:513: nesting too deep (more than 512 levels)");
  // Far deeper than any stack would allow when recursion is unbounded.
  EXPECT_EQ(error_of(std::string(1'000'000, '[')), "1:513: nesting too deep (more than 512 levels)");
  std::string mixed;
  for (int i = 0; i < 250'000; ++i) mixed += "{a:[";
  EXPECT_EQ(error_of(mixed), "1:1025: nesting too deep (more than 512 levels)");
}

TEST(Json5, ErrorFormatShowsLineAndCaret) {
  auto doc = json5::parse("{\n  jobs: [\n    {name: 'a' exec: 'b'},\n  ],\n}", "app.json5");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().format(),
            "app.json5:3:16: expected ',' or '}' after value, found 'e'\n"
            "    {name: 'a' exec: 'b'},\n"
            "               ^");
}

TEST(Json5, ErrorSourceLineUsesJson5LineBreaks) {
  auto doc = json5::parse("{a: 1,\rb: 2,\u2028c: ?}", "x.json5");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().format(), "x.json5:3:4: invalid character '?' (expected a value)\nc: ?}\n   ^");
}

TEST(Json5, ErrorAtEndOfInputShowsLastLine) {
  auto doc = json5::parse("{\n  a: [1,\n", "x.json5");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().format(), "x.json5:3:1: unexpected end of input (unclosed array opened at 2:6)");
}

TEST(Json5, ValueAndKeyPositions) {
  const char* text =
      "// config\n"
      "{\n"
      "  jobs: [\n"
      "    { name: 'web', port: 80 },\n"
      "    {\"na/me\": 'x', 'a~b': [true]},\n"
      "  ],\n"
      "}";
  auto doc = json5::parse(text, "c.json5");
  ASSERT_TRUE(doc) << doc.error().format();
  EXPECT_EQ(at(doc->value_pos.at("")), "2:1");
  EXPECT_EQ(doc->value_pos.at("").file, "c.json5");
  EXPECT_EQ(at(doc->key_pos.at("/jobs")), "3:3");
  EXPECT_EQ(at(doc->value_pos.at("/jobs")), "3:9");
  EXPECT_EQ(at(doc->value_pos.at("/jobs/0")), "4:5");
  EXPECT_EQ(at(doc->key_pos.at("/jobs/0/name")), "4:7");
  EXPECT_EQ(at(doc->value_pos.at("/jobs/0/name")), "4:13");
  EXPECT_EQ(at(doc->key_pos.at("/jobs/0/port")), "4:20");
  EXPECT_EQ(at(doc->value_pos.at("/jobs/0/port")), "4:26");
  EXPECT_EQ(at(doc->key_pos.at("/jobs/1/na~1me")), "5:6");
  EXPECT_EQ(at(doc->value_pos.at("/jobs/1/na~1me")), "5:15");
  EXPECT_EQ(at(doc->key_pos.at("/jobs/1/a~0b")), "5:20");
  EXPECT_EQ(at(doc->value_pos.at("/jobs/1/a~0b/0")), "5:28");
  EXPECT_EQ(doc->key_pos.count("/jobs/0"), 0u);  // array elements have no key
  EXPECT_EQ(doc->key_pos.count(""), 0u);
}

TEST(Json5, PositionsCountCodePointsAndJson5LineBreaks) {
  auto doc = json5::parse("{\u00e9\u00e9: 1,\r\n\u4e2d: [2],\u2028x: 3}", "u.json5");
  ASSERT_TRUE(doc) << doc.error().format();
  EXPECT_EQ(at(doc->value_pos.at("/\u00e9\u00e9")), "1:6");
  EXPECT_EQ(at(doc->key_pos.at("/\u4e2d")), "2:1");
  EXPECT_EQ(at(doc->value_pos.at("/\u4e2d/0")), "2:5");
  EXPECT_EQ(at(doc->key_pos.at("/x")), "3:1");
}

TEST(Json5, PosOfFallsBackToNearestAncestor) {
  auto doc = json5::parse("{\n  a: {\n    b: 1,\n  },\n}", "p.json5");
  ASSERT_TRUE(doc) << doc.error().format();
  EXPECT_EQ(at(doc->pos_of("/a/b")), "3:8");
  EXPECT_EQ(at(doc->pos_of("/a/missing")), "2:6");
  EXPECT_EQ(at(doc->pos_of("/a/missing/deeper")), "2:6");
  EXPECT_EQ(at(doc->pos_of("/nope")), "1:1");
  EXPECT_EQ(doc->pos_of("/nope").file, "p.json5");
  json5::Document empty;
  empty.file = "e.json5";
  SourcePos p = empty.pos_of("/x");
  EXPECT_EQ(p.file, "e.json5");
  EXPECT_EQ(at(p), "1:1");
}

TEST(Json5, RootPositionSkipsLeadingSpaceAndBom) {
  auto doc = json5::parse("\ufeff  /* c */\n  42", "r");
  ASSERT_TRUE(doc);
  EXPECT_EQ(at(doc->value_pos.at("")), "2:3");
}

TEST(Json5, PointerToken) {
  EXPECT_EQ(json5::pointer_token("plain"), "plain");
  EXPECT_EQ(json5::pointer_token("a/b~c"), "a~1b~0c");
  EXPECT_EQ(json5::pointer_token("~1"), "~01");
}

}  // namespace
