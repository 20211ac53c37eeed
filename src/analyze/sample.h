// The values behind one distribution. Exact by default: every value is kept
// and percentiles are nearest-rank. A bounded sample (live mode, where input
// never ends) keeps its first values exactly and, past that, counts values in
// log-scaled buckets: each power of two is cut into 2^precision buckets, and
// a percentile is the middle of its bucket, within 2^-(precision+1) of the
// exact value (precision 6: 0.8%). Memory follows the spread of the values,
// not their number.
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
  // sparse: keep only buckets that hold values (less memory for values
  // spread wide, a binary search per value instead of one step).
  explicit Sample(std::size_t exact_limit, int precision = 6, bool sparse = false);
  Sample(Sample&&) noexcept;
  Sample& operator=(Sample&&) noexcept;
  ~Sample();

  void push(Nanos v) {
    if (hist_ || kept() >= limit_) {
      push_counted(v);
    } else if (!wide_ && v == static_cast<std::int32_t>(v)) {
      narrow_.push_back(static_cast<std::int32_t>(v));
    } else {
      push_wide(v);
    }
  }
  // Takes every value of `other`.
  void merge(Sample&& other);
  std::uint64_t count() const { return hist_ ? counted() : kept(); }
  bool exact() const { return !hist_; }
  bool empty() const { return !hist_ && kept() == 0; }
  // The distribution; reorders the kept values.
  Distribution summarize();
  void shrink() {
    narrow_.shrink_to_fit();
    values_.shrink_to_fit();
  }

 private:
  struct Histogram;
  void push_counted(Nanos v);
  void push_wide(Nanos v);
  void widen();
  std::size_t kept() const { return wide_ ? values_.size() : narrow_.size(); }
  std::uint64_t counted() const;
  void to_histogram();

  // Exact values: 32 bits each while they all fit (most durations and
  // offsets in nanoseconds do, up to ±2.1 s), else 64.
  std::vector<std::int32_t> narrow_;
  std::vector<Nanos> values_;
  bool wide_ = false;
  std::size_t limit_ = std::numeric_limits<std::size_t>::max();
  int precision_ = 6;
  bool sparse_ = false;
  std::unique_ptr<Histogram> hist_;
};

}  // namespace ta
