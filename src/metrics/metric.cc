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

namespace {
// Nearest rank: the index of the smallest value with at least q of n at or below it.
size_t rank_index(double q, size_t n) {
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
  return rank == 0 ? 0 : std::min(rank, n) - 1;
}
}  // namespace

double Summary::quantile(double q) const {
  if (window_.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> sorted = window_;
  size_t index = rank_index(q, sorted.size());
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(index), sorted.end());
  return sorted[index];
}

std::vector<double> Summary::quantiles() const {
  const auto& objectives = default_objectives();
  std::vector<double> out(objectives.size(), std::numeric_limits<double>::quiet_NaN());
  if (window_.empty()) return out;
  std::vector<double> sorted = window_;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < objectives.size(); ++i) out[i] = sorted[rank_index(objectives[i].quantile, sorted.size())];
  return out;
}

}  // namespace autopilot::metrics
