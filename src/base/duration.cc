#include "base/duration.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace autopilot {
namespace {

// Unit table in the order Go's time.ParseDuration documents.
struct Unit {
  std::string_view name;
  double nanos;
};
constexpr Unit kUnits[] = {{"ns", 1},         {"us", 1e3},        {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3},
                           {"ms", 1e6},       {"s", 1e9},         {"m", 60e9},        {"h", 3600e9}};

Error invalid(std::string_view text) { return make_error("time: invalid duration \"" + std::string(text) + "\""); }

}  // namespace

Result<Duration> parse_duration(std::string_view text, bool bare_seconds) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  if (s.empty()) return invalid(text);
  if (bare_seconds && s.find_first_not_of("0123456789") == std::string_view::npos) {
    if (s.size() > 12) return invalid(text);
    long long secs = std::stoll(std::string(s));
    return Duration{std::chrono::seconds(negative ? -secs : secs)};
  }
  double total = 0;
  while (!s.empty()) {
    size_t digits = s.find_first_not_of("0123456789.");
    std::string_view number = s.substr(0, digits);
    if (number.empty() || number == "." || number.find('.') != number.rfind('.')) return invalid(text);
    if (digits == std::string_view::npos) {
      return make_error("time: missing unit in duration \"" + std::string(text) + "\"");
    }
    s.remove_prefix(digits);
    size_t unit_len = s.find_first_of("0123456789.");
    std::string_view unit = s.substr(0, unit_len);
    const Unit* found = nullptr;
    for (const auto& u : kUnits)
      if (u.name == unit) found = &u;
    if (!found) {
      return make_error("time: unknown unit \"" + std::string(unit) + "\" in duration \"" + std::string(text) + "\"");
    }
    total += std::stod(std::string(number)) * found->nanos;
    s.remove_prefix(unit.size());
  }
  if (total > 9.2e18) return invalid(text);
  auto ns = static_cast<long long>(std::llround(total));
  return Duration{negative ? -ns : ns};
}

std::string format_duration(Duration d) {
  long long ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  unsigned long long u = ns < 0 ? -static_cast<unsigned long long>(ns) : ns;
  auto frac = [](unsigned long long v, unsigned long long scale) {
    std::string whole = std::to_string(v / scale);
    unsigned long long rest = v % scale;
    if (rest == 0) return whole;
    std::string digits = std::to_string(rest);
    std::string pad(std::to_string(scale).size() - 1 - digits.size(), '0');
    std::string f = pad + digits;
    while (!f.empty() && f.back() == '0') f.pop_back();
    return whole + "." + f;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 1000) + "us";
  if (u < 1000000000) return sign + frac(u, 1000000) + "ms";
  std::string out;
  unsigned long long secs_ns = u % 60000000000ULL;
  unsigned long long mins = u / 60000000000ULL;
  if (mins >= 60) out += std::to_string(mins / 60) + "h";
  if (mins > 0) out += std::to_string(mins % 60) + "m";
  out += frac(secs_ns, 1000000000ULL) + "s";
  return sign + out;
}

Duration equal_jitter(Duration base, double u) {
  u = std::clamp(u, 0.0, 1.0);
  auto half = base / 2;
  auto spread = std::chrono::duration_cast<Duration>((base - half) * u);
  return std::chrono::floor<std::chrono::milliseconds>(half + spread);
}

double jitter_uniform() {
  static std::minstd_rand rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng);
}

}  // namespace autopilot
