// Live mode's words for a written trace: why it was written, and how many
// were, for the writers (report/) and the live driver (live/) alike.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ta {

// Why a trace was written.
enum class Emit : std::uint8_t {
  kComplete,  // root and every expected span arrived
  kWindow,    // incomplete; the watermark passed its last activity
  kEvicted,   // incomplete; --max-open-traces reached, it was the least recently active
  kEnd,       // incomplete; the input ended (or the run was stopped)
};
inline constexpr int kEmitKinds = 4;
inline std::string_view emit_name(Emit why) {
  switch (why) {
    case Emit::kComplete: return "complete";
    case Emit::kWindow: return "window";
    case Emit::kEvicted: return "evicted";
    case Emit::kEnd: return "end";
  }
  return "?";
}

struct LiveCounts {
  std::array<std::uint64_t, kEmitKinds> emitted{};
  std::uint64_t late = 0;      // spans of a trace already written: counted, not merged
  std::uint64_t dropped = 0;   // spans over --max-trace-spans
  std::uint64_t open_peak = 0;
  // --max-labels: labels met past it, and tallies of label pairs past it
  // (each time), shown as (other).
  std::uint64_t labels_over = 0;
  std::uint64_t pairs_over = 0;
  // CPU time of each thread (ns): what bounds the stream's speed is the
  // busiest one.
  std::int64_t read_cpu = 0, parse_cpu = 0, assemble_cpu = 0, write_cpu = 0;
};

}  // namespace ta
