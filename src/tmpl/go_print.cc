// fmt.Sprint, Sprintln and Sprintf over template values (Go 1.19
// fmt/print.go doPrint, doPrintln, doPrintf): operand spacing, argument
// indexes, '*' widths, MISSING, EXTRA, BADINDEX, NOVERB.
#include <charconv>

#include "tmpl/go_format.h"
#include "tmpl/printer.h"

namespace autopilot::tmpl::gofmt {
namespace {

// parsenum from fmt/print.go.
bool parse_num(std::string_view s, size_t& i, int& num) {
  bool found = false;
  num = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (num > kMaxNum) {
      i = s.size();
      return false;
    }
    num = num * 10 + (s[i++] - '0');
    found = true;
  }
  return found;
}

bool int_from_arg(std::span<const Value> args, size_t& arg, int& num) {
  if (arg >= args.size()) return false;
  const Value& v = args[arg++];
  if (v.kind() != Value::Kind::kInt || v.as_int() > kMaxNum || v.as_int() < -kMaxNum) return num = 0, false;
  num = static_cast<int>(v.as_int());
  return true;
}

// argNumber: an explicit "[n]" index. Returns whether one was found.
bool arg_number(std::string_view format, size_t& i, size_t& arg, size_t nargs, bool& reordered, bool& good) {
  if (i >= format.size() || format[i] != '[') return false;
  reordered = true;
  size_t close = format.find(']', i + 1);
  if (format.size() - i < 3 || close == std::string_view::npos) {
    good = false;
    i += 1;
    return false;
  }
  size_t j = i + 1;
  int n = 0;
  bool ok = parse_num(format.substr(0, close), j, n) && j == close;
  i = close + 1;
  if (ok && n >= 1 && static_cast<size_t>(n - 1) < nargs) {
    arg = n - 1;
    return true;
  }
  good = false;
  return ok;
}

}  // namespace

void Printer::do_printf(std::string_view format, std::span<const Value> args) {
  size_t end = format.size(), arg = 0;
  bool reordered = false;
  for (size_t i = 0; i < end;) {
    bool good = true;
    size_t start = i;
    while (i < end && format[i] != '%') ++i;
    out_.append(format.substr(start, i - start));
    if (i >= end) break;
    ++i;
    f = Spec{};
    for (; i < end; ++i) {
      char c = format[i];
      if (c == '#')
        f.sharp = true;
      else if (c == '0')
        f.zero = !f.minus;
      else if (c == '+')
        f.plus = true;
      else if (c == '-')
        f.minus = true, f.zero = false;
      else if (c == ' ')
        f.space = true;
      else
        break;
    }
    bool after_index = arg_number(format, i, arg, args.size(), reordered, good);
    if (i < end && format[i] == '*') {
      ++i;
      f.wid_present = int_from_arg(args, arg, f.wid);
      if (!f.wid_present) out_ += "%!(BADWIDTH)";
      if (f.wid < 0) f.wid = -f.wid, f.minus = true, f.zero = false;
      after_index = false;
    } else {
      f.wid_present = parse_num(format, i, f.wid);
      if (after_index && f.wid_present) good = false;
    }
    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) good = false;
      after_index = arg_number(format, i, arg, args.size(), reordered, good);
      if (i < end && format[i] == '*') {
        ++i;
        f.prec_present = int_from_arg(args, arg, f.prec);
        if (f.prec < 0) f.prec = 0, f.prec_present = false;
        if (!f.prec_present) out_ += "%!(BADPREC)";
        after_index = false;
      } else {
        f.prec_present = true;
        parse_num(format, i, f.prec);
      }
    }
    if (!after_index) after_index = arg_number(format, i, arg, args.size(), reordered, good);
    if (i >= end) {
      out_ += "%!(NOVERB)";
      break;
    }
    // Multi-byte verbs are complained about as one rune.
    size_t vlen = rune_count(format.substr(i, 1)) ? 1 : 1;
    unsigned char vc = format[i];
    if (vc >= 0x80) vlen = (vc >> 5) == 6 ? 2 : (vc >> 4) == 14 ? 3 : (vc >> 3) == 30 ? 4 : 1;
    std::string_view verb_text = format.substr(i, std::min(vlen, end - i));
    char verb = vlen == 1 ? format[i] : '?';
    i += verb_text.size();
    if (verb == '%') {
      out_ += '%';
    } else if (!good || arg >= args.size()) {
      out_ += "%!";
      out_ += verb_text;
      out_ += good ? "(MISSING)" : "(BADINDEX)";
    } else {
      if (verb == 'v') f.sharp_v = f.sharp, f.sharp = false, f.plus_v = f.plus, f.plus = false;
      if (vlen == 1) {
        print_arg(args[arg], verb);
      } else {
        out_ += "%!";
        out_ += verb_text;
        out_ += '(' + args[arg].type_name() + '=';
        print_arg(args[arg], 'v');
        out_ += ')';
      }
      ++arg;
    }
  }
  if (!reordered && arg < args.size()) {
    f = Spec{};
    out_ += "%!(EXTRA ";
    for (size_t k = arg; k < args.size(); ++k) {
      if (k > arg) out_ += ", ";
      if (args[k].is_null()) {
        out_ += "<nil>";
        continue;
      }
      out_ += args[k].type_name() + '=';
      print_arg(args[k], 'v');
    }
    out_ += ')';
  }
}

void sprint(std::string& out, std::span<const Value> args) {
  Printer p(out);
  bool prev_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    bool is_string = args[i].kind() == Value::Kind::kString;
    if (i > 0 && !is_string && !prev_string) out += ' ';
    p.print_arg(args[i], 'v');
    prev_string = is_string;
  }
}

void sprintln(std::string& out, std::span<const Value> args) {
  Printer p(out);
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    p.print_arg(args[i], 'v');
  }
  out += '\n';
}

void sprintf(std::string& out, std::string_view format, std::span<const Value> args) {
  Printer(out).do_printf(format, args);
}

void print_value(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out += "<no value>";
      return;
    case Value::Kind::kString:
      out += v.as_string();
      return;
    case Value::Kind::kInt: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
      out.append(buf, r.ptr);
      return;
    }
    default:
      Printer(out).print_arg(v, 'v');
  }
}

}  // namespace autopilot::tmpl::gofmt
