// The calls from one caller to one callee, as analysis tallies them and as
// the report's list of pairs keeps them when they are one call each.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>

#include "analyze/sample.h"
#include "util/basic_types.h"

namespace ta {

// The calls from one caller to one callee. A fleet has hundreds of
// thousands of pairs with a call or a few each: a pair's first call is kept
// as its values (16 bytes a pair: its gap in 32 bits, as nearly every gap
// fits, ±2.1 s in nanoseconds; one that does not is listed at once); from
// its second, its values are listed in one small block (kFewCalls at most),
// and past that in two samples. Its calls are counted in place too, so that
// counting a fleet's pairs reads none of their blocks.
class EdgeAcc {
 public:
  struct Samples {
    Sample client, gap;
    std::uint64_t errors = 0;
  };
  // A few calls' values: the client times, then room for as many gaps.
  struct Few {
    std::uint32_t calls = 0, gaps = 0, room = 0;
    std::uint64_t errors = 0;
    Nanos* client() { return reinterpret_cast<Nanos*>(this + 1); }
    Nanos* gap() { return client() + room; }
  };
  static constexpr std::uint32_t kFewCalls = 32;

  EdgeAcc() = default;
  EdgeAcc(EdgeAcc&& o) noexcept { take(o); }
  EdgeAcc& operator=(EdgeAcc&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  EdgeAcc(const EdgeAcc&) = delete;
  EdgeAcc& operator=(const EdgeAcc&) = delete;
  ~EdgeAcc() { release(); }

  std::uint64_t calls() const {
    switch (state_) {
      case kOne: return 1;
      case kFew: return calls_;
      case kSeveral: return calls_ != kCountedCalls ? calls_ : u_.samples->client.count();
      default: return 0;
    }
  }
  std::uint64_t errors() const {
    switch (state_) {
      case kOne: return error_;
      case kFew: return u_.few->errors;
      case kSeveral: return u_.samples->errors;
      default: return 0;
    }
  }
  // Frees the values kept (the pair is left with none).
  void clear() { release(); }
  // Null unless the pair has more than kFewCalls calls.
  Samples* samples() const { return state_ == kSeveral ? u_.samples : nullptr; }
  // Null unless the pair has 2 to kFewCalls calls.
  Few* few() const { return state_ == kFew ? u_.few : nullptr; }
  // The one call's values (calls() == 1; listed when its gap is wide).
  Nanos client() const { return state_ == kFew ? u_.few->client()[0] : u_.client; }
  bool has_gap() const { return state_ == kFew ? u_.few->gaps > 0 : has_gap_; }  // its callee logged its span
  Nanos gap() const { return state_ == kFew ? u_.few->gap()[0] : Nanos{gap_}; }

  // Brings what a call will update into the cache, in two steps: the block
  // the values are in, then (that read) where the call's values go.
  void prefetch_block() const {
    if (state_ == kFew) {
      __builtin_prefetch(u_.few);
    } else if (state_ == kSeveral) {
      const auto* at = reinterpret_cast<const char*>(u_.samples);
      for (std::size_t b = 0; b < sizeof(Samples); b += 64) __builtin_prefetch(at + b);
    }
  }
  void prefetch_values(Nanos c, Nanos g) const {
    if (state_ == kFew) {
      __builtin_prefetch(u_.few->client() + u_.few->calls);
      __builtin_prefetch(u_.few->gap() + u_.few->gaps);
    } else if (state_ == kSeveral) {
      u_.samples->client.prefetch(c);
      u_.samples->gap.prefetch(g);
    }
  }

  // One call; samples of at most `limit` exact values.
  void add(Nanos c, bool logged, Nanos g, bool error, std::size_t limit) {
    switch (state_) {
      case kEmpty:
        if (!logged || (g >= std::numeric_limits<std::int32_t>::min() && g <= std::numeric_limits<std::int32_t>::max())) {
          state_ = kOne;
          u_.client = c;
          has_gap_ = logged;
          gap_ = static_cast<std::int32_t>(logged ? g : 0);
          error_ = error;
          return;
        }
        u_.few = new_few(2);  // a gap too wide to keep here
        state_ = kFew;
        calls_ = 0;
        break;
      case kOne: {
        Few* f = new_few(2);
        f->client()[f->calls++] = u_.client;
        if (has_gap_) f->gap()[f->gaps++] = gap_;
        f->errors = error_;
        u_.few = f;
        state_ = kFew;
        calls_ = 1;
        break;
      }
      case kFew:
        if (u_.few->calls == u_.few->room) grow(limit);
        break;
      default: break;
    }
    if (state_ == kFew) {
      Few* f = u_.few;
      f->client()[f->calls++] = c;
      if (logged) f->gap()[f->gaps++] = g;
      f->errors += error;
      ++calls_;
      return;
    }
    calls_ += calls_ != kCountedCalls;
    u_.samples->client.push(c);
    if (logged) u_.samples->gap.push(g);
    u_.samples->errors += error;
  }
  void merge(EdgeAcc& o) {
    constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();
    if (o.state_ == kEmpty) return;
    if (o.state_ > state_) {  // the larger holder takes the smaller one's values
      EdgeAcc mine = std::move(*this);
      take(o);
      absorb(mine, kAll);
      return;
    }
    if (o.state_ == kSeveral) {
      calls_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{calls_} + o.calls_, kCountedCalls));
      u_.samples->client.merge(std::move(o.u_.samples->client));
      u_.samples->gap.merge(std::move(o.u_.samples->gap));
      u_.samples->errors += o.u_.samples->errors;
      return;
    }
    absorb(o, kAll);
  }

 private:
  enum : std::uint8_t { kEmpty = 0, kOne = 1, kFew = 2, kSeveral = 3 };
  static Few* new_few(std::uint32_t room) {
    void* at = ::operator new(sizeof(Few) + 2 * std::size_t{room} * sizeof(Nanos));
    Few* f = new (at) Few;
    f->room = room;
    return f;
  }
  // A full block: one twice its room, or past kFewCalls, two samples.
  void grow(std::size_t limit) {
    Few* f = u_.few;
    if (f->room < kFewCalls) {
      Few* g = new_few(f->room * 2);
      std::copy(f->client(), f->client() + f->calls, g->client());
      std::copy(f->gap(), f->gap() + f->gaps, g->gap());
      g->calls = f->calls;
      g->gaps = f->gaps;
      g->errors = f->errors;
      ::operator delete(f);
      u_.few = g;
      return;
    }
    auto* samples = new Samples{Sample(limit), Sample(limit), f->errors};
    for (std::uint32_t i = 0; i < f->calls; ++i) samples->client.push(f->client()[i]);
    for (std::uint32_t i = 0; i < f->gaps; ++i) samples->gap.push(f->gap()[i]);
    ::operator delete(f);
    u_.samples = samples;
    state_ = kSeveral;
  }
  // Adds o's calls (o holds one call or a few).
  void absorb(EdgeAcc& o, std::size_t limit) {
    if (o.state_ == kOne) {
      add(o.u_.client, o.has_gap_, o.gap_, o.error_, limit);
    } else if (o.state_ == kFew) {
      Few* f = o.u_.few;
      for (std::uint32_t i = 0; i < f->calls; ++i) {
        const bool logged = i < f->gaps;  // gaps are listed apart: the first `gaps` calls take them
        add(f->client()[i], logged, logged ? f->gap()[i] : 0, false, limit);
      }
      if (state_ == kFew) u_.few->errors += f->errors;
      if (state_ == kSeveral) u_.samples->errors += f->errors;
    }
  }
  void release() {
    if (state_ == kFew) ::operator delete(u_.few);
    if (state_ == kSeveral) delete u_.samples;
    state_ = kEmpty;
  }
  // Every field copied as it is (the union's either member), with no
  // branch: entries are moved a few times each when a table is settled.
  void take(EdgeAcc& o) {
    u_ = o.u_;
    calls_ = o.calls_;
    state_ = o.state_;
    has_gap_ = o.has_gap_;
    error_ = o.error_;
    o.state_ = kEmpty;
  }

  union {
    Nanos client;      // kOne: the call's client time
    Few* few;          // kFew: owned
    Samples* samples;  // kSeveral: owned
  } u_{0};
  static constexpr std::uint32_t kCountedCalls = std::numeric_limits<std::uint32_t>::max();  // or more
  union {
    std::int32_t gap_ = 0;  // kOne
    std::uint32_t calls_;   // kFew, kSeveral: up to kCountedCalls (more are counted in the samples)
  };
  std::uint8_t state_ = kEmpty;
  bool has_gap_ = false;  // kOne
  bool error_ = false;    // kOne
};
static_assert(sizeof(EdgeAcc) == 16);

}  // namespace ta
