// Live mode's core: spans come in one by one; a trace is assembled, analysed
// and handed to the sink as soon as it is complete (its root is present and
// every span named as a callee or a parent has arrived), or once the event-
// time watermark (latest timestamp seen minus the window) passes its last
// activity, or when too many traces are open. Memory holds only open traces.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analyze/emit.h"
#include "analyze/summary.h"
#include "assemble/trace.h"
#include "parse/span_record.h"
#include "store/span_codec.h"
#include "store/open_traces.h"
#include "util/hash.h"
#include "util/trace_ids.h"

namespace ta {



struct LiveOptions {
  Nanos window = 30'000'000'000;
  std::size_t max_open_traces = 50'000;
  std::size_t max_trace_spans = 10'000'000;
  AssembleOptions assemble;
  // A trace found complete is written at the next settle(), once every span
  // read with the one that completed it is filed (a document's spans, a
  // chunk of lines, come in no set order), not at once.
  bool settle_per_chunk = false;
};



// A span as a parsing thread hands it over: its record's body already
// encoded (span_codec.h, labels interned in the assembler's symbols()), and
// the little the assembler reads itself.
struct EncodedSpan {
  std::string_view trace_id;
  std::uint64_t trace_hash = 0;
  Nanos start = 0;
  Nanos end = 0;      // start + duration, saturated
  bool root = false;  // no parent id
  // A client span that lists no callees: it waits for a span that names it
  // as its parent (OTLP, Zipkin and Jaeger name no callees).
  bool wants_child = false;
  // Keys of span ids in the trace (span_key): its own first, then the
  // parent_keys of the spans it is a child of (a shared server half's client
  // half, its parent), then each callee's.
  const std::uint64_t* keys = nullptr;
  std::size_t key_count = 0;
  std::uint8_t parent_keys = 0;
  std::string_view rest;  // the body after its start, as codec::put_rest writes it
};

namespace live {

inline std::uint64_t trace_hash(std::string_view trace_id) { return hash_bytes(trace_id); }
// The seed of a trace's span keys: its id's hash (id_hash, given), or for a
// 32-hex id the hash of its low 64 bits, so that the spans of a trace
// written under both forms (util/trace_ids.h) find each other once their
// traces are joined.
inline std::uint64_t key_seed(std::string_view trace_id, std::uint64_t id_hash) {
  const TraceIdHalves h = trace_id_halves(trace_id);
  return h.shape == TraceIdHalves::kOther || h.low.size() == trace_id.size() ? id_hash : hash_bytes(h.low);
}
inline std::uint64_t span_key(std::string_view span_id, std::uint64_t trace_hash) {
  const std::uint64_t k = XXH3_64bits_withSeed(span_id.data(), span_id.size(), trace_hash);
  return k ? k : 1;
}

// A shared server half's own key: its id's key is its client half's.
inline std::uint64_t server_half_key(std::uint64_t key) { return key ^ 0x5bd1e9955bd1e995ull; }

// Encodes r for the assembler: its body appended to `rest` and its keys to
// `keys`, labels interned through intern(text). The result holds offsets
// into those (which may grow and move); bind() makes the span.
struct Encoded {
  EncodedSpan span;
  std::size_t rest_at = 0, rest_size = 0, keys_at = 0;
  // Points the span at its bytes and keys where they now are.
  EncodedSpan bind(const std::uint8_t* rest, const std::uint64_t* keys) const {
    EncodedSpan s = span;
    s.rest = std::string_view(reinterpret_cast<const char*>(rest + rest_at), rest_size);
    s.keys = keys + keys_at;
    return s;
  }
};
// A client span that lists no callees waits for a span that names it as
// its parent (the server side of its call), unless it calls a database,
// which logs no spans: a tag of OpenTelemetry's (db.system, db.system.name,
// db.statement, db.query.text), OpenTracing's (db.type) or Zipkin's
// instrumentation (sql.query) says so.
inline bool wants_child(const SpanRecord& r) {
  if (r.kind != SpanKind::kClient || !r.calls.empty() || r.shared) return false;
  for (const AttributeRecord& a : r.attributes)
    if (a.key == "db.system" || a.key == "db.system.name" || a.key == "db.statement" || a.key == "db.query.text" ||
        a.key == "db.type" || a.key == "sql.query")
      return false;
  return true;
}

template <typename Intern>
Encoded encode(const SpanRecord& r, Intern&& intern, std::string& rest, std::vector<std::uint64_t>& keys) {
  Encoded e;
  EncodedSpan& s = e.span;
  s.trace_id = r.trace_id;  // a view into r: the caller copies it if it keeps the span
  s.trace_hash = trace_hash(r.trace_id);
  const std::uint64_t seed = key_seed(r.trace_id, s.trace_hash);
  s.start = r.start;
  if (__builtin_add_overflow(r.start, r.duration, &s.end)) s.end = std::numeric_limits<Nanos>::max();
  // A shared server half (Zipkin) is its client half's child: never the
  // root, and the trace waits for that half as for any parent.
  s.root = r.parent_id.empty() && !r.shared;
  s.wants_child = wants_child(r);
  e.keys_at = keys.size();
  const std::uint64_t own = span_key(r.span_id, seed);
  keys.push_back(r.shared ? server_half_key(own) : own);
  if (r.shared) keys.push_back(own);
  if (!r.parent_id.empty()) keys.push_back(span_key(r.parent_id, seed));
  s.parent_keys = static_cast<std::uint8_t>(keys.size() - e.keys_at - 1);
  for (const CallRecord& c : r.calls) keys.push_back(span_key(c.span_id, seed));
  s.key_count = keys.size() - e.keys_at;
  e.rest_at = rest.size();
  rest.resize(e.rest_at + codec::rest_bound(r));
  auto* p = reinterpret_cast<std::uint8_t*>(rest.data() + e.rest_at);
  const std::size_t size = static_cast<std::size_t>(codec::put_rest(p, r, intern) - p);
  rest.resize(e.rest_at + size);
  e.rest_size = size;
  return e;
}

}  // namespace live

// What the analysis and the writers read of a finished trace: its tree
// (assembled from its records), critical path, self times and time on the
// path, into `out` (its vectors reused).
void shape_trace(const TraceData& data, const SymbolTable& symbols, const AssembleOptions& options, ShownTrace& out);

class LiveAssembler {
 public:
  // Called with each finished trace, assembled on the calling thread
  // (shape_trace); the trace may be moved from.
  using Sink = std::function<void(ShownTrace& trace, Emit why)>;
  // Called with each finished trace as the store holds it, before its
  // records are given back (valid during the call only): the caller
  // assembles it, on this thread or another.
  using Handoff = std::function<void(const TraceData& trace, Emit why)>;
  LiveAssembler(const LiveOptions& options, Sink sink);
  LiveAssembler(const LiveOptions& options, Handoff handoff);
  ~LiveAssembler();

  enum class Added { kSpan, kLate, kDropped };
  // Files one span; may write this and other traces through the sink.
  Added add(const EncodedSpan& span, std::uint32_t file, std::uint32_t line);
  // The same for a parsed record, encoded here: its labels are interned on
  // this thread (so not while a parsing thread interns into symbols()).
  Added add(const SpanRecord& record, std::uint32_t file, std::uint32_t line);
  // Writes the traces found complete since the last call, in the order they
  // were (LiveOptions::settle_per_chunk), those still complete.
  void settle();
  // Writes every open trace, in order of first appearance (end of input).
  void flush_all();

  std::size_t open_traces() const { return open_count_; }
  // How finished traces are assembled (shape_trace), wherever that is done.
  const AssembleOptions& assemble_options() const { return options_.assemble; }
  const LiveCounts& counts() const { return counts_; }
  const SymbolTable& symbols() const { return store_.symbols(); }
  // Where a parsing thread interns the labels of the spans it encodes.
  SymbolTable& symbols() { return store_.symbols(); }
  Nanos watermark() const;
  // Span ids being tracked for open traces (0 once all are written).
  std::size_t tracked_ids() const;
  // The longest run of full slots in an open trace's table of its span keys
  // (util/longest_run.h).
  std::size_t longest_key_run() const;
  // The longest run of full slots in the index of trace ids written lately.
  std::size_t longest_written_run() const;
  // The most long trace ids met that share one bucket of the table of their
  // low halves.
  std::size_t longest_half_bucket() const;
  // Entries in the queue of open traces by last activity (some stale).
  std::size_t queued() const;
  // Said once about the input (trace ids joined), taken by the caller.
  std::vector<std::string>& notes() { return notes_; }

 private:
  struct Open;
  struct Due;
  class KeyTable;
  void emit(std::uint32_t slot, Emit why);
  // The open trace a new trace id (of halves h) joins (16/32 hex,
  // util/trace_ids.h), or kNone; the trace may be renamed to the id.
  std::uint32_t join_slot(std::string_view trace_id, std::uint64_t trace_hash, const TraceIdHalves& h);
  void forget_low_half(const TraceIdHalves& h, std::uint32_t slot);
  void expire();
  void evict();
  bool pop_due(Due& due);  // the least recently active open trace, entries refreshed

  LiveOptions options_;
  Handoff handoff_;
  OpenTraces store_;
  std::vector<Open> open_;  // by store slot
  std::vector<Due> due_;    // min-heap by last activity (entries may be stale)
  std::vector<std::pair<std::uint32_t, std::uint64_t>> ready_;  // (slot, seq) found complete, to settle
  // Trace ids written lately, for late spans, and the low halves of the long
  // ones (util/trace_ids.h): kept exactly, so two ids that hash alike stay
  // two traces.
  class WrittenIds;
  std::unique_ptr<WrittenIds> written_, written_low_;
  std::uint64_t next_seq_ = 0;
  std::size_t open_count_ = 0;
  Nanos latest_ = 0;
  bool any_ = false;
  LiveCounts counts_;
  // Reused for each span and each emitted trace.
  // Long (32-hex) ids met, by their low half: the open trace of the one
  // first met (kNone once written), and how many were met. A short id's
  // trace is found in the store by its id, so short ids take no entry.
  struct LongHalf {
    std::uint32_t slot = kNone;
    std::uint32_t longs = 0;
    bool noted = false;  // the join was noted
  };
  std::unordered_map<std::string, LongHalf, TextHash, std::equal_to<>> long_halves_;
  // The open trace of a short id of this low half (16 digits, or 32 with a
  // zero high half), or kNone.
  std::uint32_t short_slot(std::string_view low) const;
  std::vector<std::string> notes_;
  std::string rest_;
  std::vector<std::uint64_t> keys_;
  ShownTrace shown_;  // the Sink's
};

}  // namespace ta
