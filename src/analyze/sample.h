// The values behind one distribution. Exact by default: every value is kept
// and percentiles are nearest-rank. A bounded sample (live mode, where input
// never ends) keeps its first values exactly and, past that, counts values in
// log-scaled buckets 1/64 of a power of two wide, so a percentile is within
// 0.8% of the exact one while memory stays a few kilobytes.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "store/span.h"

namespace ta {

// Exact nearest-rank percentiles: pN is the smallest value with at least N%
// of the values at or below it.
struct Distribution {
  std::uint64_t count = 0;
  Nanos min = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Distribution distribution(std::vector<Nanos>& values);  // reorders values

class Sample {
 public:
  Sample();
  explicit Sample(std::size_t exact_limit);
  Sample(Sample&&) noexcept;
  Sample& operator=(Sample&&) noexcept;
  ~Sample();

  void push(Nanos v) {
    if (!hist_ && values_.size() < limit_) {
      values_.push_back(v);
    } else {
      push_counted(v);
    }
  }
  // Takes every value of `other`.
  void merge(Sample&& other);
  std::uint64_t count() const { return hist_ ? counted() : values_.size(); }
  bool exact() const { return !hist_; }
  // The distribution; reorders the kept values.
  Distribution summarize();
  void shrink() { values_.shrink_to_fit(); }

 private:
  struct Histogram;
  void push_counted(Nanos v);
  std::uint64_t counted() const;
  void to_histogram();

  std::vector<Nanos> values_;
  std::size_t limit_ = std::numeric_limits<std::size_t>::max();
  std::unique_ptr<Histogram> hist_;
};

}  // namespace ta
