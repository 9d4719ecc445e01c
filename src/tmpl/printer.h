// The fmt printer state shared by go_printf.cc (formatting one value under
// a verb and flags) and go_print.cc (Sprint, Sprintln and Sprintf's format
// string walk). Internal header.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "tmpl/value.h"

namespace autopilot::tmpl::gofmt {

constexpr int kMaxNum = 1000000;  // fmt's tooLarge

struct Spec {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  bool plus_v = false, sharp_v = false;
  bool wid_present = false, prec_present = false;
  int wid = 0, prec = 0;
};

class Printer {
 public:
  explicit Printer(std::string& out) : out_(out) {}

  void print_arg(const Value& v, char verb);
  void do_printf(std::string_view format, std::span<const Value> args);
  Spec f;

 private:
  void print_value(const Value& v, char verb, int depth);
  void bad_verb(char verb, const Value& v);
  void padding(size_t n);
  void pad(std::string_view s);
  void fmt_integer(const Value& v, char verb);
  void fmt_unsigned(uint64_t u, bool negative, int base, char verb, bool upper);
  void fmt_float(double v, char verb);
  void fmt_complex(const Value& v, char verb);
  void fmt_string(const std::string& s, char verb, const Value& v);
  void fmt_hex_string(std::string_view s, bool upper);
  std::string truncate(std::string_view s) const;
  void fmt_list(const Value& v, char verb, int depth);
  void fmt_map(const Value& v, char verb, int depth);

  std::string& out_;
};

}  // namespace autopilot::tmpl::gofmt
