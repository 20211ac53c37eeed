// Live mode's core: spans come in one by one; a trace is assembled, analysed
// and handed to the sink as soon as it is complete (its root is present and
// every span named as a callee or a parent has arrived), or once the event-
// time watermark (latest timestamp seen minus the window) passes its last
// activity, or when too many traces are open. Memory holds only open traces.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <vector>

#include "analyze/emit.h"
#include "analyze/summary.h"
#include "assemble/trace.h"
#include "parse/span_record.h"
#include "store/span_store.h"

namespace ta {



struct LiveOptions {
  Nanos window = 30'000'000'000;
  std::size_t max_open_traces = 50'000;
  std::size_t max_trace_spans = 10'000'000;
  AssembleOptions assemble;
};



class LiveAssembler {
 public:
  // Called with each finished trace; the trace may be moved from.
  using Sink = std::function<void(ShownTrace& trace, Emit why)>;
  LiveAssembler(const LiveOptions& options, Sink sink);
  ~LiveAssembler();

  enum class Added { kSpan, kLate, kDropped };
  // Files one span; may write this and other traces through the sink.
  Added add(const SpanRecord& record, std::uint32_t file, std::uint32_t line);
  // Writes every open trace, in order of first appearance (end of input).
  void flush_all();

  std::size_t open_traces() const { return open_count_; }
  const LiveCounts& counts() const { return counts_; }
  const SymbolTable& symbols() const { return store_.symbols(); }
  Nanos watermark() const;
  // Span ids being tracked for open traces (0 once all are written).
  std::size_t tracked_ids() const;
  // Entries in the queue of open traces by last activity (some stale).
  std::size_t queued() const;

 private:
  struct Open;
  struct Due;
  class KeySet;
  void emit(std::uint32_t slot, Emit why);
  void expire();
  void evict();
  bool pop_due(Due& due);  // the least recently active open trace, entries refreshed

  LiveOptions options_;
  Sink sink_;
  SpanStore store_;
  std::vector<Open> open_;  // by store slot
  std::vector<Due> due_;    // min-heap by last activity (entries may be stale)
  std::unique_ptr<KeySet> ids_;      // (trace, span id) -> seen / expected
  std::unique_ptr<KeySet> emitted_;  // trace ids written lately, for late spans
  std::deque<std::pair<Nanos, std::uint64_t>> emitted_order_;
  std::uint64_t next_seq_ = 0;
  std::size_t open_count_ = 0;
  Nanos latest_ = 0;
  bool any_ = false;
  LiveCounts counts_;
  // Reused for each span and each emitted trace.
  std::vector<std::uint64_t> keys_;
  ShownTrace shown_;
};

}  // namespace ta
