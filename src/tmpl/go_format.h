// Go's fmt and strconv printing rules, reimplemented for the template engine:
// print, printf, println and the {{.}} output of values. Internal header.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "tmpl/value.h"

namespace autopilot::tmpl::gofmt {

// strconv.FormatFloat(v, verb, prec, 64) for verbs e E f F g G x X; prec < 0
// means the shortest representation that reads back exactly.
std::string format_float(double v, char verb, int prec);
// strconv.Quote / strconv.QuoteToASCII.
void append_quoted(std::string& out, std::string_view s, bool ascii_only);
// strconv.QuoteRune / QuoteRuneToASCII.
void append_quoted_rune(std::string& out, int64_t r, bool ascii_only);
// utf8.AppendRune, with invalid code points as U+FFFD.
void append_rune(std::string& out, int64_t r);
// Go's unicode.IsPrint.
bool is_print(int32_t r);
// Number of runes in s (invalid bytes count one each).
size_t rune_count(std::string_view s);

// fmt.Sprint, fmt.Sprintln and fmt.Sprintf, appended to out.
void sprint(std::string& out, std::span<const Value> args);
void sprintln(std::string& out, std::span<const Value> args);
void sprintf(std::string& out, std::string_view format, std::span<const Value> args);
// How an action prints its value: "<no value>" when missing, else fmt's %v.
void print_value(std::string& out, const Value& v);

}  // namespace autopilot::tmpl::gofmt
