#include "metrics/registry.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include <iterator>

#include <fmt/format.h>

namespace autopilot::metrics {
namespace {

bool is_name_char(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool is_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!is_name_char(name[i], i == 0, colon)) return false;
  return true;
}

std::string escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (quote && c == '"') out += "\\\"";
    else out += c;
  }
  return out;
}

// An `le` or `quantile` label value: OpenMetrics wants the canonical float
// ("1.0", not "1"), as the Go client writes it.
std::string bound_text(double v, Format format) {
  std::string text = format_value(v);
  if (format == Format::kOpenMetrics && std::isfinite(v) &&
      text.find_first_of(".eE") == std::string::npos)
    text += ".0";
  return text;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// A sample value. Whole numbers below 1e15 (counts, bucket totals, most
// counters) go through to_chars on an integer, which prints what the
// shortest round-trip form would ("3", "1024") at a fraction of the cost.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v > -1e15 && v < 1e15 && v == std::trunc(v) && !(v == 0 && std::signbit(v))) {
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v)).ptr;
    out.append(buf, end);
  } else {
    char buf[32];
    auto end = fmt::format_to_n(buf, sizeof buf, "{}", v).out;
    out.append(buf, end);
  }
}

// A series' labels without the closing brace (`{a="x",b="y"`), or "" when it
// has none: computed once per series, then shared by every sample of it.
std::string series_prefix(const FamilyBase& f, const std::vector<std::string>& values) {
  std::string prefix;
  if (values.empty()) return prefix;
  f.append_labels(prefix, values);
  prefix.pop_back();  // the '}'
  return prefix;
}

// One sample line: name, suffix, the series' labels (with `extra`), value.
// Written straight into `out`: a scrape writes hundreds, so no temporaries.
void write_sample(std::string& out, std::string_view name, std::string_view suffix, std::string_view prefix,
                  std::string_view extra, double v) {
  out += name;
  out += suffix;
  if (!prefix.empty()) {
    out += prefix;
    if (!extra.empty()) {
      out += ',';
      out += extra;
    }
    out += '}';
  } else if (!extra.empty()) {
    out += '{';
    out += extra;
    out += '}';
  }
  out += ' ';
  append_value(out, v);
  out += '\n';
}

// The `le` labels of a histogram's buckets in one format. Most families share
// the default bounds, so the texts of the last bounds seen are kept and only
// rebuilt when a family with other bounds is written.
const std::vector<std::string>& bucket_labels(const std::vector<double>& bounds, Format format) {
  struct Cache {
    std::vector<double> bounds;
    std::vector<std::string> labels;
    bool valid = false;
  };
  thread_local Cache caches[2];
  Cache& c = caches[format == Format::kOpenMetrics ? 1 : 0];
  if (!c.valid || c.bounds != bounds) {
    c.bounds = bounds;
    c.labels.clear();
    for (double b : bounds) c.labels.push_back("le=\"" + bound_text(b, format) + '"');
    c.valid = true;
  }
  return c.labels;
}

}  // namespace

Format negotiate_format(std::string_view accept) {
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view entry = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    size_t semi = entry.find(';');
    if (!iequals(trim(entry.substr(0, semi)), "application/openmetrics-text")) continue;
    // A q of 0 means "not this one".
    bool refused = false;
    while (semi != std::string_view::npos) {
      entry = entry.substr(semi + 1);
      semi = entry.find(';');
      std::string_view param = trim(entry.substr(0, semi));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        std::string q(param.substr(2));
        char* end = nullptr;
        double value = std::strtod(q.c_str(), &end);
        refused = end != q.c_str() && value <= 0;
      }
    }
    if (!refused) return Format::kOpenMetrics;
  }
  return Format::kText;
}

bool is_valid_metric_name(std::string_view name) { return is_name(name, true); }
bool is_valid_label_name(std::string_view name) { return is_name(name, false) && name.substr(0, 2) != "__"; }

std::string escape_help(std::string_view help) { return escape(help, false); }
std::string escape_label_value(std::string_view value) { return escape(value, true); }

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string FamilyBase::label_text(const std::vector<std::string>& values, std::string_view extra) const {
  std::string out;
  append_labels(out, values, extra);
  return out;
}

void FamilyBase::append_labels(std::string& out, const std::vector<std::string>& values,
                               std::string_view extra) const {
  if (values.empty() && extra.empty()) return;
  out += '{';
  for (size_t i = 0; i < values.size() && i < label_names_.size(); ++i) {
    if (i) out += ',';
    out += label_names_[i];
    out += "=\"";
    for (char c : values[i]) {
      if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '"') out += "\\\"";
      else out += c;
    }
    out += '"';
  }
  if (!extra.empty()) {
    if (!values.empty()) out += ',';
    out += extra;
  }
  out += '}';
}

void FamilyBase::write_header(std::string& out, Format format) const {
  // An OpenMetrics counter family is named without its samples' `_total`.
  std::string_view family = name_;
  if (format == Format::kOpenMetrics && type_ == Type::kCounter && family.ends_with("_total"))
    family.remove_suffix(6);
  if (format == Format::kOpenMetrics) {
    if (!help_.empty()) {
      out += "# HELP ";
      out += family;
      out += ' ' + escape_label_value(help_) + '\n';
    }
    out += "# TYPE ";
    out += family;
    out += ' ' + std::string(type_name(type_)) + '\n';
    return;
  }
  if (!help_.empty()) out += "# HELP " + name_ + ' ' + escape_help(help_) + '\n';
  out += "# TYPE " + name_ + ' ' + std::string(type_name(type_)) + '\n';
}

std::string FamilyBase::sample_name(Format format) const {
  if (format == Format::kOpenMetrics && type_ == Type::kCounter && !name_.ends_with("_total")) return name_ + "_total";
  return name_;
}

void write_series(const FamilyBase& f, std::string& out, Format format, const std::vector<std::string>& values,
                  const Counter& m) {
  bool add_total = format == Format::kOpenMetrics && !f.name().ends_with("_total");
  write_sample(out, f.name(), add_total ? "_total" : "", series_prefix(f, values), {}, m.value());
}

void write_series(const FamilyBase& f, std::string& out, Format, const std::vector<std::string>& values,
                  const Gauge& m) {
  write_sample(out, f.name(), {}, series_prefix(f, values), {}, m.value());
}

void write_series(const FamilyBase& f, std::string& out, Format format, const std::vector<std::string>& values,
                  const Histogram& m) {
  const std::string prefix = series_prefix(f, values);
  const auto& le = bucket_labels(m.bounds(), format);
  std::uint64_t cumulative = 0;
  for (size_t i = 0; i < le.size(); ++i) {
    cumulative += m.bucket(i);
    write_sample(out, f.name(), "_bucket", prefix, le[i], static_cast<double>(cumulative));
  }
  write_sample(out, f.name(), "_bucket", prefix, "le=\"+Inf\"", static_cast<double>(m.count()));
  write_sample(out, f.name(), "_sum", prefix, {}, m.sum());
  write_sample(out, f.name(), "_count", prefix, {}, static_cast<double>(m.count()));
}

void write_series(const FamilyBase& f, std::string& out, Format format, const std::vector<std::string>& values,
                  const Summary& m) {
  // The objectives are fixed, so are their labels: built once per format.
  static const auto labels = [] {
    std::array<std::vector<std::string>, 2> texts;
    for (const auto& o : default_objectives()) {
      texts[0].push_back("quantile=\"" + bound_text(o.quantile, Format::kText) + '"');
      texts[1].push_back("quantile=\"" + bound_text(o.quantile, Format::kOpenMetrics) + '"');
    }
    return texts;
  }();
  const auto& quantile_labels = labels[format == Format::kOpenMetrics ? 1 : 0];
  const std::string prefix = series_prefix(f, values);
  const auto values_at = m.quantiles();
  for (size_t i = 0; i < quantile_labels.size(); ++i)
    write_sample(out, f.name(), {}, prefix, quantile_labels[i], values_at[i]);
  write_sample(out, f.name(), "_sum", prefix, {}, m.sum());
  write_sample(out, f.name(), "_count", prefix, {}, static_cast<double>(m.count()));
}

Result<void> Registry::check_new(const std::string& name, const std::vector<std::string>& labels,
                                 std::string_view reserved) const {
  if (!is_valid_metric_name(name))
    return make_error("invalid metric name \"" + name + "\": use letters, digits, _ and :, not starting with a digit");
  if (families_.count(name)) return make_error("metric \"" + name + "\" is already registered");
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!is_valid_label_name(labels[i]) || labels[i] == reserved)
      return make_error("metric \"" + name + "\": invalid label name \"" + labels[i] + "\"");
    if (std::find(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(i), labels[i]) !=
        labels.begin() + static_cast<std::ptrdiff_t>(i))
      return make_error("metric \"" + name + "\": label \"" + labels[i] + "\" given twice");
  }
  return {};
}

Result<Family<Counter>*> Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  if (auto r = check_new(name, labels, {}); !r) return r.error();
  auto f = std::make_unique<Family<Counter>>(name, std::move(help), Type::kCounter, std::move(labels),
                                             [] { return Counter(); });
  auto* raw = f.get();
  families_.emplace(std::move(name), std::move(f));
  return raw;
}

Result<Family<Gauge>*> Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  if (auto r = check_new(name, labels, {}); !r) return r.error();
  auto f = std::make_unique<Family<Gauge>>(name, std::move(help), Type::kGauge, std::move(labels),
                                           [] { return Gauge(); });
  auto* raw = f.get();
  families_.emplace(std::move(name), std::move(f));
  return raw;
}

Result<Family<Histogram>*> Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                               std::vector<double> bounds) {
  if (auto r = check_new(name, labels, "le"); !r) return r.error();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i])))
      return make_error("metric \"" + name + "\": bucket bounds must be finite and strictly increasing");
  }
  bounds_.push_back(std::make_unique<std::vector<double>>(std::move(bounds)));
  const std::vector<double>* b = bounds_.back().get();
  auto f = std::make_unique<Family<Histogram>>(name, std::move(help), Type::kHistogram, std::move(labels),
                                               [b] { return Histogram(*b); });
  auto* raw = f.get();
  families_.emplace(std::move(name), std::move(f));
  return raw;
}

Result<Family<Summary>*> Registry::summary(std::string name, std::string help, std::vector<std::string> labels) {
  if (auto r = check_new(name, labels, "quantile"); !r) return r.error();
  auto f = std::make_unique<Family<Summary>>(name, std::move(help), Type::kSummary, std::move(labels),
                                             [] { return Summary(); });
  auto* raw = f.get();
  families_.emplace(std::move(name), std::move(f));
  return raw;
}

FamilyBase* Registry::find(const std::string& name) const {
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : it->second.get();
}

std::string Registry::expose(Format format) {
  for (const auto& collect : collectors_) collect();
  std::string out;
  out.reserve(last_size_ + last_size_ / 8);  // one allocation when the size holds steady
  for (const auto& [name, family] : families_) family->write(out, format);
  if (format == Format::kOpenMetrics) out += "# EOF\n";
  last_size_ = out.size();
  return out;
}

}  // namespace autopilot::metrics
