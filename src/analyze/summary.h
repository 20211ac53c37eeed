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
#include "analyze/sample.h"
#include "assemble/trace.h"
#include "cli/options.h"
#include "store/span_log.h"

namespace ta {

struct GroupSummary {
  std::string name;
  std::uint64_t spans = 0;
  std::uint64_t errors = 0;
  Distribution duration;
  Nanos self_total = 0;
  Nanos critical_total = 0;
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
  Nanos latency_total = 0;
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

// The caller -> callee pairs, most calls first, ties in name order. A fleet
// of hosts has about as many pairs as calls, nearly all of one call: a pair
// is kept in 40 bytes (its names as ranks in one list of names, its values
// when it has one call, else the index of its distributions, kept aside),
// and its EdgeSummary is made when it is read.
class EdgeList {
 public:
  class Iterator {
   public:
    Iterator(const EdgeList* list, std::size_t i) : list_(list), i_(i) {}
    EdgeSummary operator*() const { return (*list_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    const EdgeList* list_;
    std::size_t i_;
  };

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  EdgeSummary operator[](std::size_t i) const;
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, rows_.size()}; }

  // Building it: the names by rank, room for `rows` pairs of which `several`
  // have more than one call, the pairs in any order, then sort().
  void start(std::vector<std::string> names, std::size_t rows, std::size_t several);
  void add_one(std::uint32_t caller, std::uint32_t callee, bool error, Nanos client, bool has_gap, Nanos gap);
  // A pair of several calls: its two distributions, to be filled in (they
  // stay where they are).
  std::pair<Distribution*, Distribution*> add_several(std::uint32_t caller, std::uint32_t callee,
                                                      std::uint64_t calls, std::uint64_t errors);
  void sort();

 private:
  struct Row {
    std::uint32_t caller = 0, callee = 0;  // ranks in names_
    std::uint64_t calls = 0;
    // One call: error | has_gap << 1, and x, y the call's client time and
    // gap. Several: the errors | kSeveral, and x the index of its
    // distributions in several_.
    std::uint64_t errors = 0;
    Nanos x = 0, y = 0;
  };
  static constexpr std::uint64_t kSeveral = std::uint64_t{1} << 63;
  std::vector<std::string> names_;
  std::vector<Row> rows_;
  std::vector<std::pair<Distribution, Distribution>> several_;
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

struct Analysis {
  std::vector<ShownTrace> shown;
  std::vector<std::string> missing_trace_ids;  // asked for with --trace, not found
  std::string group_label;                     // "service", "host", ...
  std::vector<GroupSummary> groups;            // by critical-path time, largest first
  TraceTotals traces;
  EdgeList edges;                              // by calls, most first
  std::vector<SkewSummary> skew;               // host pairs with a callee outside its caller's view
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
