#include "metrics/metric.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace autopilot::metrics {

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
    case Type::kSummary: return "summary";
  }
  return "untyped";
}

Result<void> Counter::add(double v) {
  if (!(v >= 0)) return make_error("a counter cannot decrease (adding " + std::to_string(v) + ")");
  value_ += v;
  return {};
}

const std::vector<double>& default_buckets() {
  static const std::vector<double> kBuckets{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return kBuckets;
}

void Histogram::observe(double v) {
  // The first bucket whose bound is >= v; past the last one only +Inf counts it.
  auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
  if (it != bounds_->end()) ++counts_[it - bounds_->begin()];
  sum_ += v;
  ++count_;
}

std::uint64_t Histogram::cumulative(size_t i) const {
  std::uint64_t n = 0;
  for (size_t k = 0; k <= i && k < counts_.size(); ++k) n += counts_[k];
  return n;
}

const std::vector<Objective>& default_objectives() {
  static const std::vector<Objective> kObjectives{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}};
  return kObjectives;
}

void Summary::observe(double v) {
  if (window_.size() < kWindow) {
    window_.push_back(v);
  } else {
    window_[next_] = v;
    next_ = (next_ + 1) % kWindow;
  }
  sum_ += v;
  ++count_;
}

double Summary::quantile(double q) const {
  if (window_.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> sorted = window_;
  // Nearest rank: the smallest value with at least q of the window at or below it.
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  size_t index = rank == 0 ? 0 : std::min(rank, sorted.size()) - 1;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(index), sorted.end());
  return sorted[index];
}

}  // namespace autopilot::metrics
