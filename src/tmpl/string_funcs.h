// Caller functions shared by the two function libraries built on this
// engine: ContainerPilot's config templates (config/template_funcs.h) and
// consul-template templates (tmplfuncs/functions.h). ContainerPilot copied
// these from consul-template, so one implementation serves both. They follow
// Go's strings and regexp packages and consul-template's pipe-friendly
// argument order (the piped value comes last). Register them with
// FuncMap::add under their template names (given in each comment).
//
// Regular expressions are RE2 syntax in Go; here they run on std::regex
// (ECMAScript), after a translation that covers what templates use:
//  - a leading (?i), (?m) or (?s) flag group (any combination); other flag
//    groups are refused;
//  - named groups (?P<name>re) and (?<name>re), usable as ${name} in a
//    replacement;
//  - \A and \z (as ^ and $), \Q...\E literal text;
//  - \pX / \p{Class} Unicode classes are refused rather than misread.
// Matching uses libstdc++'s breadth-first executor, which cannot overflow
// the stack or backtrack exponentially (and refuses backreferences, as RE2
// does). Differences that remain:
//  - where alternatives match at the same place, the longer match wins:
//    (foo|foobar) matches all of "foobar", where RE2 takes "foo" (lazy
//    quantifiers still prefer the shorter match, as in RE2);
//  - matching is on bytes, so `.` and [^x] match one byte of a multi-byte
//    character where RE2 matches the whole rune;
//  - lookahead (?=..) is accepted (RE2 refuses it);
//  - the time is quadratic in the text for patterns like .*x (RE2's is
//    linear), so texts longer than 16 KiB are refused with an error.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "tmpl/value.h"

namespace autopilot::tmpl::funcs {

// The text of a scalar argument: strings as they are, null as "", other
// values as Go's fmt.Sprint prints them.
std::string text_of(const Value& v);

// Go's words for a call with the wrong number of arguments:
// `wrong number of args for NAME: want 2 got 1`.
Error wrong_args(std::string_view fn, size_t want, size_t got);

// default DEFAULT VALUE: VALUE unless it is empty (Sprig's rule: "", 0,
// false, nil and empty lists and maps are empty), then DEFAULT.
Result<Value> default_value(std::span<const Value> args);
// split SEP S: strings.Split of S with its surrounding white space trimmed;
// "" (or all white space) gives an empty list. An empty SEP splits into
// UTF-8 sequences, as Go does.
Result<Value> split(std::span<const Value> args);
// join SEP LIST: the items' text joined by SEP.
Result<Value> join(std::span<const Value> args);
// replaceAll FROM TO S: strings.ReplaceAll (an empty FROM inserts TO before
// every UTF-8 sequence and at the end, as Go does).
Result<Value> replace_all(std::span<const Value> args);
// regexReplaceAll RE REPL S: Regexp.ReplaceAllString. REPL expands Go's way:
// $1, ${1}, $name, ${name}; `$$` is a literal `$`; $name takes the longest
// run of letters, digits and '_' (so `$1x` is the group named "1x", which
// does not exist and expands to ""); an unknown group expands to "".
Result<Value> regex_replace_all(std::span<const Value> args);
// regexMatch RE S: whether RE matches anywhere in S (Regexp.MatchString).
Result<Value> regex_match(std::span<const Value> args);

}  // namespace autopilot::tmpl::funcs
