#include "metrics/record.h"

#include <cctype>
#include <cstdlib>

namespace autopilot::metrics {

Result<void> record_value(Registry& registry, const std::string& name, double value) {
  FamilyBase* f = registry.find(name);
  if (!f) return make_error("no metric \"" + name + "\"");
  if (!f->label_names().empty()) return make_error("metric \"" + name + "\" has labels");
  switch (f->type()) {
    case Type::kCounter: {
      auto r = static_cast<Family<Counter>*>(f)->get().add(value);
      if (!r) return make_error("metric \"" + name + "\": " + r.error().message);
      return {};
    }
    case Type::kGauge: static_cast<Family<Gauge>*>(f)->get().set(value); return {};
    case Type::kHistogram: static_cast<Family<Histogram>*>(f)->get().observe(value); return {};
    case Type::kSummary: static_cast<Family<Summary>*>(f)->get().observe(value); return {};
  }
  return {};
}

std::optional<double> parse_sample(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  // Hexadecimal floats are strtod's, not Go's.
  for (char c : text)
    if (c == 'x' || c == 'X') return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

}  // namespace autopilot::metrics
