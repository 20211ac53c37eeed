// The units every stage shares: times, text references, interned labels.
#pragma once

#include <cstdint>

namespace ta {

// All times are integer nanoseconds since the epoch: exact for every input
// unit (s, ms, µs, ns) and fractional milliseconds, and int64 holds epoch
// nanoseconds until the year 2262.
using Nanos = std::int64_t;

inline constexpr std::uint32_t kNone = 0xffffffffu;
inline constexpr std::int16_t kNoCode = -1;

// Bytes held in a trace's text arena.
struct TextRef {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};

// An interned label (host, service, operation, group value); 0 is "".
using Symbol = std::uint32_t;

}  // namespace ta
