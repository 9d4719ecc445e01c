// Character classes and UTF-8 coding used by the JSON5 reader. Internal to
// src/json5/; not part of its public interface.
#pragma once

#include <string>
#include <string_view>

#include "base/utf8.h"

namespace autopilot::json5 {

// Decodes the code point starting at byte `i` of `s` into `cp` and returns
// its length in bytes, or 0 when the bytes there are not valid UTF-8
// (truncated, overlong, a surrogate, or above U+10FFFF); then `cp` is
// U+FFFD, so that callers can step over the byte. `i` < s.size().
size_t decode_utf8(std::string_view s, size_t i, char32_t& cp);

using autopilot::append_utf8;  // base/utf8.h

// \n, \r, U+2028, U+2029 (ECMAScript LineTerminator).
bool is_line_terminator(char32_t c);

// JSON5 WhiteSpace: tab, LF, VT, FF, CR, space, NBSP, U+2028, U+2029, BOM and
// every other Unicode Zs character.
bool is_whitespace(char32_t c);

// ECMAScript 5.1 IdentifierStart / IdentifierPart, without the `\` escape.
// ASCII is exact. Beyond ASCII the Unicode category tables are approximated:
// every code point counts as a letter except whitespace, line terminators,
// controls, surrogates, private use, noncharacters and the punctuation and
// symbol blocks; combining marks U+0300-U+036F, ZWNJ, ZWJ and connector
// punctuation may only continue a name. So no real letter is refused, but a
// few symbols from other blocks are accepted.
bool is_identifier_start(char32_t c);
bool is_identifier_part(char32_t c);

}  // namespace autopilot::json5
