// Metrics: counters, gauges, histograms and summaries in named families with
// labels, written out in the Prometheus text format 0.0.4 or OpenMetrics
// 1.0.0. The registry is an
// object handed to whoever counts (through the Wiring), never a global.
// Knows nothing of HTTP, jobs or the catalog. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "metrics/metric.h"

namespace autopilot::metrics {

// Prometheus' naming rules: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label
// names [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__".
bool is_valid_metric_name(std::string_view name);
bool is_valid_label_name(std::string_view name);

// The two exposition formats. OpenMetrics differs from the text format in
// what a scraper sees: a counter family is named without `_total` and its
// sample with it, HELP also escapes ", `le` and `quantile` values are
// canonical floats ("1.0"), and the output ends with "# EOF".
enum class Format { kText, kOpenMetrics };

// The Content-Type of each.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr const char* kOpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

// The format an Accept header asks for: OpenMetrics when it lists
// application/openmetrics-text with a non-zero q, else the text format.
Format negotiate_format(std::string_view accept);

// The text format's escaping: HELP escapes \ and newline; label values also ".
std::string escape_help(std::string_view help);
std::string escape_label_value(std::string_view value);
// A sample value as Prometheus writes it: shortest round-trip form, +Inf, -Inf, NaN.
std::string format_value(double v);

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends HELP, TYPE and every series; nothing for a family without series.
  virtual void write(std::string& out, Format format) const = 0;

  // `{a="x",b="y"}` (with `extra` appended, e.g. le="0.5"), or "" for no labels.
  std::string label_text(const std::vector<std::string>& values, std::string_view extra = {}) const;
  // The same, appended to `out`.
  void append_labels(std::string& out, const std::vector<std::string>& values, std::string_view extra = {}) const;
  void write_header(std::string& out, Format format) const;
  // The name samples of this family are written under before any suffix:
  // the name, except an OpenMetrics counter's, which gets `_total`.
  std::string sample_name(Format format) const;

 private:
  std::string name_, help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// One family of metric M: a series per distinct set of label values, written
// sorted by them. A family without labels has its one series from the start.
template <class M>
class Family : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::function<M()> make)
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), make_(std::move(make)) {
    if (this->label_names().empty()) with({});
  }

  // The series for these label values (one per label name, in order),
  // created at zero on first use.
  M& with(const std::vector<std::string>& values) {
    auto it = series_.find(values);
    if (it == series_.end()) it = series_.emplace(values, make_()).first;
    return it->second;
  }
  M& get() { return with({}); }
  // Drops every series (for gauges rebuilt at each scrape).
  void clear() { series_.clear(); }
  const std::map<std::vector<std::string>, M>& series() const { return series_; }

  void write(std::string& out, Format format) const override;

 private:
  std::function<M()> make_;
  std::map<std::vector<std::string>, M> series_;
};

class Registry {
 public:
  // Each fails on an invalid or already registered name, an invalid or
  // reserved label name (`le` in a histogram, `quantile` in a summary), or
  // bucket bounds that are not finite and strictly increasing.
  Result<Family<Counter>*> counter(std::string name, std::string help, std::vector<std::string> labels = {});
  Result<Family<Gauge>*> gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Result<Family<Histogram>*> histogram(std::string name, std::string help, std::vector<std::string> labels = {},
                                       std::vector<double> bounds = default_buckets());
  Result<Family<Summary>*> summary(std::string name, std::string help, std::vector<std::string> labels = {});

  FamilyBase* find(const std::string& name) const;

  // Called at the start of every expose(), in order: metrics computed only
  // when someone scrapes (process memory, open fds), so nothing runs between
  // scrapes.
  void on_scrape(std::function<void()> collect) { collectors_.push_back(std::move(collect)); }

  // Every family, sorted by name, in the text format 0.0.4 or OpenMetrics 1.0.0.
  std::string expose(Format format = Format::kText);

 private:
  Result<void> check_new(const std::string& name, const std::vector<std::string>& labels,
                         std::string_view reserved) const;

  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> collectors_;
  // Bucket bounds by histogram family: each series points at its family's.
  std::vector<std::unique_ptr<std::vector<double>>> bounds_;
  size_t last_size_ = 0;  // of the last expose(), to size the next
};

// Writers of one series of each kind (name, label text, values).
void write_series(const FamilyBase& f, std::string& out, Format format, const std::vector<std::string>& values,
                  const Counter& m);
void write_series(const FamilyBase& f, std::string& out, Format format, const std::vector<std::string>& values,
                  const Gauge& m);
void write_series(const FamilyBase& f, std::string& out, Format format, const std::vector<std::string>& values,
                  const Histogram& m);
void write_series(const FamilyBase& f, std::string& out, Format format, const std::vector<std::string>& values,
                  const Summary& m);

template <class M>
void Family<M>::write(std::string& out, Format format) const {
  if (series_.empty()) return;
  write_header(out, format);
  for (const auto& [values, m] : series_) write_series(*this, out, format, values, m);
}

}  // namespace autopilot::metrics
