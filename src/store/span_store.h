// Spans grouped by traceId as they arrive: a hash index over traces, each
// trace holding its spans encoded in one blob (see span_codec.h), so a
// finished trace can be released on its own (live mode). A batch run keeps
// its spans in a SpanLog instead (span_log.h).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "parse/span_record.h"
#include "store/blob_arena.h"
#include "store/hash_index.h"
#include "store/span.h"
#include "store/span_codec.h"
#include "store/symbols.h"

namespace ta {

class SpanStore {
 public:
  // Labels go into `shared` when given (several stores, one table), else
  // into a table of the store's own.
  explicit SpanStore(std::size_t max_trace_spans = 10'000'000, SymbolTable* shared = nullptr)
      : shared_symbols_(shared), max_trace_spans_(max_trace_spans) {}

  // Copies a parsed record (whose views die with the next parse) into its
  // trace. False when the trace is full (--max-trace-spans): the span is
  // counted on the trace as dropped, not kept.
  bool add(const SpanRecord& record, std::uint32_t file, std::uint32_t line, std::uint64_t trace_hash);
  bool add(const SpanRecord& record, std::uint32_t file, std::uint32_t line);
  // The same, naming the trace's slot (stable until the trace is released).
  struct Added {
    std::uint32_t slot;
    bool kept;
    bool new_trace;
    bool duplicate = false;  // not kept, but a repeat of a kept span: counted on the trace as a duplicate
  };
  // `slot` may be given when known from find_slot (kNone: a new trace).
  Added add_to_slot(const SpanRecord& record, std::uint32_t file, std::uint32_t line, std::uint64_t trace_hash);
  Added add_to_slot(const SpanRecord& record, std::uint32_t file, std::uint32_t line, std::uint64_t trace_hash,
                    std::uint32_t slot);
  // The same for a span already encoded: `rest` is its body after the start
  // as codec::put_rest wrote it, its labels' symbols from symbols().
  Added add_encoded(std::string_view trace_id, std::uint64_t trace_hash, Nanos start, std::string_view rest,
                    std::uint32_t file, std::uint32_t line, std::uint32_t slot);
  std::uint32_t find_slot(std::string_view trace_id, std::uint64_t trace_hash) const;
  const TraceData& at(std::uint32_t slot) const { return traces_[slot]; }
  // Files the trace in `slot` under another id from now on.
  void rename(std::uint32_t slot, std::string_view trace_id, std::uint64_t trace_hash);
  void release_slot(std::uint32_t slot);

  std::size_t trace_count() const { return index_.size(); }
  std::size_t span_count() const { return spans_; }
  const SymbolTable& symbols() const { return shared_symbols_ ? *shared_symbols_ : symbols_; }
  SymbolTable& symbols() { return table(); }

  // Live traces, in order of first appearance.
  template <typename F>
  void for_each_trace(F&& f) const {
    for (const TraceData& t : traces_)
      if (t.span_count) f(t);
  }
  // Hands each live trace to f, in order of first appearance; then
  // releases everything at once (release_all).
  template <typename F>
  void drain(F&& f) {
    for (const TraceData& t : traces_)
      if (t.span_count) f(t);
    release_all();
  }
  const TraceData* find(std::string_view trace_id) const;
  void release(std::string_view trace_id);
  // Frees every trace; the symbols stay, for what was taken from them.
  void release_all();

 private:
  BlobArena arena_;               // the traces' ids and blobs
  std::deque<TraceData> traces_;  // deque: a trace never moves
  std::vector<std::uint32_t> free_slots_;
  HashIndex index_;
  SymbolTable& table() { return shared_symbols_ ? *shared_symbols_ : symbols_; }
  // A slot for a trace not in the store yet, whose time origin is `start`.
  std::uint32_t new_slot(std::string_view trace_id, std::uint64_t hash, Nanos start);
  // Gives the trace's memory back and its slot to free_slots_.
  void free_trace(std::uint32_t slot);
  // A trace at --max-trace-spans (rare): its records' bodies, so that a
  // repeat of a kept span is told from a new one (repeats do not count
  // toward the limit).
  struct Full {
    HashIndex bodies;                   // values: indexes into `at`
    std::vector<std::uint32_t> at;      // the distinct records' offsets in the blob
  };
  // Whether a record's body repeats one of the trace's at the limit in
  // `slot`; else, whether there is room for another distinct span.
  enum class AtLimit { kRepeat, kRoom, kFull };
  AtLimit limit_check(std::uint32_t slot, std::string_view body);
  // Files the record at `offset` among the distinct ones; false if a repeat.
  bool file_body(std::uint32_t slot, std::size_t offset);
  std::string_view body_at(std::uint32_t slot, std::size_t offset) const;
  ByteBuffer body_;  // a record's body being checked
  std::unordered_map<std::uint32_t, Full> full_;
  SymbolTable symbols_;
  SymbolTable* shared_symbols_;
  ByteBuffer rest_;  // a record being encoded
  std::size_t spans_ = 0;
  std::size_t max_trace_spans_;
};

}  // namespace ta
