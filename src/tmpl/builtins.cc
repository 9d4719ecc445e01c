// text/template/funcs.go (Go 1.19): index, slice, len, not, the comparison
// functions, print*, and the escapers, with Go's error words.
#include "tmpl/builtins.h"

#include <cstdio>

#include "tmpl/go_format.h"

namespace autopilot::tmpl {
namespace {

using Kind = Value::Kind;

bool is_nilish(const Value& v) { return v.is_null(); }

// indexArg: an int index in [0, cap].
Result<int64_t> index_arg(const Value& index, size_t cap) {
  if (is_nilish(index)) return make_error("cannot index slice/array with nil");
  if (index.kind() != Kind::kInt) return make_error("cannot index slice/array with type " + index.type_name());
  int64_t x = index.as_int();
  if (x < 0 || static_cast<uint64_t>(x) > cap) return make_error("index out of range: " + std::to_string(x));
  return x;
}

Result<Value> index(std::span<const Value> args) {
  Value item = args[0];
  if (is_nilish(item)) return make_error("index of untyped nil");
  for (const Value& idx : args.subspan(1)) {
    if (item.is_null()) return make_error("index of nil pointer");
    switch (item.kind()) {
      case Kind::kList:
      case Kind::kString: {
        bool is_list = item.kind() == Kind::kList;
        size_t len = is_list ? item.as_list().size() : item.as_string().size();
        auto x = index_arg(idx, len);
        if (!x) return x.error();
        if (static_cast<size_t>(*x) == len)
          return make_error(is_list ? "reflect: slice index out of range" : "reflect: string index out of range");
        item = is_list ? item.as_list()[*x]
                       : Value::go_int(static_cast<unsigned char>(item.as_string()[*x]), Value::GoType::kUint8);
        break;
      }
      case Kind::kMap: {
        if (is_nilish(idx)) return make_error("value is nil; should be of type string");
        if (idx.kind() != Kind::kString) return make_error("value has type " + idx.type_name() + "; should be string");
        const auto& m = item.as_map();
        auto it = m.find(idx.as_string());
        if (it != m.end())
          item = it->second;
        else
          item = item.go_type() == Value::GoType::kStringMap ? Value("") : Value();
        break;
      }
      default:
        return make_error("can't index item of type " + item.type_name());
    }
  }
  return item;
}

Result<Value> slice(std::span<const Value> args) {
  const Value& item = args[0];
  if (is_nilish(item)) return make_error("slice of untyped nil");
  size_t n = args.size() - 1;
  if (n > 3) return make_error("too many slice indexes: " + std::to_string(n));
  size_t len, cap;
  if (item.kind() == Kind::kString) {
    if (n == 3) return make_error("cannot 3-index slice a string");
    len = cap = item.as_string().size();
  } else if (item.kind() == Kind::kList) {
    len = item.as_list().size();
    cap = item.list_cap();
  } else {
    return make_error("can't slice item of type " + item.type_name());
  }
  int64_t idx[3] = {0, static_cast<int64_t>(len), static_cast<int64_t>(cap)};
  for (size_t i = 0; i < n; ++i) {
    auto x = index_arg(args[i + 1], cap);
    if (!x) return x.error();
    idx[i] = *x;
  }
  if (idx[0] > idx[1])
    return make_error("invalid slice index: " + std::to_string(idx[0]) + " > " + std::to_string(idx[1]));
  if (n == 3 && idx[1] > idx[2])
    return make_error("invalid slice index: " + std::to_string(idx[1]) + " > " + std::to_string(idx[2]));
  if (item.kind() == Kind::kString) return Value(item.as_string().substr(idx[0], idx[1] - idx[0]));
  return item.slice_list(idx[0], idx[1], idx[2]);
}

Result<Value> length(const Value& v) {
  if (v.is_missing()) return make_error("reflect: call of reflect.Value.Type on zero Value");
  switch (v.kind()) {
    case Kind::kNull:
      return make_error("len of nil pointer");
    case Kind::kString:
      return Value(static_cast<int>(v.as_string().size()));
    case Kind::kList:
      return Value(static_cast<int>(v.as_list().size()));
    case Kind::kMap:
      return Value(static_cast<int>(v.as_map().size()));
    default:
      return make_error("len of type " + v.type_name());
  }
}

// basicKind: 0 invalid, 1 bool, 2 int (signed or not), 3 float, 4 string,
// 5 complex.
int basic_kind(const Value& v) {
  switch (v.kind()) {
    case Kind::kBool:
      return 1;
    case Kind::kInt:
      return 2;
    case Kind::kFloat:
      return v.is_complex() ? 5 : 3;
    case Kind::kString:
      return 4;
    default:
      return 0;
  }
}

Error bad_comparison() { return make_error("incompatible types for comparison"); }
Error bad_comparison_type() { return make_error("invalid type for comparison"); }

bool is_aggregate(const Value& v) { return v.kind() == Kind::kList || v.kind() == Kind::kMap; }

Error non_comparable(const Value& v) {
  std::string s;
  Value arg[] = {v};
  gofmt::sprintf(s, "%s", arg);
  return make_error("non-comparable type " + s + ": " + v.type_name());
}

Result<bool> eq(std::span<const Value> args) {
  const Value& a = args[0];
  if (args.size() == 1) return make_error("missing argument for comparison");
  int k1 = basic_kind(a);
  for (const Value& b : args.subspan(1)) {
    int k2 = basic_kind(b);
    bool truth = false;
    if (k1 != k2) {
      if (!a.is_null() && !b.is_null()) return bad_comparison();
    } else {
      switch (k1) {
        case 1:
          truth = a.as_bool() == b.as_bool();
          break;
        case 2:
          truth = a.as_int() == b.as_int();
          break;
        case 3:
          truth = a.as_float() == b.as_float();
          break;
        case 4:
          truth = a.as_string() == b.as_string();
          break;
        case 5:
          truth = a.as_float() == b.as_float() && a.imag() == b.imag();
          break;
        default:  // neither is a basic kind
          if (a.is_null() || b.is_null())
            truth = a.is_null() == b.is_null();
          else if (is_aggregate(a) || is_aggregate(b))
            return non_comparable(is_aggregate(b) ? b : a);
          else
            truth = a.record_ptr() == b.record_ptr();
      }
    }
    if (truth) return true;
  }
  return false;
}

Result<bool> lt(const Value& a, const Value& b) {
  int k1 = basic_kind(a), k2 = basic_kind(b);
  if (k1 == 0 || k2 == 0) return bad_comparison_type();
  if (k1 != k2) return bad_comparison();
  switch (k1) {
    case 2:
      return a.as_int() < b.as_int();
    case 3:
      return a.as_float() < b.as_float();
    case 4:
      return a.as_string() < b.as_string();
    default:
      return bad_comparison_type();
  }
}

Result<bool> le(const Value& a, const Value& b) {
  auto less = lt(a, b);
  if (!less || *less) return less;
  Value pair[] = {a, b};
  return eq(pair);
}

Value nullify(const Value& v) { return v.is_missing() ? Value() : v; }

// evalArgs in funcs.go: one string argument as is, else fmt.Sprint with
// nils printed as "<no value>".
std::string escaper_input(std::span<const Value> args) {
  if (args.size() == 1 && args[0].kind() == Kind::kString) return args[0].as_string();
  std::vector<Value> printable;
  for (const Value& v : args) printable.push_back(v.is_null() ? Value("<no value>") : v);
  std::string s;
  gofmt::sprint(s, printable);
  return s;
}

Result<Value> wrap(Result<bool> r) {
  if (!r) return r.error();
  return Value(*r);
}

Result<Value> negate(Result<bool> r) {
  if (!r) return r.error();
  return Value(!*r);
}

}  // namespace

BuiltinSignature builtin_signature(Builtin b) {
  switch (b) {
    case Builtin::kNot:
    case Builtin::kLen:
      return {1, false};
    case Builtin::kNe:
    case Builtin::kLt:
    case Builtin::kLe:
    case Builtin::kGt:
    case Builtin::kGe:
      return {2, false};
    case Builtin::kPrint:
    case Builtin::kPrintln:
    case Builtin::kHtml:
    case Builtin::kJs:
    case Builtin::kUrlquery:
      return {0, true};
    default:
      return {1, true};  // and, or, index, slice, printf, eq, call
  }
}

Result<Value> call_builtin(Builtin b, std::span<const Value> args) {
  switch (b) {
    case Builtin::kNot:
      return Value(!args[0].truthy());
    case Builtin::kLen:
      return length(args[0]);
    case Builtin::kIndex:
      return index(args);
    case Builtin::kSlice:
      return slice(args);
    case Builtin::kEq:
      return wrap(eq(args));
    case Builtin::kNe:
      return negate(eq(args));
    case Builtin::kLt:
      return wrap(lt(args[0], args[1]));
    case Builtin::kLe:
      return wrap(le(args[0], args[1]));
    case Builtin::kGt:
      return negate(le(args[0], args[1]));
    case Builtin::kGe:
      return negate(lt(args[0], args[1]));
    case Builtin::kHtml:
      return Value(html_escape(escaper_input(args)));
    case Builtin::kJs:
      return Value(js_escape(escaper_input(args)));
    case Builtin::kUrlquery:
      return Value(query_escape(escaper_input(args)));
    case Builtin::kCall:
      return make_error(args[0].is_null() ? "call of nil" : "non-function of type " + args[0].type_name());
    default:
      break;
  }
  std::vector<Value> plain;
  plain.reserve(args.size());
  for (const Value& v : args) plain.push_back(nullify(v));
  std::string out;
  if (b == Builtin::kPrint) gofmt::sprint(out, plain);
  if (b == Builtin::kPrintln) gofmt::sprintln(out, plain);
  if (b == Builtin::kPrintf) gofmt::sprintf(out, plain[0].as_string(), std::span<const Value>(plain).subspan(1));
  return Value(std::move(out));
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string js_escape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '\\':
          out += "\\\\";
          continue;
        case '\'':
          out += "\\'";
          continue;
        case '"':
          out += "\\\"";
          continue;
        case '<':
          out += "\\u003C";
          continue;
        case '>':
          out += "\\u003E";
          continue;
        case '&':
          out += "\\u0026";
          continue;
        case '=':
          out += "\\u003D";
          continue;
      }
      if (c < ' ') {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
      continue;
    }
    // A rune: kept when printable (invalid bytes too, as Go decodes them to
    // the printable U+FFFD), else \uXXXX (Go's %04X).
    size_t start = i;
    int len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    int32_t r = -1;
    if (len > 1 && start + len <= s.size()) {
      r = c & (0x7F >> len);
      for (int k = 1; k < len && r >= 0; ++k) {
        unsigned char cc = s[start + k];
        r = (cc & 0xC0) == 0x80 ? (r << 6) | (cc & 0x3F) : -1;
      }
      static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      if (r >= 0 && (r < kMin[len] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))) r = -1;
    }
    if (r < 0) {
      out += static_cast<char>(c);
      continue;
    }
    if (gofmt::is_print(r)) {
      out.append(s.substr(start, len));
    } else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(r));
      out += buf;
    }
    i = start + len - 1;
  }
  return out;
}

std::string query_escape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace autopilot::tmpl
