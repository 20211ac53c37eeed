// Live mode's side of the span store: spans filed by trace as they come, so
// that a trace is handed to the assembly as soon as it is finished and its
// memory given back. A span is kept as the batch run's SpanLog keeps it:
// one record (a varint body size, then the body of span_codec.h; its start
// relative to its trace's first span) appended to a log of blocks. Each
// open trace lists its records and their locations, and is handed out as
// the TraceData the batch run hands out for a trace: a list of records
// where they lie. So both drivers decode, assemble and analyse a trace
// through one path.
//
// Memory: each block counts the records of open traces it holds and is
// given back when none is left. A trace open for long (one that never
// completes waits for the window) leaves a few records in many blocks; when
// the blocks hold more than twice the open records' bytes (and 1 MiB), the
// open records are copied together, trace by trace. A compaction copies no
// more bytes than it frees of records written and released since, so over a
// run less is copied than was filed.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parse/span_record.h"
#include "store/distinct_bodies.h"
#include "store/hash_index.h"
#include "store/span_codec.h"
#include "store/symbols.h"

namespace ta {

class OpenTraces {
 public:
  explicit OpenTraces(std::size_t max_trace_spans = 10'000'000);
  ~OpenTraces();
  OpenTraces(const OpenTraces&) = delete;
  OpenTraces& operator=(const OpenTraces&) = delete;

  struct Added {
    std::uint32_t slot;
    bool kept;
    bool new_trace;
    bool duplicate = false;  // not kept, but a repeat of a kept span: counted on the trace as a duplicate
  };
  // The slot of the open trace with this id, or kNone.
  std::uint32_t find_slot(std::string_view trace_id, std::uint64_t trace_hash) const;
  // Files one span, already encoded: `rest` is its body after the start as
  // codec::put_rest wrote it (labels from symbols()); `slot` is the trace's
  // from find_slot (kNone: a new trace). Not kept when its trace is at
  // --max-trace-spans: a repeat of a kept span is counted on the trace as a
  // duplicate, any other span as dropped.
  Added add(std::string_view trace_id, std::uint64_t trace_hash, Nanos start, std::string_view rest,
            std::uint32_t file, std::uint32_t line, std::uint32_t slot);
  // The same for a parsed record, encoded here (tests, tools).
  Added add(const SpanRecord& record, std::uint32_t file, std::uint32_t line);

  // The trace in `slot` as the assembly reads it; valid until the next add
  // or release.
  TraceData at(std::uint32_t slot) const;
  std::string_view trace_id(std::uint32_t slot) const { return traces_[slot].id; }
  std::optional<TraceData> find(std::string_view trace_id) const;
  // Each open trace as at() gives it, in order of slot (of first appearance
  // while no trace was released).
  template <typename F>
  void for_each_trace(F&& f) const {
    for (std::uint32_t slot = 0; slot < traces_.size(); ++slot)
      if (traces_[slot].open) f(at(slot));
  }
  // Files the trace in `slot` under another id from now on.
  void rename(std::uint32_t slot, std::string_view trace_id, std::uint64_t trace_hash);
  // Forgets the trace and gives back what its records held.
  void release(std::uint32_t slot);

  std::size_t trace_count() const { return index_.size(); }
  // The longest run of full slots in the index of open trace ids
  // (util/longest_run.h).
  std::size_t longest_run() const { return index_.longest_run(); }
  std::size_t span_count() const { return spans_; }
  // Bytes of blocks held, and of the open traces' records in them.
  std::size_t block_bytes() const { return block_bytes_; }
  std::size_t record_bytes() const { return record_bytes_; }
  const SymbolTable& symbols() const { return symbols_; }
  SymbolTable& symbols() { return symbols_; }

 private:
  struct Trace {
    std::string id;
    std::vector<RecordRef> records;  // located by file << 32 | line
    Nanos base = 0;                        // the first span's start: the records' time origin
    std::uint32_t dropped = 0;
    std::uint32_t duplicates = 0;
    std::size_t bytes = 0;  // of its records
    // Past --max-trace-spans: its records by body.
    std::unique_ptr<DistinctBodies> distinct;
    bool open = false;
  };
  class Blocks;

  std::uint32_t new_slot(std::string_view trace_id, std::uint64_t hash, Nanos start);
  // The index's key of a slot: its trace's id.
  auto key_of() const {
    return [this](std::uint32_t slot) { return trace_id(slot); };
  }
  // Appends a record (body `head` then `rest`) and returns where it is.
  const std::uint8_t* append(std::string_view head, std::string_view rest);
  // Copies every open record into fresh blocks when the blocks hold too
  // much besides them.
  void compact_if_sparse();

  std::deque<Trace> traces_;  // a deque: no copy of every trace as it grows
  std::vector<std::uint32_t> free_slots_;
  HashIndex index_;
  std::unique_ptr<Blocks> blocks_;
  SymbolTable symbols_;
  ByteBuffer rest_;   // a record being encoded (add of a parsed record)
  std::string body_;  // a body being checked against a full trace's
  std::size_t spans_ = 0;
  std::size_t block_bytes_ = 0, record_bytes_ = 0;
  std::size_t max_trace_spans_;
};

}  // namespace ta
