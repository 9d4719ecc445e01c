#include "tmplfuncs/go_time.h"

#include <array>
#include <cstdlib>

namespace autopilot::tmplfuncs {
namespace {

// clang-format off
enum class Std {
  kNone,
  kLongMonth, kMonth, kNumMonth, kZeroMonth,
  kLongWeekDay, kWeekDay,
  kDay, kUnderDay, kZeroDay, kUnderYearDay, kZeroYearDay,
  kHour, kHour12, kZeroHour12, kMinute, kZeroMinute, kSecond, kZeroSecond,
  kLongYear, kYear, kPM, kpm,
  kTZ, kZuluTZ, kNumTZ,
  kFrac0, kFrac9,
};
// clang-format on

struct Chunk {
  Std std = Std::kNone;
  size_t len = 0;
};

struct Fields {
  int year, month, day, yday, weekday, hour, minute, second;
  long nanos;
};

constexpr std::array<std::string_view, 12> kMonths = {"January",   "February", "March",    "April",
                                                      "May",       "June",     "July",     "August",
                                                      "September", "October",  "November", "December"};
constexpr std::array<std::string_view, 7> kDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                   "Thursday", "Friday", "Saturday"};

bool starts(std::string_view s, size_t i, std::string_view w) { return s.substr(i, w.size()) == w; }
bool lower_at(std::string_view s, size_t i) { return i < s.size() && s[i] >= 'a' && s[i] <= 'z'; }
bool digit_at(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// The layout token at l[i] (Go's nextStdChunk, one position at a time).
Chunk token_at(std::string_view l, size_t i) {
  static constexpr Std k0x[] = {Std::kZeroMonth,  Std::kZeroDay,    Std::kZeroHour12,
                                Std::kZeroMinute, Std::kZeroSecond, Std::kYear};
  switch (l[i]) {
    case 'J':
      if (starts(l, i, "January")) return {Std::kLongMonth, 7};
      if (starts(l, i, "Jan") && !lower_at(l, i + 3)) return {Std::kMonth, 3};
      break;
    case 'M':
      if (starts(l, i, "Monday")) return {Std::kLongWeekDay, 6};
      if (starts(l, i, "Mon") && !lower_at(l, i + 3)) return {Std::kWeekDay, 3};
      if (starts(l, i, "MST")) return {Std::kTZ, 3};
      break;
    case '0':
      if (i + 1 < l.size() && l[i + 1] >= '1' && l[i + 1] <= '6') return {k0x[l[i + 1] - '1'], 2};
      if (starts(l, i, "002")) return {Std::kZeroYearDay, 3};
      break;
    case '1':
      return starts(l, i, "15") ? Chunk{Std::kHour, 2} : Chunk{Std::kNumMonth, 1};
    case '2':
      return starts(l, i, "2006") ? Chunk{Std::kLongYear, 4} : Chunk{Std::kDay, 1};
    case '_':
      if (starts(l, i, "_2"))
        return starts(l, i + 1, "2006") ? Chunk{} : Chunk{Std::kUnderDay, 2};  // "_2006": '_' + year
      if (starts(l, i, "__2")) return {Std::kUnderYearDay, 3};
      break;
    case '3':
      return {Std::kHour12, 1};
    case '4':
      return {Std::kMinute, 1};
    case '5':
      return {Std::kSecond, 1};
    case 'P':
      if (starts(l, i, "PM")) return {Std::kPM, 2};
      break;
    case 'p':
      if (starts(l, i, "pm")) return {Std::kpm, 2};
      break;
    case '-':
    case 'Z':
      for (std::string_view form : {"070000", "07:00:00", "0700", "07:00", "07"})
        if (starts(l, i + 1, form)) return {l[i] == 'Z' ? Std::kZuluTZ : Std::kNumTZ, form.size() + 1};
      break;
    case '.':
    case ',':
      if (i + 1 < l.size() && (l[i + 1] == '0' || l[i + 1] == '9')) {
        size_t j = i + 1;
        while (j < l.size() && l[j] == l[i + 1]) ++j;
        if (!digit_at(l, j)) return {l[i + 1] == '0' ? Std::kFrac0 : Std::kFrac9, j - i};
      }
      break;
  }
  return {};
}

// Go's appendInt(b, x, width): zero-padded to `width`, sign first.
void append_int(std::string& out, long x, size_t width) {
  if (x < 0) out += '-';
  std::string digits = std::to_string(std::labs(x));
  if (digits.size() < width) out.append(width - digits.size(), '0');
  out += digits;
}

void append_padded(std::string& out, int x, size_t width, char pad) {
  std::string digits = std::to_string(x);
  if (digits.size() < width) out.append(width - digits.size(), pad);
  out += digits;
}

// Go's formatNano: `digits` digits of the fraction; trimmed drops trailing
// zeros (and the separator too when nothing is left).
void append_fraction(std::string& out, long nanos, std::string_view token, bool trimmed) {
  std::string all = std::to_string(nanos);
  all.insert(0, 9 - all.size(), '0');
  size_t n = std::min<size_t>(token.size() - 1, 9);
  if (trimmed)
    while (n > 0 && all[n - 1] == '0') --n;
  if (trimmed && n == 0) return;
  out += token[0];
  out.append(all, 0, n);
}

void append_token(std::string& out, const Chunk& c, std::string_view token, const Fields& f) {
  int hour12 = f.hour % 12 == 0 ? 12 : f.hour % 12;
  // clang-format off
  switch (c.std) {
    case Std::kNone: break;
    case Std::kLongMonth: out += kMonths[f.month - 1]; break;
    case Std::kMonth: out += kMonths[f.month - 1].substr(0, 3); break;
    case Std::kNumMonth: append_padded(out, f.month, 0, '0'); break;
    case Std::kZeroMonth: append_padded(out, f.month, 2, '0'); break;
    case Std::kLongWeekDay: out += kDays[f.weekday]; break;
    case Std::kWeekDay: out += kDays[f.weekday].substr(0, 3); break;
    case Std::kDay: append_padded(out, f.day, 0, '0'); break;
    case Std::kUnderDay: append_padded(out, f.day, 2, ' '); break;
    case Std::kZeroDay: append_padded(out, f.day, 2, '0'); break;
    case Std::kUnderYearDay: append_padded(out, f.yday, 3, ' '); break;
    case Std::kZeroYearDay: append_padded(out, f.yday, 3, '0'); break;
    case Std::kHour: append_padded(out, f.hour, 2, '0'); break;
    case Std::kHour12: append_padded(out, hour12, 0, '0'); break;
    case Std::kZeroHour12: append_padded(out, hour12, 2, '0'); break;
    case Std::kMinute: append_padded(out, f.minute, 0, '0'); break;
    case Std::kZeroMinute: append_padded(out, f.minute, 2, '0'); break;
    case Std::kSecond: append_padded(out, f.second, 0, '0'); break;
    case Std::kZeroSecond: append_padded(out, f.second, 2, '0'); break;
    case Std::kLongYear: append_int(out, f.year, 4); break;
    case Std::kYear: append_padded(out, ((f.year % 100) + 100) % 100, 2, '0'); break;
    case Std::kPM: out += f.hour >= 12 ? "PM" : "AM"; break;
    case Std::kpm: out += f.hour >= 12 ? "pm" : "am"; break;
    case Std::kTZ: out += "UTC"; break;
    case Std::kZuluTZ: out += 'Z'; break;
    case Std::kNumTZ:  // -07:00 -> +00:00 and so on
      for (char ch : token) out += ch == '-' ? '+' : ch == ':' ? ':' : '0';
      break;
    case Std::kFrac0: append_fraction(out, f.nanos, token, false); break;
    case Std::kFrac9: append_fraction(out, f.nanos, token, true); break;
  }
  // clang-format on
}

Fields fields_of(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{floor<nanoseconds>(t - day)};
  Fields f{};
  f.year = static_cast<int>(ymd.year());
  f.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  f.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  f.yday = static_cast<int>((day - sys_days{ymd.year() / January / 1}).count()) + 1;
  f.weekday = static_cast<int>(weekday{day}.c_encoding());
  f.hour = static_cast<int>(hms.hours().count());
  f.minute = static_cast<int>(hms.minutes().count());
  f.second = static_cast<int>(hms.seconds().count());
  f.nanos = static_cast<long>(hms.subseconds().count());
  return f;
}

}  // namespace

std::string format_go_time(std::chrono::system_clock::time_point t, std::string_view layout) {
  Fields f = fields_of(t);
  std::string out;
  for (size_t i = 0; i < layout.size();) {
    Chunk c = token_at(layout, i);
    if (c.std == Std::kNone) {
      out += layout[i++];
      continue;
    }
    append_token(out, c, layout.substr(i, c.len), f);
    i += c.len;
  }
  return out;
}

}  // namespace autopilot::tmplfuncs
