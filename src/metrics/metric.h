// The four Prometheus metric kinds, each one series (one set of label
// values). Plain values updated on the loop; a Registry (metrics/registry.h)
// groups them into named families and writes them out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace autopilot::metrics {

enum class Type { kCounter, kGauge, kHistogram, kSummary };

std::string_view type_name(Type type);  // "counter", ... as in the text format's TYPE line

// Goes only up; add() refuses a negative value (ContainerPilot panics on one).
class Counter {
 public:
  void inc() { value_ += 1; }
  Result<void> add(double v);
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Gauge {
 public:
  void set(double v) { value_ = v; }
  void add(double v) { value_ += v; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

// The Prometheus Go client's DefBuckets.
const std::vector<double>& default_buckets();

// Cumulative buckets by upper bound (le), plus sum and count. The +Inf bucket
// is the count.
class Histogram {
 public:
  // `bounds` strictly increasing and finite (Registry checks).
  explicit Histogram(const std::vector<double>& bounds) : bounds_(&bounds), counts_(bounds.size(), 0) {}
  void observe(double v);
  const std::vector<double>& bounds() const { return *bounds_; }
  // Observations <= bounds()[i], cumulative.
  std::uint64_t cumulative(size_t i) const;
  // Observations in bucket i alone: above bounds()[i-1], at most bounds()[i].
  std::uint64_t bucket(size_t i) const { return counts_[i]; }
  double sum() const { return sum_; }
  std::uint64_t count() const { return count_; }

 private:
  const std::vector<double>* bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// The Go client's default objectives: quantile -> allowed rank error.
struct Objective {
  double quantile;
  double error;
};
const std::vector<Objective>& default_objectives();

// Quantiles over the most recent kWindow observations, exact (rank error 0,
// inside every objective's margin), plus sum and count over all time. The
// Go client decays its sample over 10 minutes instead; a window by count
// keeps memory bounded without a timer.
class Summary {
 public:
  static constexpr size_t kWindow = 1024;
  void observe(double v);
  // The q-quantile of the window (nearest rank); NaN when nothing was observed.
  double quantile(double q) const;
  // quantile() of each default objective, in order, from one sort of the window.
  std::vector<double> quantiles() const;
  double sum() const { return sum_; }
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> window_;  // ring buffer, at most kWindow
  size_t next_ = 0;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace autopilot::metrics
