#include "analyze/sample.h"

#include <algorithm>
#include <bit>

namespace ta {

Distribution distribution(std::vector<Nanos>& v) {
  Distribution d;
  d.count = v.size();
  if (v.empty()) return d;
  const std::size_t n = v.size();
  // Selection instead of a full sort: each rank partitions the rest, so
  // the three cost about 2n steps together.
  auto rank = [&](std::size_t p, std::size_t from) {
    const std::size_t k = std::max<std::size_t>((p * n + 99) / 100, 1) - 1;  // ceil(p% of n), 0-based
    std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return k;
  };
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  d.min = *lo;
  d.max = *hi;
  const std::size_t k50 = rank(50, 0);
  d.p50 = v[k50];
  const std::size_t k90 = rank(90, k50);
  d.p90 = v[k90];
  d.p99 = v[rank(99, k90)];
  return d;
}

namespace {

// Magnitudes below 128 have a bucket each; above, a power of two is cut
// into 64 buckets.
std::uint32_t bucket_of(std::uint64_t m) {
  if (m < 128) return static_cast<std::uint32_t>(m);
  const int e = 63 - std::countl_zero(m);  // >= 7
  const auto sub = static_cast<std::uint32_t>((m >> (e - 6)) & 63);
  return 128 + static_cast<std::uint32_t>(e - 7) * 64 + sub;
}

// The middle of a bucket.
std::uint64_t middle_of(std::uint32_t b) {
  if (b < 128) return b;
  const int e = 7 + static_cast<int>((b - 128) / 64);
  const std::uint64_t sub = (b - 128) % 64;
  const std::uint64_t low = (64 + sub) << (e - 6);
  return low + ((std::uint64_t{1} << (e - 6)) >> 1);
}

}  // namespace

struct Sample::Histogram {
  // Counts for buckets [lo, lo + counts.size()), one side per sign.
  struct Side {
    std::uint32_t lo = 0;
    std::vector<std::uint64_t> counts;
    void add(std::uint32_t b, std::uint64_t n) {
      if (counts.empty()) {
        lo = b;
        counts.assign(1, 0);
      } else if (b < lo) {
        counts.insert(counts.begin(), lo - b, 0);
        lo = b;
      } else if (b >= lo + counts.size()) {
        counts.resize(b - lo + 1, 0);
      }
      counts[b - lo] += n;
    }
  };
  Side negative, positive;  // negative holds magnitudes of values < 0
  std::uint64_t count = 0;
  Nanos min = std::numeric_limits<Nanos>::max();
  Nanos max = std::numeric_limits<Nanos>::min();

  void add(Nanos v, std::uint64_t n = 1) {
    count += n;
    min = std::min(min, v);
    max = std::max(max, v);
    if (v < 0) {
      negative.add(bucket_of(0 - static_cast<std::uint64_t>(v)), n);
    } else {
      positive.add(bucket_of(static_cast<std::uint64_t>(v)), n);
    }
  }
  void add(const Histogram& o) {
    if (o.count == 0) return;
    count += o.count;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    for (std::size_t i = 0; i < o.negative.counts.size(); ++i)
      if (o.negative.counts[i]) negative.add(o.negative.lo + static_cast<std::uint32_t>(i), o.negative.counts[i]);
    for (std::size_t i = 0; i < o.positive.counts.size(); ++i)
      if (o.positive.counts[i]) positive.add(o.positive.lo + static_cast<std::uint32_t>(i), o.positive.counts[i]);
  }
  // The value of rank k (1-based) in ascending order.
  Nanos at_rank(std::uint64_t k) const {
    std::uint64_t seen = 0;
    auto clamp = [&](Nanos v) { return std::clamp(v, min, max); };
    for (std::size_t i = negative.counts.size(); i-- > 0;) {
      seen += negative.counts[i];
      if (seen >= k) {
        const std::uint64_t m = middle_of(negative.lo + static_cast<std::uint32_t>(i));
        return clamp(m >= std::uint64_t{1} << 63 ? min : -static_cast<Nanos>(m));
      }
    }
    for (std::size_t i = 0; i < positive.counts.size(); ++i) {
      seen += positive.counts[i];
      if (seen >= k) {
        const std::uint64_t m = middle_of(positive.lo + static_cast<std::uint32_t>(i));
        return clamp(m >= std::uint64_t{1} << 63 ? max : static_cast<Nanos>(m));
      }
    }
    return max;
  }
};

Sample::Sample() = default;
Sample::Sample(std::size_t exact_limit) : limit_(exact_limit) {}
Sample::~Sample() = default;
Sample::Sample(Sample&&) noexcept = default;
Sample& Sample::operator=(Sample&&) noexcept = default;

void Sample::to_histogram() {
  hist_ = std::make_unique<Histogram>();
  for (Nanos v : values_) hist_->add(v);
  values_ = {};
}

void Sample::push_counted(Nanos v) {
  if (!hist_) to_histogram();
  hist_->add(v);
}

void Sample::merge(Sample&& o) {
  if (!hist_ && !o.hist_ && values_.size() + o.values_.size() <= limit_) {
    if (values_.empty()) {
      values_ = std::move(o.values_);
    } else {
      values_.insert(values_.end(), o.values_.begin(), o.values_.end());
    }
  } else {
    if (!hist_) to_histogram();
    for (Nanos v : o.values_) hist_->add(v);
    if (o.hist_) hist_->add(*o.hist_);
  }
  o = Sample(o.limit_);
}

std::uint64_t Sample::counted() const { return hist_->count; }

Distribution Sample::summarize() {
  if (!hist_) return distribution(values_);
  Distribution d;
  d.count = hist_->count;
  if (d.count == 0) return d;
  auto rank = [&](std::uint64_t p) { return std::max<std::uint64_t>((p * d.count + 99) / 100, 1); };
  d.min = hist_->min;
  d.max = hist_->max;
  d.p50 = hist_->at_rank(rank(50));
  d.p90 = hist_->at_rank(rank(90));
  d.p99 = hist_->at_rank(rank(99));
  return d;
}

}  // namespace ta
