// Trace ids that name one trace though they differ (shared/FORMATS.md,
// Zipkin's non-strict rule): zipkin-js writes a trace's id as 32 hex digits
// or as their low 16, and Zipkin writes a 32-digit id whose high 16 are zero
// as the low 16. So a short id (16 digits, or 32 with a zero high half) joins
// the one long id (32 digits, high half not zero) that ends in it; when
// several long ids end in it, it joins none (and says so), and long ids
// never join each other. A 16-digit id and the 32-digit one of zeros and it
// are one id whatever else ends in it. Ids are compared as they are given:
// adapters have lowered theirs, and a native id keeps its case.
//
// The batch store applies the rule to the whole input; live mode is to call
// trace_id_halves on each new trace id and join_low_half on the ids met with
// one low half.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ta {

struct TraceIdHalves {
  enum Shape : std::uint8_t { kOther, kShort, kLong };
  Shape shape = kOther;
  std::string_view low;  // the last 16 digits, as written (kShort, kLong)
};

// kShort: 16 hex digits, or 32 whose first 16 are '0'; kLong: 32 others;
// kOther: any other id. Digits in either case.
TraceIdHalves trace_id_halves(std::string_view id);

// Which of `ids` (distinct, all of one low half, in any order) joins which:
// into[i] is the index of the id that ids[i] joins, or i when it stays. A
// note for each id joined, and one when short ids stay apart because
// several long ids end in them, is appended to `notes`.
void join_low_half(std::span<const std::string_view> ids, std::span<std::uint32_t> into,
                   std::vector<std::string>& notes);

// Whether `--trace asked` names the trace written as `id`: the same id, or a
// short id of its low half (the 16 digits a joined trace was also logged
// under, or a 16/32 form of one short id).
bool trace_id_names(std::string_view asked, std::string_view id);

// "trace 48485a3953bb6124 (16 hex) joined to 463ac35c9f6413ad48485a3953bb6124
// (32 hex), whose low 64 bits it is".
std::string joined_trace_note(std::string_view from, std::string_view into);

// Notes from threads that each saw some of the ids: all counted, the first
// `keep` in text order listed, so that they read the same whatever the
// threads or the input's order.
struct TraceJoinNotes {
  std::uint64_t count = 0;
  std::vector<std::string> first;
  std::size_t keep = 20;
  void add(std::string note);
  void take(TraceJoinNotes& other);  // merges another thread's
  void trim();                       // the first `keep`, in order
  // The first `keep` notes in order, then one saying how many more there are.
  std::vector<std::string> lines() const;
};

}  // namespace ta
