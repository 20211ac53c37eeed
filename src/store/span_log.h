// The batch run's span store: every parsed span appended, as one compact
// record, to one of a few hundred partitions by its trace's hash. Parsing
// threads each write their own partitions (no lock, no lookup per span:
// memory is written in order); analysis takes one partition at a time,
// groups its records by trace while they fit in cache, and hands each
// trace to the assembler as a list of records. Nothing is copied or moved
// between the parse and the assembly.
#pragma once

#include <atomic>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "parse/span_record.h"
#include "store/distinct_bodies.h"
#include "store/hash_index.h"
#include "store/line_map.h"
#include "store/span.h"
#include "store/span_codec.h"
#include "store/symbols.h"
#include "util/trace_ids.h"

namespace ta {

// Memory handed out in order from slabs that are given back all at once.
// A slab is address space only until it is used: its pages are made
// resident a step ahead of what is handed out (one madvise for many pages:
// on a VM a 4 KiB page fault costs microseconds), so what is resident is
// what was asked for, give or take a step. Small pages, not huge ones: the
// log is kept in stripes given back one by one (SpanLog), and a stripe's
// last huge page would be mostly unwritten, but resident.
class SlabAllocator {
 public:
  SlabAllocator() = default;
  SlabAllocator(const SlabAllocator&) = delete;
  SlabAllocator& operator=(const SlabAllocator&) = delete;
  ~SlabAllocator() { release(); }
  std::uint8_t* allocate(std::size_t bytes);  // 16-byte aligned
  // Gives every slab back; what was handed out must not be used after.
  void release();
  // Bytes made resident (handed out, or about to be).
  std::size_t ready_bytes() const { return ready_total_; }

 private:
  void make_ready(std::uint8_t* until);
  struct Mapping {
    void* base;
    std::size_t size;
  };
  std::vector<Mapping> maps_;
  std::uint8_t* bump_ = nullptr;
  std::uint8_t* ready_ = nullptr;  // resident up to here
  std::uint8_t* end_ = nullptr;
  std::size_t step_ = 64u << 10;  // made resident at a time: grows with use
  std::size_t ready_total_ = 0;
};

class SpanLog {
 public:
  static constexpr std::size_t kPartitions = 256;
  // Partitions are kept in stripes of consecutive ones, each stripe in
  // slabs of its own, so that the analysis, which takes partitions in
  // order, gives a stripe's memory back once it is done with it.
  static constexpr std::size_t kStripes = 16;
  static constexpr std::size_t kStripePartitions = kPartitions / kStripes;
  static std::size_t stripe_of(std::size_t partition) { return partition / kStripePartitions; }

  explicit SpanLog(std::size_t max_trace_spans = 10'000'000) : max_trace_spans_(max_trace_spans) {}
  SpanLog(const SpanLog&) = delete;
  SpanLog& operator=(const SpanLog&) = delete;

  // One per parsing thread: appends spans to its own partitions.
  class Writer {
   public:
    explicit Writer(SpanLog& log) : log_(log), symbols_(log.symbol_cache()) {
      if (!recent_) throw std::bad_alloc();
    }
    // Copies a parsed record (whose views die with the next parse). The
    // location is the line's chunk and its line number in that chunk.
    void add(const SpanRecord& r, std::uint32_t chunk, std::uint64_t line);
    std::uint64_t spans() const { return spans_; }

   private:
    friend class SpanLog;
    struct Block {
      Block* next;
      std::uint32_t used, capacity;  // used: set once the block is full (the last one's is Chain::tail)
      std::uint8_t* data() { return reinterpret_cast<std::uint8_t*>(this + 1); }
    };
    // A partition's blocks; where it is written is kept here, beside the
    // other partitions', so an append touches the block only where it writes.
    struct Chain {
      Block* first = nullptr;
      Block* last = nullptr;
      std::uint8_t* tail = nullptr;  // in `last`
      std::uint8_t* end = nullptr;
      std::uint32_t next_size = 1024;
      std::uint32_t count = 0;   // records
      std::uint32_t traces = 0;  // trace numbers given (span_codec.h: a record's trace)
      std::uint32_t chunk = UINT32_MAX;  // the last record's location
      std::uint64_t line = 0;
    };
    // Traces met lately, by their id's hash (a slot per hash, the newest
    // wins): a trace's spans come close together, and a span of a trace
    // found here names it by its number instead of its id. One not found
    // gets a new number and writes its id; the analysis knows both numbers
    // stand for one trace.
    struct Recent {
      static constexpr std::size_t kInline = 19;
      std::uint64_t hash = 0;
      std::uint32_t number = 0;  // in its chain
      std::uint8_t size = 0;     // of the id as encoded, up to kInline; longer: kInline + 1; 0: free
      // The id's bytes, or a longer one's address where it is written in its
      // chain (compared there: such ids are rare).
      std::uint8_t key[kInline] = {};
      std::string_view id() const;
      void set(std::uint64_t h, std::uint32_t n, const std::uint8_t* id, std::size_t bytes);
    };
    static constexpr std::size_t kRecent = 8192;
    std::uint8_t* reserve(Chain& c, std::size_t bytes);
    SpanLog& log_;
    SymbolCache symbols_;
    ByteBuffer key_;  // the trace id being written, encoded
    struct Free {
      void operator()(Recent* r) const { std::free(r); }
    };
    // calloc: slots never used are never touched (a small input's run).
    std::unique_ptr<Recent[], Free> recent_{static_cast<Recent*>(std::calloc(kRecent, sizeof(Recent)))};
    SlabAllocator memory_[kStripes];
    Chain chains_[kPartitions];
    Nanos base_ = 0;
    bool has_base_ = false;
    std::uint64_t spans_ = 0;
  };
  // A new writer, owned by the log (thread-safe).
  Writer& writer();

  // Single-threaded shorthand (tests, tools): the location is file and line.
  void add(const SpanRecord& r, std::uint32_t file, std::uint32_t line);

  // Where chunks' lines are: set once every chunk is read. Without it a
  // record's chunk is taken as its file and its line as the file's line.
  void set_lines(LineMap lines) { lines_ = std::move(lines); }
  const LineMap& lines() const { return lines_; }

  const SymbolTable& symbols() const { return symbols_; }
  SymbolCache symbol_cache() { return SymbolCache(symbols_, symbols_lock_); }
  std::size_t max_trace_spans() const { return max_trace_spans_; }
  std::uint64_t span_count() const;
  // The records' memory now (slabs made resident, SlabAllocator).
  std::size_t held_bytes() const;
  // Records in one partition (all writers').
  std::uint64_t partition_records(std::size_t partition) const;

  // Spans not kept because their trace was full (--max-trace-spans): all
  // counted, the earliest `keep` listed.
  struct Refused {
    std::uint32_t file;
    std::uint32_t line;
    std::string trace_id;
  };
  struct RefusedSpans {
    std::uint64_t count = 0;
    std::vector<Refused> first;
    std::size_t keep = 1000;
    void add(Refused r);
    void take(RefusedSpans& other);  // merges another thread's
    void trim();                     // the earliest `keep`, in input order
  };

  // Reused between partitions by one analysing thread.
  struct Scratch {
    struct Entry {
      std::uint64_t location;
      std::uint32_t trace;
      std::uint32_t order;  // in the partition's walk: one line's records (a document's) keep theirs
      const std::uint8_t* record;
    };
    std::vector<Entry> sorted;                             // the records by trace
    std::vector<std::uint32_t> numbers;                    // a chain's trace numbers: the partition's traces
    std::vector<std::uint32_t> slots, trace_of, begin, cursor;  // trace_of: each record's trace, in walk order
    std::vector<std::string_view> keys;  // the traces' ids as encoded
    std::string id_text;                 // and decoded, one after another
    std::vector<std::size_t> id_end;
    std::vector<std::string_view> ids;   // into id_text
    std::vector<std::uint64_t> hashes;
    std::vector<RecordRef> records;  // of the trace at hand
    DistinctBodies bodies;  // of a trace past --max-trace-spans: its kept records by body
    // Joining trace ids (util/trace_ids.h): the traces that may join, with
    // their ids decoded; the trace each joins, and its number after.
    struct Joinable {
      std::uint32_t trace;
      std::string_view id;  // into joinable_text
    };
    std::vector<Joinable> joinable;
    std::string joinable_text;
    std::vector<std::string_view> group_ids;  // of one low half
    std::vector<std::uint32_t> group_into, into, renumber, counts;
    std::vector<std::string> notes;
  };

  // Groups one partition's records by trace and calls f(const TraceData&)
  // for each trace, its records in input order; spans past
  // --max-trace-spans go to `refused` instead. A short trace id joins the
  // long one that ends in it (util/trace_ids.h: the ids that may are in
  // one partition), said in `joins`. Thread-safe across different
  // partitions.
  template <typename F>
  void for_each_trace(std::size_t partition, Scratch& scratch, RefusedSpans& refused, TraceJoinNotes& joins,
                      F&& f) const;
  // Every partition in turn (tests, tools).
  template <typename F>
  void for_each_trace(TraceJoinNotes& joins, F&& f) const {
    Scratch scratch;
    RefusedSpans refused;
    for (std::size_t p = 0; p < kPartitions; ++p) for_each_trace(p, scratch, refused, joins, f);
  }
  template <typename F>
  void for_each_trace(F&& f) const {
    TraceJoinNotes joins;
    for_each_trace(joins, f);
  }
  // Says the analysis is done with a partition (thread-safe): once every
  // partition of its stripe is, the stripe's memory is given back, and its
  // records must not be read again.
  void partition_done(std::size_t partition);
  // Gives back every record's memory.
  void clear();

  static std::size_t partition_of(std::uint64_t trace_hash) { return trace_hash >> 56; }

 private:
  // Groups the records; returns the number of traces.
  std::size_t group(std::size_t partition, Scratch& s, TraceJoinNotes& joins) const;
  // Joins short trace ids to long ones among the partition's traces
  // (s.keys, their records counted in s.begin, each record's in s.trace_of).
  static void join_traces(Scratch& s, TraceJoinNotes& joins);
  void refuse(const Scratch& s, std::uint32_t k, RefusedSpans& refused) const;
  // A trace past --max-trace-spans: its first max_trace_spans distinct
  // spans are kept with every record that repeats one of them (duplicates,
  // counted as such by the assembly, not toward the limit); the rest are
  // refused.
  void keep_distinct(Scratch& s, std::uint32_t from, std::uint32_t to, RefusedSpans& refused) const;
  // The time origin of every record's start: the first start any writer saw.
  Nanos base(Nanos start);

  SymbolTable symbols_;
  std::mutex symbols_lock_;
  std::mutex writers_lock_;
  std::vector<std::unique_ptr<Writer>> writers_;
  std::atomic<std::uint32_t> stripe_done_[kStripes] = {};  // partitions done, of each stripe
  std::atomic<Nanos> base_{0};
  std::atomic<bool> has_base_{false};
  LineMap lines_;
  std::size_t max_trace_spans_;
};

template <typename F>
void SpanLog::for_each_trace(std::size_t partition, Scratch& s, RefusedSpans& refused, TraceJoinNotes& joins,
                             F&& f) const {
  const std::size_t traces = group(partition, s, joins);
  const Nanos base = base_.load(std::memory_order_relaxed);
  for (std::uint32_t t = 0; t < traces; ++t) {
    const std::uint32_t from = s.begin[t], to = s.begin[t + 1];
    s.records.clear();
    if (to - from <= max_trace_spans_) {
      for (std::uint32_t k = from; k < to; ++k) {
        s.records.push_back({s.sorted[k].record, s.sorted[k].location});
      }
    } else {
      keep_distinct(s, from, to, refused);
    }
    const auto kept = static_cast<std::uint32_t>(s.records.size());
    TraceData data;
    data.trace_id = s.ids[t];
    data.records = s.records.data();
    data.record_count = kept;
    data.base = base;
    data.span_count = kept;
    data.dropped = to - from - kept;
    data.lines = lines_.empty() ? nullptr : &lines_;
    f(static_cast<const TraceData&>(data));
  }
}

}  // namespace ta
