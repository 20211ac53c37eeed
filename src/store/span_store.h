// Spans grouped by traceId: a hash index over traces, each trace holding its
// spans encoded in one blob (see span_codec.h), so a finished trace can be
// released on its own. ShardedStore splits traces by hash over several
// stores, one lock each, so parsing threads rarely wait for each other and
// analysis can take one shard per thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "parse/span_record.h"
#include "store/blob_arena.h"
#include "store/hash_index.h"
#include "store/span.h"
#include "store/span_codec.h"
#include "store/symbols.h"

namespace ta {

struct TraceData {
  std::string_view trace_id;       // in the store's arena
  Blob blob;                       // encoded spans in arrival order, in the store's arena
  Nanos base = 0;                  // time origin of the blob: the first span's start
  std::uint32_t span_count = 0;
  std::uint32_t dropped = 0;       // spans refused over the per-trace limit
};

// A staged span refused because its trace was full (--max-trace-spans).
struct FullTrace {
  std::uint32_t file, line;
  std::string trace_id;
};

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
  };
  // `slot` may be given when known from find_slot (kNone: a new trace).
  Added add_to_slot(const SpanRecord& record, std::uint32_t file, std::uint32_t line, std::uint64_t trace_hash);
  Added add_to_slot(const SpanRecord& record, std::uint32_t file, std::uint32_t line, std::uint64_t trace_hash,
                    std::uint32_t slot);
  // Files spans encoded by stage_span (labels already interned in this
  // store's table); the refused ones are appended to `full`. Returns the
  // number kept.
  std::size_t add_staged(const StagedSpans& staged, std::vector<FullTrace>& full);
  std::uint32_t find_slot(std::string_view trace_id, std::uint64_t trace_hash) const;
  const TraceData& at(std::uint32_t slot) const { return traces_[slot]; }
  void release_slot(std::uint32_t slot);

  std::size_t trace_count() const { return index_.size(); }
  std::size_t span_count() const { return spans_; }
  const SymbolTable& symbols() const { return shared_symbols_ ? *shared_symbols_ : symbols_; }

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
  SymbolTable symbols_;
  SymbolTable* shared_symbols_;
  std::size_t spans_ = 0;
  std::size_t max_trace_spans_;
};

// Several stores, traces split between them by hash, one lock each, one
// symbol table for all. Parsing threads stage spans per store and file each
// batch under its lock; analysis takes one store per thread.
class ShardedStore {
 public:
  explicit ShardedStore(std::size_t shards, std::size_t max_trace_spans = 10'000'000);
  // Thread-safe; see SpanStore::add.
  bool add(const SpanRecord& record, std::uint32_t file, std::uint32_t line);
  // Thread-safe: files each non-empty batch (staged[i] for shard i) and
  // empties it; stores whose lock is free go first. Returns the spans kept.
  std::size_t add_staged(std::vector<StagedSpans>& staged, std::vector<FullTrace>& full);
  std::size_t shard_of(std::uint64_t hash) const { return (hash >> 40) % shards_.size(); }
  // For one parsing thread: interns into the shared table.
  SymbolCache symbol_cache() { return SymbolCache(symbols_, symbols_lock_); }

  std::size_t shard_count() const { return shards_.size(); }
  const SpanStore& shard(std::size_t i) const { return shards_[i]->store; }
  SpanStore& shard(std::size_t i) { return shards_[i]->store; }
  std::size_t trace_count() const;
  const TraceData* find(std::string_view trace_id, const SymbolTable** symbols = nullptr) const;

 private:
  struct Shard {
    Shard(std::size_t max_trace_spans, SymbolTable* symbols) : store(max_trace_spans, symbols) {}
    std::mutex mu;
    SpanStore store;
  };
  SymbolTable symbols_;
  std::mutex symbols_lock_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace ta
