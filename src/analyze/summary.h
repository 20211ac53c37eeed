// What the whole log says: per-group durations, trace latencies, caller ->
// callee edges, anomaly counts; and the traces picked for showing.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze/critical_path.h"
#include "analyze/edge_acc.h"
#include "analyze/sample.h"
#include "assemble/trace.h"
#include "cli/options.h"
#include "store/span_log.h"
#include "util/index_iterator.h"
#include "util/pair_map.h"

namespace ta {

// A sum of durations, in 128 bits: a span may last up to 2^63 ns, and no
// sum of them may overflow (saturated, a group's share of critical-path
// time was wrong, and the shares summed to more than 100%).
__extension__ using Total = __int128;

struct GroupSummary {
  std::string name;
  std::uint64_t spans = 0;
  std::uint64_t errors = 0;
  Distribution duration;
  Total self_total = 0;
  Total critical_total = 0;
  double critical_share = 0;  // of all critical-path time (the traces' latency when each has one root)
};

struct TraceTotals {
  std::uint64_t count = 0;
  Distribution latency;
  Distribution spans;  // spans per trace, in Nanos units meaning "count"
  std::uint64_t complete = 0;
  std::uint64_t missing_root = 0;
  std::uint64_t with_orphans = 0;
  std::uint64_t with_inferred = 0;
  Total latency_total = 0;
};

// One caller -> callee pair, as EdgeList gives it (the names point into the list).
struct EdgeSummary {
  std::string_view caller;
  std::string_view callee;
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;
  Distribution client;  // subDuration as the caller saw it
  Distribution gap;     // subDuration - callee's own duration, where the callee logged
};

// Where the entry of a pair of names is, in one of several lists of
// entries (the analysing threads'), and its names as ranks.
struct PairRef {
  std::uint64_t ranks;   // the caller's rank << 32 | the callee's
  std::uint32_t index;   // in its list
  std::uint16_t list;
  std::uint16_t weight;  // the pair's calls, at most kMaxWeight
  static constexpr std::uint64_t kMaxWeight = 0xffff;
};

// The caller -> callee pairs, most calls first, ties in name order. A fleet
// of hosts has about as many pairs as calls, nearly all of one call: the
// list keeps the analysing threads' own entries (32 bytes a pair, a call's
// values in place) and its order as PairRefs (16 bytes a pair), and makes a
// pair's EdgeSummary when it is read. A pair of several calls has its
// distributions kept aside.
class EdgeList {
 public:
  using Entries = PairMap<EdgeAcc>::Entries;
  using Iterator = IndexIterator<const EdgeList>;

  // Every pair; the first listed() of them can be read (all, or the rows
  // text and Markdown show), another is a std::logic_error.
  std::size_t size() const { return pairs_; }
  std::size_t listed() const { return order_.size(); }
  bool empty() const { return pairs_ == 0; }
  EdgeSummary operator[](std::size_t i) const;
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, order_.size()}; }

  // Building it: the names by rank, the threads' entries, and the first
  // pairs in the list's order (most calls first, ties by the ranks of caller
  // and callee), of which the first `several` have more than one call, of
  // `pairs` in all (at least as many). A pair out of order is a
  // std::logic_error.
  void start(std::vector<std::string> names, std::vector<Entries> entries, std::vector<PairRef> order,
             std::size_t several, std::size_t pairs);
  // Of the first `several` pairs, taken in any order (each once; different
  // pairs on different threads): the entry (its calls and errors kept now),
  // and its two distributions to be filled in (they stay where they are).
  EdgeAcc& take_several(std::size_t i);
  // Once all are taken: a std::logic_error unless the pairs of capped
  // weight are in order of their calls.
  void check_several_order() const;
  EdgeAcc& entry(std::size_t i) { return entries_[order_[i].list][order_[i].index].second; }
  // The entries lie in the threads' order, not the list's: read in list
  // order, each is fetched a few pairs ahead.
  void prefetch(std::size_t i) const {
    if (i < order_.size()) __builtin_prefetch(&entries_[order_[i].list][order_[i].index]);
  }
  std::pair<Distribution*, Distribution*> distributions(std::size_t i) {
    return {&several_[i].client, &several_[i].gap};
  }
  // Once those are filled in: the samples of the first `rows` pairs are
  // freed (a few calls' values may be freed as they are taken); the other
  // pairs' values go with the list.
  void drop_values(std::size_t rows);

 private:
  struct Several {
    Distribution client, gap;
    std::uint64_t calls = 0, errors = 0;
  };
  std::vector<std::string> names_;
  std::vector<Entries> entries_;
  std::vector<PairRef> order_;
  std::vector<Several> several_;  // of the first pairs in order_
  std::size_t pairs_ = 0;
};

// Clocks of a caller host and a callee host, compared through the caller's
// view of each call (requestStacks): offset = callee start - subTimestamp.
struct SkewSummary {
  std::string caller_host;
  std::string callee_host;
  std::uint64_t calls = 0;
  std::uint64_t outside = 0;  // callee ran outside the caller's view of the call
  Distribution offset;
};

struct AnomalyExample {
  AnomalyKind kind;
  std::string trace_id;
  std::string span_id;
  std::uint32_t file;
  std::uint32_t line;
  std::string detail;
};

// A trace picked for showing, with its analysis.
struct ShownTrace {
  Trace trace;
  const SymbolTable* symbols = nullptr;  // its labels' table
  std::vector<PathSection> path;
  std::vector<Nanos> self;      // per span
  std::vector<Nanos> on_path;   // per span: time on the critical path
};

// What assembling and analysing a trace takes a span at its peak (a fan-out
// of 2M spans: the spans, their links, the id index, the order, the
// critical path, self times): --max-memory asks for this much before a
// large trace is assembled, in batch and live mode.
inline constexpr std::uint64_t kAssembleBytesPerSpan = 256;

// Traces not analysed because of --max-memory.
struct MemoryShortfall {
  std::uint64_t traces = 0;  // passed over, each too large for the memory left
  std::uint64_t spans = 0;   // theirs, and once stopped every span not analysed
  bool stopped = false;      // resident memory passed the limit: no trace after was analysed
  std::string largest_id;    // the largest trace passed over, its spans and the bytes it would take
  std::uint64_t largest_spans = 0;
  std::uint64_t largest_need = 0;
  bool hit() const { return spans > 0 || stopped; }
};

// Rows of each table (groups, pairs, clock skew) that text and Markdown
// show; JSON lists them all.
constexpr std::size_t kTableRows = 25;
// The rows of each table whose distributions a report in `format` shows,
// and so the analysis computes: the first kTableRows, or all for JSON.
std::size_t rows_shown(Format format);

struct Analysis {
  std::vector<ShownTrace> shown;
  std::vector<std::string> missing_trace_ids;  // asked for with --trace, not found
  std::string group_label;                     // "service", "host", ...
  std::vector<GroupSummary> groups;            // by critical-path time, largest first
  TraceTotals traces;
  EdgeList edges;                              // by calls, most first
  std::vector<SkewSummary> skew;               // host pairs with a callee outside its caller's view
  // The first rows of groups, edges and skew that have their distributions
  // (rows_shown of the run's format); later rows have their counts and
  // totals only, their distributions left empty.
  std::size_t distributed_rows = SIZE_MAX;
  std::uint64_t adjustments = 0;               // subtrees moved by --adjust-skew
  std::array<std::uint64_t, kAnomalyKinds> anomaly_counts{};
  std::vector<AnomalyExample> anomaly_examples;  // the first few of each kind
  std::uint64_t anomalies = 0;
  std::uint64_t spans = 0;       // logged spans after dropping duplicates
  std::uint64_t duplicates = 0;  // identical lines dropped
  std::uint64_t inferred = 0;
  SpanLog::RefusedSpans refused;  // spans over --max-trace-spans, not kept (batch)
  TraceJoinNotes joins;           // short trace ids joined to long ones, or not (batch)
  MemoryShortfall memory;         // batch
};

// Assembles and analyzes every trace, a partition of the log at a time on
// each thread; the log's records are released at the end (the shown traces
// are kept assembled).
Analysis analyze(SpanLog& log, const Config& config, std::size_t threads);

// The same analysis fed trace by trace as live mode emits them, for the
// summary at the end. Samples keep their first `exact_limit` values; past
// that, percentiles come from log-scaled buckets (see sample.h), so memory
// does not grow with the stream. Analysis::shown stays empty.
class LiveAnalysis {
 public:
  LiveAnalysis(const Config& config, const SymbolTable& symbols, std::size_t exact_limit);
  ~LiveAnalysis();
  // self and on_path: per span, as self_times and time_on_path give them.
  // True when the run shows the trace: every one, or those --trace names.
  bool add(const Trace& t, const std::vector<Nanos>& self, const std::vector<Nanos>& on_path);
  // Once, at the end; missing_trace_ids lists the --trace ids never added.
  Analysis finish();
  // Tallies of label pairs past --max-labels (LiveCounts::pairs_over).
  std::uint64_t pairs_over() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The order traces are shown in: slowest first, ties by trace id.
bool slower_shown(const ShownTrace& x, const ShownTrace& y);

// Per span: its time on the critical path.
void time_on_path(const Trace& t, const std::vector<PathSection>& path, std::vector<Nanos>& on);

}  // namespace ta
