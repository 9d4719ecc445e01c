// Formatting one value under a verb, flags, width and precision, following
// Go 1.19's fmt/print.go (printArg, printValue, badVerb) and fmt/format.go.
#include <charconv>

#include "tmpl/go_format.h"
#include "tmpl/printer.h"

namespace autopilot::tmpl::gofmt {

void Printer::padding(size_t n) { out_.append(n, f.zero ? '0' : ' '); }

void Printer::pad(std::string_view s) {
  if (!f.wid_present || f.wid == 0) {
    out_ += s;
    return;
  }
  size_t width = rune_count(s);
  size_t need = static_cast<size_t>(f.wid) > width ? f.wid - width : 0;
  if (f.minus) {
    out_ += s;
    out_.append(need, ' ');
  } else {
    padding(need);
    out_ += s;
  }
}

void Printer::bad_verb(char verb, const Value& v) {
  out_ += "%!";
  out_ += verb;
  out_ += '(';
  if (v.is_null()) {
    out_ += "<nil>";
  } else {
    out_ += v.type_name();
    out_ += '=';
    print_arg(v, 'v');
  }
  out_ += ')';
}

void Printer::print_arg(const Value& v, char verb) {
  if (v.is_null()) {
    if (verb == 'T' || verb == 'v') return pad("<nil>");
    return bad_verb(verb, v);
  }
  if (verb == 'T') return pad(truncate(v.type_name()));
  print_value(v, verb, 0);
}

void Printer::print_value(const Value& v, char verb, int depth) {
  switch (v.kind()) {
    case Value::Kind::kNull:  // a nil element: never padded (fmt's printValue)
      out_ += f.sharp_v ? "interface {}(nil)" : "<nil>";
      return;
    case Value::Kind::kBool:
      if (verb == 't' || verb == 'v') return pad(v.as_bool() ? "true" : "false");
      return bad_verb(verb, v);
    case Value::Kind::kInt:
      return fmt_integer(v, verb);
    case Value::Kind::kFloat:
      if (v.is_complex()) return fmt_complex(v, verb);
      return fmt_float(v.as_float(), verb);
    case Value::Kind::kString:
      return fmt_string(v.as_string(), verb, v);
    case Value::Kind::kList:
      return fmt_list(v, verb, depth);
    case Value::Kind::kMap:
      return fmt_map(v, verb, depth);
    case Value::Kind::kRecord:
      if (verb == 'v' || verb == 's') return pad(v.as_record().format());
      return bad_verb(verb, v);
  }
}

void Printer::fmt_list(const Value& v, char verb, int depth) {
  if (f.sharp_v) {
    out_ += v.type_name() + "{";
    const char* sep = "";
    for (const Value& e : v.as_list()) out_ += sep, print_value(e, verb, depth + 1), sep = ", ";
    out_ += '}';
    return;
  }
  out_ += '[';
  bool first = true;
  for (const Value& e : v.as_list()) {
    if (!first) out_ += ' ';
    first = false;
    print_value(e, verb, depth + 1);
  }
  out_ += ']';
}

void Printer::fmt_map(const Value& v, char verb, int depth) {
  out_ += f.sharp_v ? v.type_name() + "{" : "map[";
  bool first = true;
  for (const auto& [k, e] : v.as_map()) {
    if (!first) out_ += f.sharp_v ? ", " : " ";
    first = false;
    fmt_string(k, verb, Value(k));
    out_ += ':';
    print_value(e, verb, depth + 1);
  }
  out_ += f.sharp_v ? '}' : ']';
}

void Printer::fmt_integer(const Value& v, char verb) {
  int64_t i = v.as_int();
  bool is_unsigned = v.go_type() == Value::GoType::kUint8;
  bool negative = !is_unsigned && i < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
  switch (verb) {
    case 'v':
    case 'd':
      return fmt_unsigned(u, negative, 10, verb, false);
    case 'b':
      return fmt_unsigned(u, negative, 2, verb, false);
    case 'o':
    case 'O':
      return fmt_unsigned(u, negative, 8, verb, false);
    case 'x':
      return fmt_unsigned(u, negative, 16, verb, false);
    case 'X':
      return fmt_unsigned(u, negative, 16, verb, true);
    case 'c': {
      std::string s;
      append_rune(s, is_unsigned || i <= 0x10FFFF ? i : 0xFFFD);
      return pad(s);
    }
    case 'q': {
      std::string s;
      append_quoted_rune(s, i > 0x10FFFF ? 0xFFFD : i, f.plus);
      return pad(s);
    }
    case 'U': {
      char buf[32];
      // Go formats the two's-complement uint64 of negative ints.
      std::snprintf(buf, sizeof buf, "U+%04llX", static_cast<unsigned long long>(i));
      std::string s = buf;
      if (f.sharp && i >= 0 && i <= 0x10FFFF && is_print(static_cast<int32_t>(i))) {
        s += " '";
        append_rune(s, i);
        s += "'";
      }
      bool old = f.zero;  // fmtUnicode never pads with zeros
      f.zero = false;
      pad(s);
      f.zero = old;
      return;
    }
    default:
      return bad_verb(verb, v);
  }
}

// fmt.fmtInteger: precision or zero padding as leading zeros, then prefixes.
void Printer::fmt_unsigned(uint64_t u, bool negative, int base, char verb, bool upper) {
  int prec = 0;
  if (f.prec_present) {
    prec = f.prec;
    if (prec == 0 && u == 0) {
      bool old = f.zero;
      f.zero = false;
      padding(f.wid_present ? f.wid : 0);
      f.zero = old;
      return;
    }
  } else if (f.zero && f.wid_present) {
    prec = f.wid;
    if (negative || f.plus || f.space) --prec;
  }
  char digits[80];
  auto r = std::to_chars(digits, digits + sizeof digits, u, base);
  std::string num(digits, r.ptr);
  if (upper)
    for (char& c : num) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (static_cast<int>(num.size()) < prec) num.insert(0, prec - num.size(), '0');
  if (f.sharp) {
    if (base == 2) num.insert(0, "0b");
    if (base == 8 && num[0] != '0') num.insert(0, "0");
    if (base == 16) num.insert(0, upper ? "0X" : "0x");
  }
  if (verb == 'O') num.insert(0, "0o");
  if (negative)
    num.insert(0, "-");
  else if (f.plus)
    num.insert(0, "+");
  else if (f.space)
    num.insert(0, " ");
  bool old = f.zero;
  f.zero = false;
  pad(num);
  f.zero = old;
}

// The '#' flag on floats: always a decimal point, and for %g trailing zeros
// up to the precision (fmt.fmtFloat). num starts with its sign.
static void sharp_float(std::string& num, char verb, int prec) {
  int digits = 0;
  if (verb == 'g' || verb == 'G' || verb == 'x') digits = prec < 0 ? 6 : prec;  // not 'X', as in Go
  std::string tail;
  bool has_point = false, saw_nonzero = false;
  for (size_t i = 1; i < num.size(); ++i) {
    char c = num[i];
    if (c == '.') {
      has_point = true;
    } else if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
      tail = num.substr(i);
      num.resize(i);
      break;
    } else {
      saw_nonzero = saw_nonzero || c != '0';
      if (saw_nonzero) --digits;
    }
  }
  if (!has_point) {
    if (num.size() == 2 && num[1] == '0') --digits;
    num += '.';
  }
  if (digits > 0) num.append(digits, '0');
  num += tail;
}

// fmt.fmtComplex: "(re+imi)", the imaginary part always signed.
void Printer::fmt_complex(const Value& v, char verb) {
  if (std::string_view("vbgGxXfFeE").find(verb) == std::string_view::npos) return bad_verb(verb, v);
  bool old_plus = f.plus;
  out_ += '(';
  fmt_float(v.as_float(), verb);
  f.plus = true;
  fmt_float(v.imag(), verb);
  out_ += "i)";
  f.plus = old_plus;
}

void Printer::fmt_float(double v, char verb) {
  int prec;
  switch (verb) {
    case 'v':
      verb = 'g', prec = -1;
      break;
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
      prec = -1;
      break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
      prec = 6;
      break;
    default:
      return bad_verb(verb, Value(v));
  }
  if (f.prec_present) prec = f.prec;
  std::string num = format_float(v, verb == 'F' ? 'f' : verb, prec);
  if (num[0] != '-' && num[0] != '+') num.insert(0, "+");
  if (f.space && num[0] == '+' && !f.plus) num[0] = ' ';
  if (num[1] == 'I' || num[1] == 'N') {
    bool old = f.zero;
    f.zero = false;
    if (num[1] == 'N' && !f.space && !f.plus) num.erase(0, 1);
    pad(num);
    f.zero = old;
    return;
  }
  if (f.sharp && verb != 'b') sharp_float(num, verb, prec);
  if (f.plus || num[0] != '+') {
    if (f.zero && f.wid_present && f.wid > static_cast<int>(num.size())) {
      out_ += num[0];
      padding(f.wid - num.size());
      out_.append(num, 1);
      return;
    }
    return pad(num);
  }
  pad(std::string_view(num).substr(1));
}

std::string Printer::truncate(std::string_view s) const {
  if (!f.prec_present) return std::string(s);
  size_t i = 0;
  for (int n = 0; i < s.size(); ++n) {
    if (n == f.prec) return std::string(s.substr(0, i));
    unsigned char c = s[i];
    i += c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  }
  return std::string(s);
}

void Printer::fmt_hex_string(std::string_view s, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  size_t length = f.prec_present && static_cast<size_t>(f.prec) < s.size() ? f.prec : s.size();
  std::string buf;
  for (size_t i = 0; i < length; ++i) {
    if (f.space && i > 0) buf += ' ';
    if (f.sharp && (f.space || i == 0)) buf += upper ? "0X" : "0x";
    unsigned char c = s[i];
    buf += digits[c >> 4];
    buf += digits[c & 0xF];
  }
  pad(buf);
}

void Printer::fmt_string(const std::string& s, char verb, const Value& v) {
  switch (verb) {
    case 'v':
      if (f.sharp_v) {
        std::string q;
        append_quoted(q, truncate(s), false);
        return pad(q);
      }
      [[fallthrough]];
    case 's':
      if (!f.prec_present && !f.wid_present) {
        out_ += s;
        return;
      }
      return pad(truncate(s));
    case 'x':
    case 'X':
      return fmt_hex_string(s, verb == 'X');
    case 'q': {
      std::string t = truncate(s), q;
      if (f.sharp && t.find_first_of("`\x7f") == std::string::npos &&
          std::all_of(t.begin(), t.end(), [](char c) { return static_cast<unsigned char>(c) >= ' ' || c == '\t'; }))
        q = "`" + t + "`";
      else
        append_quoted(q, t, f.plus);
      return pad(q);
    }
    default:
      return bad_verb(verb, v);
  }
}

}  // namespace autopilot::tmpl::gofmt
