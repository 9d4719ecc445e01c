// The template lexer: splits a text into tokens the way Go 1.19's
// text/template/parse/lex.go does (delimiters "{{" "}}", trim markers,
// comments, spaces as tokens inside actions). Internal header.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace autopilot::tmpl {

enum class Tok {
  kError,  // val is the message
  kEOF,
  kText,
  kLeftDelim,
  kRightDelim,
  kSpace,
  kAssign,   // =
  kDeclare,  // :=
  kPipe,
  kLeftParen,
  kRightParen,
  kChar,  // any other printable ASCII character, e.g. ','
  kString,
  kRawString,
  kCharConstant,
  kNumber,
  kComplex,
  kIdentifier,
  kField,
  kVariable,
  kDot,
  kBool,
  kNil,
  // keywords
  kKeyword,
  kBlock,
  kBreak,
  kContinue,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kRange,
  kTemplate,
  kWith,
};

struct Token {
  Tok type;
  std::string_view val;  // a view into the template text, or the error message
  size_t pos;            // byte offset in the text
};

// Lexes the whole text. The last token is kEOF or kError. Error messages are
// stored in `errors` (so that val can view them). `break_ok`/`continue_ok`
// say whether break and continue are keywords (Go makes them identifiers
// when the caller defines functions with those names).
std::vector<Token> lex(std::string_view text, bool break_ok, bool continue_ok, std::string& error_storage);

// Go's item.String(), used in "unexpected X in Y" messages.
std::string token_string(const Token& t);

}  // namespace autopilot::tmpl
