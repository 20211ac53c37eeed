#include "analyze/summary.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "analyze/pair_offset_counts.h"
#include "util/chunked_vector.h"
#include "util/memory.h"
#include "util/pair_map.h"
#include "util/radix_sort.h"
#include "util/thread_group.h"
#include "util/trace_ids.h"

namespace ta {

bool slower_shown(const ShownTrace& x, const ShownTrace& y) {
  const Nanos lx = x.trace.latency(), ly = y.trace.latency();
  return lx != ly ? lx > ly : x.trace.trace_id < y.trace.trace_id;
}

void time_on_path(const Trace& t, const std::vector<PathSection>& path, std::vector<Nanos>& on) {
  on.assign(t.size(), 0);
  for (const PathSection& p : path) on[p.span] += p.end - p.start;
}

namespace {

constexpr std::size_t kExamplesPerKind = 5;
// Spans whose values are queued before they are applied (Accumulator::add).
constexpr std::size_t kApplyBatch = 4096;

struct GroupAcc {
  Sample durations;
  std::uint64_t errors = 0;
  Total self = 0;
  Total critical = 0;
};

// Groups by symbol: a slot a symbol (4 bytes) and a GroupAcc (176) only
// for the symbols met. A fleet's labels number hundreds of thousands, a
// span or two each, and every analysing thread meets some of all of them:
// a GroupAcc for every label in every thread took 24 MB a thread at
// 150,000 hosts, past --max-memory before the analysis could stop.
class GroupTable {
 public:
  // Room for symbols below `n` (their slots).
  void cover(std::size_t n) {
    if (slot_.size() >= n) return;
    if (slot_.capacity() < n) slot_.reserve(std::max(n, 2 * slot_.capacity()));
    slot_.resize(n, kNone);
  }
  std::size_t symbols() const { return slot_.size(); }
  // The symbol's group, made empty if new.
  GroupAcc& at(Symbol s) {
    cover(std::size_t{s} + 1);
    return at_covered(s, std::numeric_limits<std::size_t>::max());  // as Sample() keeps them
  }
  // Within cover(); a new group's durations keep `exact_limit` values exactly.
  GroupAcc& at_covered(Symbol s, std::size_t exact_limit) {
    std::uint32_t& k = slot_[s];
    if (k == kNone) {
      k = static_cast<std::uint32_t>(acc_.size());
      acc_.emplace_back().durations = Sample(exact_limit);
    }
    return acc_[k];
  }
  GroupAcc* find(Symbol s) { return s < slot_.size() && slot_[s] != kNone ? &acc_[slot_[s]] : nullptr; }
  const GroupAcc* find(Symbol s) const {
    return s < slot_.size() && slot_[s] != kNone ? &acc_[slot_[s]] : nullptr;
  }
  // Within cover().
  void prefetch(Symbol s, Nanos v) const {
    if (const std::uint32_t k = slot_[s]; k != kNone) acc_[k].durations.prefetch(v);
  }
  // f(symbol, group) for every group, by symbol.
  template <typename F>
  void for_each(F&& f) {
    for (Symbol s = 0; s < slot_.size(); ++s)
      if (slot_[s] != kNone) f(s, acc_[slot_[s]]);
  }
  void shrink() {
    for (GroupAcc& g : acc_) g.durations.shrink();
  }

 private:
  std::vector<std::uint32_t> slot_;  // by symbol: index in acc_, or kNone
  std::vector<GroupAcc> acc_;        // in the order met
};

// The distribution of one value (count 0 when there is none).
Distribution one_value(bool present, Nanos v) {
  Distribution d;
  if (!present) return d;
  d.count = 1;
  d.min = d.p50 = d.p90 = d.p99 = d.max = v;
  return d;
}

struct SkewAcc {
  std::uint64_t outside = 0;
  Sample offsets;
};

bool earlier(const AnomalyExample& a, const AnomalyExample& b) {
  if (a.file != b.file) return a.file < b.file;
  if (a.line != b.line) return a.line < b.line;
  if (a.trace_id != b.trace_id) return a.trace_id < b.trace_id;
  if (a.span_id != b.span_id) return a.span_id < b.span_id;
  if (a.kind != b.kind) return a.kind < b.kind;
  return a.detail < b.detail;
}

// Clock offsets of calls, per host pair, listed as they come: 12 bytes a
// call, in blocks of 64K calls (util/chunked_vector.h: a full block never
// moves). An offset in whole milliseconds (to 12 days) is kept as
// ms << 1 | 1, else in whole microseconds (to 17 minutes) as us << 1; any
// other offset goes to a table beside the list, counted. Counting every
// call per (pair, offset) in a table, where whole milliseconds repeat,
// took longer than listing (a slot fetched at random a call) and saved no
// memory at the run's peak: the list grows as the span log, each call's
// span far larger than its 12 bytes, is given back.
class OffsetTally {
 public:
  void add(std::uint64_t pair, Nanos offset) {
    std::int32_t code;
    if (narrow(offset, code)) {
      list_.emplace_back(Listed{pair, code});
    } else {
      ++wide_.at(pair, offset).count;
    }
  }
  template <typename F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < list_.size(); ++i) f(list_[i].pair, offset_of(list_[i].code), std::uint32_t{1});
    wide_.for_each(f);
  }

 private:
  static constexpr Nanos kMilli = 1'000'000, kMicro = 1'000;
  static constexpr Nanos kNarrowLimit = Nanos{1} << 30;  // |value| below it
  static constexpr std::size_t kBlock = std::size_t{1} << 16;  // calls a block of the list
  static bool narrow(Nanos offset, std::int32_t& code) {
    const bool milli = offset % kMilli == 0;
    if (!milli && offset % kMicro != 0) return false;
    const Nanos value = offset / (milli ? kMilli : kMicro);
    if (value >= kNarrowLimit || value < -kNarrowLimit) return false;
    code = static_cast<std::int32_t>(value * 2 + (milli ? 1 : 0));
    return true;
  }
  static Nanos offset_of(std::int32_t code) { return Nanos{code >> 1} * (code & 1 ? kMilli : kMicro); }

#pragma pack(push, 4)
  struct Listed {
    std::uint64_t pair;
    std::int32_t code;
  };
#pragma pack(pop)
  static_assert(sizeof(Listed) == 12);

  ChunkedVector<Listed, kBlock * sizeof(Listed)> list_;
  PairOffsetCounts<Nanos, std::uint64_t> wide_;
};

// Everything one analysing thread contributes; the threads' results are
// summed up afterwards. Keyed by symbol (pairs packed in 64 bits): the
// whole run shares one symbol table, so results merge without naming
// anything; names are given once, at the end.
struct PartResult {
  const SymbolTable* symbols = nullptr;
  GroupTable groups;  // by symbol
  PairMap<EdgeAcc> edges;
  PairMap<SkewAcc> skew;  // live mode: bounded samples per host pair
  // Batch: every logged call's clock offset, counted by host pair and
  // offset, and the pairs with a callee outside its caller's view.
  OffsetTally skew_offsets;
  PairMap<std::uint64_t> skew_outside;
  Sample latencies, span_counts;
  std::vector<ShownTrace> shown;  // this thread's candidates for showing
  std::uint64_t adjustments = 0;
  std::array<std::vector<AnomalyExample>, kAnomalyKinds> examples;
  std::array<std::uint64_t, kAnomalyKinds> anomaly_counts{};
  TraceTotals traces;
  std::uint64_t anomalies = 0, spans = 0, duplicates = 0, inferred = 0;
  bool any_service = false;
};

// One pair's tallies into another's: settling a listed table, and merging
// the threads' tables.
void merge_edge(EdgeAcc& to, EdgeAcc& from) { to.merge(from); }

Symbol group_of(const Span& s, const Config& c) {
  switch (c.group) {
    case GroupKey::kHost: return s.host;
    case GroupKey::kService: return s.service;
    case GroupKey::kOperation: return s.operation;
    case GroupKey::kField: return s.group;
    case GroupKey::kDefault: break;
  }
  return s.service != 0 ? s.service : s.host;
}


bool wanted(const Config& c, std::string_view id) {
  return std::any_of(c.trace_ids.begin(), c.trace_ids.end(),
                     [&](const std::string& asked) { return trace_id_names(asked, id); });
}

// Keeps the `keep` earliest examples; trims in batches to stay linear.
void keep_earliest(std::vector<AnomalyExample>& v, std::size_t keep, bool final) {
  if (v.size() <= keep || (!final && v.size() < keep * 8)) return;
  std::sort(v.begin(), v.end(), earlier);
  v.resize(keep);
}

std::size_t keep_count(const Config& c) {
  return c.trace_ids.empty() && !c.all_traces ? c.top : SIZE_MAX;
}

// Tallies trace after trace against one symbol table; finish() names the
// symbols. Batch analysis runs one per thread; live mode one for the run,
// with bounded samples.
class Accumulator {
 public:
  Accumulator(const Config& config, const SymbolTable& symbols, std::size_t exact_limit)
      : config_(config), symbols_(symbols), limit_(exact_limit) {
    r_.latencies = Sample(limit_);
    r_.span_counts = Sample(limit_);
  }

  void add(const Trace& t, const std::vector<Nanos>& self, const std::vector<Nanos>& on_path) {
    PartResult& r = r_;
    r.adjustments += t.adjustments.size();
    r.spans += t.logged_spans;
    r.inferred += t.inferred_spans;
    r.duplicates += t.duplicates;
    r.latencies.push(t.latency());
    r.span_counts.push(static_cast<Nanos>(t.size()));
    r.traces.latency_total += t.latency();

    bool orphans = false, no_root = false;
    for (const Anomaly& an : t.anomalies) {
      const auto k = static_cast<std::size_t>(an.kind);
      orphans |= an.kind == AnomalyKind::kOrphan;
      no_root |= an.kind == AnomalyKind::kNoRoot;
      ++r.anomaly_counts[k];
      ++r.anomalies;
      const Span& s = t.spans[an.span];
      r.examples[k].push_back({an.kind, t.trace_id, std::string(t.span_id(an.span)), s.file, s.line, an.detail});
      keep_earliest(r.examples[k], kExamplesPerKind, false);
    }
    r.traces.missing_root += no_root;
    r.traces.with_orphans += orphans;
    r.traces.with_inferred += t.inferred_spans > 0;
    r.traces.complete += !no_root && !orphans && t.inferred_spans == 0;

    // Per-span and per-call values are queued and applied in batches, one
    // table at a time, so each table stays in cache while it is updated
    // (a batch may end inside a trace: a million spans queue no more).
    // Live mode queues as many: its analysis has a thread of its own, and a
    // longer apply held up the thread that files spans.
    for (std::uint32_t i = 0; i < t.size(); ++i) {
      if (spans_.size() >= kApplyBatch) apply();
      const Span& s = t.spans[i];
      r.any_service |= s.service != 0;
      // Written in place, field by field: a struct built on the stack and
      // copied in is read back across several stores, and waits for them.
      SpanValues& sv = spans_.emplace_back();
      sv.duration = s.duration;
      sv.self = self[i];
      sv.critical = on_path[i];
      sv.group = group_of(s, config_);
      sv.error = (s.flags & kError) != 0;
      const std::uint32_t c = t.client_call[i];
      if (c == kNone || t.parent[i] == kNone) continue;
      const Call& call = t.calls[c];
      const std::uint32_t p = t.parent[i];
      const Symbol from = group_of(t.spans[p], config_), to = group_of(s, config_);
      CallValues& v = calls_.emplace_back();
      v.edge = (static_cast<std::uint64_t>(from) << 32) | to;
      v.client = call.duration;
      v.error = call.http_code >= 500;
      v.logged = (s.flags & kInferred) == 0;
      if (v.logged) {
        v.gap = call.duration - s.duration;
        // Clock comparison per host pair, on the times as logged.
        v.pair = (static_cast<std::uint64_t>(t.spans[p].host) << 32) | s.host;
        const Nanos start = s.start - t.shift_of(i), sub_start = call.start - t.shift_of(p);
        v.offset = start - sub_start;
        v.outside = start < sub_start || start + s.duration > sub_start + call.duration;
      }
    }
  }

  // Applies the queued values.
  void apply() {
    Symbol top = 0;
    for (const SpanValues& v : spans_) top = std::max(top, v.group);
    // Slots for every label known (a batch run knows them all).
    if (groups_.symbols() <= top) groups_.cover(std::max<std::size_t>(std::size_t{top} + 1, symbols_.size()));
    // The tables these values go to are megabytes together, and nearly every
    // update misses the cache: the slot a value a few places ahead will
    // update is fetched while this one is applied.
    constexpr std::size_t kAhead = 8;
    for (std::size_t i = 0; i < spans_.size(); ++i) {
      if (i + kAhead < spans_.size()) {
        const SpanValues& ahead = spans_[i + kAhead];
        groups_.prefetch(ahead.group, ahead.duration);
      }
      const SpanValues& v = spans_[i];
      GroupAcc& g = groups_.at_covered(v.group, limit_);
      g.durations.push(v.duration);
      g.errors += v.error;
      g.self += v.self;
      g.critical += v.critical;
    }
    if (edges_.mode() == PairMap<EdgeAcc>::Mode::kListed) {  // choose_edge_tally()
      for (const CallValues& v : calls_) edges_.append(v.edge).add(v.client, v.logged, v.gap, v.error, limit_);
    } else {
      for (std::size_t i = 0; i < calls_.size(); ++i) {
        // An edge's values are fetched in steps a few calls apart, each step
        // reading only what the one before fetched: its slot, its entry, its
        // samples, then the samples' slots for this call's values.
        if (i + 4 * kAhead < calls_.size()) edges_.prefetch_slot(calls_[i + 4 * kAhead].edge);
        if (i + 3 * kAhead < calls_.size()) edges_.prefetch_entry(calls_[i + 3 * kAhead].edge);
        if (i + 2 * kAhead < calls_.size()) {
          if (const EdgeAcc* e = edges_.find(calls_[i + 2 * kAhead].edge)) e->prefetch_block();
        }
        if (i + kAhead < calls_.size()) {
          const CallValues& ahead = calls_[i + kAhead];
          if (const EdgeAcc* e = edges_.find(ahead.edge)) e->prefetch_values(ahead.client, ahead.gap);
        }
        const CallValues& v = calls_[i];
        EdgeAcc& e = edges_[capped(edges_, v.edge)];
        e.add(v.client, v.logged, v.gap, v.error, limit_);
      }
    }
    edge_calls_ += calls_.size();
    if (unbounded()) choose_edge_tally();
    for (const CallValues& v : calls_) {
      if (!v.logged) continue;
      if (unbounded()) {
        // Most host pairs are never shown: their offsets wait, counted, in
        // one table for every pair, and merge_results takes the shown ones.
        r_.skew_offsets.add(v.pair, v.offset);
        if (v.outside) ++r_.skew_outside[v.pair];
        continue;
      }
      SkewAcc& k = skew_[capped(skew_, v.pair)];
      if (k.offsets.empty()) k.offsets = skew_sample();
      k.offsets.push(v.offset);
      k.outside += v.outside;
    }
    spans_.clear();
    calls_.clear();
  }

  PartResult& result() { return r_; }
  std::uint64_t pairs_over() const { return pairs_over_; }

  // A live run tallies at most --max-labels pairs in each table: a new one
  // past them goes to the pair of the label table's overflow symbol
  // ("(other)"), counted.
  template <typename Map>
  std::uint64_t capped(Map& map, std::uint64_t key) {
    if (unbounded() || map.size() < config_.max_labels || map.find(key)) return key;
    ++pairs_over_;
    const std::uint64_t other = symbols_.overflow_symbol();
    return other << 32 | other;
  }

  // Host pairs can number hosts²: a bounded run keeps 64 of their clock
  // offsets exact and counts the rest in coarse sparse buckets (1/8 of a
  // power of two: within 6.25%), so a pair costs under a kilobyte.
  bool unbounded() const { return limit_ == std::numeric_limits<std::size_t>::max(); }
  Sample skew_sample() const {
    return limit_ == std::numeric_limits<std::size_t>::max() ? Sample()
                                                             : Sample(std::min<std::size_t>(limit_, 64), 3, true);
  }

  // A batch run's pairs are tallied in a table (a lookup a call) while
  // most calls are of a pair met before. Once the pairs are more than half
  // the calls (a fleet of hosts, each pair of them with a call or two), a
  // lookup is a cache miss a call and the table's index megabytes of new
  // memory: each call is appended instead, and the list settled
  // (PairMap::settle) at the end. An appended call takes 24 bytes, where a
  // pair in the table takes 24 and its index 16 to 32. The list is settled
  // on the way too, each time it grows eightfold (from
  // Config::settle_pairs_from), and goes back to the table when that shows
  // most calls repeat a pair: a repeated call takes 24 bytes listed, and 4
  // to 16 in the table's samples.
  void choose_edge_tally() {
    if (edges_.mode() == PairMap<EdgeAcc>::Mode::kIndexed) {
      if (edge_calls_ < config_.list_pairs_from || edges_.size() * 2 <= edge_calls_) return;
      edges_.list();
      settle_at_ = std::max(8 * edges_.size(), config_.settle_pairs_from);
      return;
    }
    if (edges_.size() < settle_at_) return;
    edges_.settle(merge_edge);
    if (edges_.size() * 4 < edge_calls_) {
      edges_.reindex();
    } else {
      edges_.list();
      settle_at_ = std::max(8 * edges_.size(), config_.settle_pairs_from);
    }
  }
  // The accumulator is spent.
  PartResult finish() {
    apply();
    if (edges_.mode() == PairMap<EdgeAcc>::Mode::kListed) {
      edges_.settle(merge_edge);
      edges_.trim();
    }
    PartResult& r = r_;
    for (auto& ex : r.examples) keep_earliest(ex, kExamplesPerKind, true);
    r.symbols = &symbols_;
    groups_.shrink();
    for (auto& [key, e] : edges_.entries()) {
      if (!e.samples()) continue;
      e.samples()->client.shrink();
      e.samples()->gap.shrink();
    }
    for (auto& [key, k] : skew_.entries()) k.offsets.shrink();  // all pairs: "outside" is judged over every thread
    r.groups = std::move(groups_);
    r.edges = std::move(edges_);
    r.skew = std::move(skew_);
    r.latencies.shrink();
    r.span_counts.shrink();
    return std::move(r);
  }

 private:
  const Config& config_;
  const SymbolTable& symbols_;
  std::uint64_t pairs_over_ = 0;  // pairs past --max-labels, each time
  std::size_t limit_;
  std::uint64_t edge_calls_ = 0;  // calls tallied by pair
  std::size_t settle_at_ = 0;     // entries: when a listed table is settled
  PartResult r_;
  struct SpanValues {
    Nanos duration, self, critical;
    Symbol group;
    bool error;
  };
  struct CallValues {
    std::uint64_t edge, pair;
    Nanos client, gap, offset;
    bool error, logged, outside;
  };
  std::vector<SpanValues> spans_;
  std::vector<CallValues> calls_;
  GroupTable groups_;
  PairMap<EdgeAcc> edges_;
  PairMap<SkewAcc> skew_;
};

// --max-memory during analysis, shared by the analysing threads. A trace
// too large for the memory left is not assembled (the others still are);
// once resident memory passes the limit, no more traces are.
class AnalysisMemory {
 public:
  explicit AnalysisMemory(std::uint64_t limit) : limit_(limit) {}
  // Each analysing thread's view.
  MemoryWatch watch() const { return MemoryWatch(limit_, kCheckEverySpans); }
  // True when the trace of `records` spans may be analysed; counts those
  // that are not.
  bool admit(MemoryWatch& watch, const TraceData& data) {
    const std::uint64_t need = std::uint64_t{data.record_count} * kAssembleBytesPerSpan;
    // A large trace is asked about first: passed over alone, it is named
    // (and the traces after it may still fit).
    const bool too_large = !stopped_.load(std::memory_order_relaxed) && data.record_count >= kLargeTrace &&
                           watch.no_room_for(need);
    if (!too_large && !stopped_.load(std::memory_order_relaxed) && watch.over(data.record_count))
      stopped_.store(true, std::memory_order_relaxed);
    if (!stopped_.load(std::memory_order_relaxed) && !too_large) return true;
    std::lock_guard<std::mutex> lock(mu_);
    ++skipped_.traces;
    skipped_.spans += data.record_count;
    if (too_large && (skipped_.largest_id.empty() || data.record_count > skipped_.largest_spans)) {
      skipped_.largest_id = data.trace_id;
      skipped_.largest_spans = data.record_count;
      skipped_.largest_need = need;
    }
    return false;
  }
  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }
  // Grouping a partition of `records` takes scratch memory for each before
  // any trace is handed out (one trace of millions of identical lines is
  // all in one partition): when there is no room for it, the analysis
  // stops there, as at the limit.
  bool admit_partition(const MemoryWatch& watch, std::uint64_t records) {
    if (records < kLargeTrace || !watch.no_room_for(records * kGroupBytesPerRecord)) return true;
    stopped_.store(true, std::memory_order_relaxed);
    return false;
  }
  MemoryShortfall result() const { return skipped_; }

 private:
  // Grouping's scratch a record (SpanLog::Scratch: the sorted entry, its
  // trace, the record and location lists handed to the trace).
  static constexpr std::uint64_t kGroupBytesPerRecord = 64;
  static constexpr std::uint32_t kLargeTrace = 1u << 16;        // asked about before it is assembled
  // /proc read once per this many spans (a few microseconds, per some
  // milliseconds of work): a span may cost a group of its own (a fleet of
  // hosts, a span each), and 2^18 of them had grown past the limit unseen.
  static constexpr std::uint64_t kCheckEverySpans = 1u << 13;
  std::uint64_t limit_;
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  MemoryShortfall skipped_;
};

// Analyses partitions, taking the next one left until none is, into one
// accumulator; stops early when the group stops (another thread failed)
// or the memory limit is reached.
PartResult analyze_partitions(SpanLog& log, const Config& config, std::atomic<std::size_t>& next,
                              SpanLog::RefusedSpans& refused, TraceJoinNotes& joins, const ThreadGroup& group,
                              AnalysisMemory& memory) {
  Accumulator acc(config, log.symbols(), std::numeric_limits<std::size_t>::max());
  // Candidates for showing, as a heap whose front is the least slow, so a
  // trace is assembled once even when it ends up shown.
  std::vector<ShownTrace>& best = acc.result().shown;
  const std::size_t keep = keep_count(config);
  const SymbolTable& symbols = log.symbols();
  const AssembleOptions assemble_options{config.adjust_skew};

  Trace t;
  std::vector<PathSection> path;
  std::vector<Nanos> self, on_path;
  SpanLog::Scratch scratch;
  MemoryWatch watch = memory.watch();
  auto analyze_trace = [&](const TraceData& data) {
    if (!memory.admit(watch, data)) return;
    assemble(data, t, assemble_options);
    critical_path(t, path);
    self_times(t, self);
    time_on_path(t, path, on_path);
    acc.add(t, self, on_path);
    if (keep == 0 || (!config.trace_ids.empty() && !wanted(config, t.trace_id))) return;
    if (best.size() >= keep) {
      const Trace& weakest = best.front().trace;
      const bool slower_than_weakest = t.latency() != weakest.latency() ? t.latency() > weakest.latency()
                                                                         : t.trace_id < weakest.trace_id;
      if (!slower_than_weakest) return;
      std::pop_heap(best.begin(), best.end(), slower_shown);
      best.pop_back();
    }
    best.push_back(ShownTrace{std::move(t), &symbols, std::move(path), std::move(self), std::move(on_path)});
    std::push_heap(best.begin(), best.end(), slower_shown);
  };
  for (std::size_t p; !group.stopping() && !memory.stopped() && (p = next++) < SpanLog::kPartitions;) {
    if (memory.admit_partition(watch, log.partition_records(p)))
      log.for_each_trace(p, scratch, refused, joins, analyze_trace);
    // The traces kept for showing own their spans: the records may go.
    log.partition_done(p);
  }
  std::sort(best.begin(), best.end(), slower_shown);
  return acc.finish();
}
template <typename T>
void append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// Computes each sample's distribution into its slot, the largest samples
// first, on up to `threads` threads: the merged samples hold every span's
// and every call's values, and their percentiles are the bulk of the merge.
// Samples of this many values or more are summarized largest first.
constexpr std::uint64_t kLargeSample = 1024;

void summarize_all(std::vector<std::pair<Sample*, Distribution*>>& jobs, std::size_t threads) {
  // The largest first, so that the threads finish together; the small ones
  // (most of a fleet's pairs) after them in any order: sorting them all
  // would take longer than summarizing them.
  const auto large_end = std::partition(jobs.begin(), jobs.end(),
                                        [](const auto& j) { return j.first->count() >= kLargeSample; });
  std::sort(jobs.begin(), large_end, [](const auto& x, const auto& y) { return x.first->count() > y.first->count(); });
  std::atomic<std::size_t> next{0};
  ThreadGroup pool;
  auto work = [&] {
    for (std::size_t i; !pool.stopping() && (i = next++) < jobs.size();) *jobs[i].second = jobs[i].first->summarize();
  };
  for (std::size_t k = 1; k < std::min(threads, jobs.size()); ++k) pool.spawn("ta-summarize", work);
  work();
  pool.join();
}

// The merge's steps over a fleet's pairs use another thread for each this
// much work (fewer are done sooner on one than a thread is started): pairs
// merged (a pair's calls merge at once, but for a few listed in a small
// block), and pairs of several calls, each one's distributions computed.
// Merging frees what the threads' tables held, into the heaps of the
// threads that made them: two threads merging 200 hosts' 12,000 pairs of
// 70 calls each waited on those heaps' locks, and took longer than one.
constexpr std::size_t kMergePairsPerThread = 65536;
constexpr std::size_t kSeveralPairsPerThread = 2048;
constexpr std::size_t kCountPairsPerThread = 16384;  // pairs counted, or looked up in another thread's table

// Parts of `size` items of work: one a `per_thread` items, at least one,
// at most `threads`.
std::size_t parts_of(std::size_t size, std::size_t per_thread, std::size_t threads) {
  return std::clamp<std::size_t>(size / per_thread, 1, std::max<std::size_t>(threads, 1));
}
// f(part, from, to) on each of `parts` equal ranges of `size` items, the
// first on this thread and each other on a thread named `name`.
template <typename F>
void in_parts(std::size_t size, std::size_t parts, const char* name, F&& f) {
  ThreadGroup pool;
  for (std::size_t k = 1; k < parts; ++k)
    pool.spawn(name, [&f, size, parts, k] { f(k, size * k / parts, size * (k + 1) / parts); });
  f(std::size_t{0}, std::size_t{0}, size / parts);
  pool.join();
}

// The first `several` pairs of the list (those of more than one call):
// each one's calls and errors taken, and of the first `rows` (those the
// report shows) the distributions of a few calls computed (and their
// values freed), and those of more listed in `jobs` for summarize_all. A
// fleet has hundreds of thousands of such pairs, each a fetch or two from
// memory: ranges of them are taken on up to `threads` threads.
void take_several_pairs(EdgeList& edges, std::size_t several, std::size_t rows, std::size_t threads,
                        std::vector<std::pair<Sample*, Distribution*>>& jobs) {
  const std::size_t n = parts_of(several, kSeveralPairsPerThread, threads);
  std::vector<std::vector<std::pair<Sample*, Distribution*>>> listed(n);
  in_parts(several, n, "ta-merge", [&](std::size_t part, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      if (i + 32 < to) edges.prefetch(i + 32);
      if (i + 16 < to) edges.entry(i + 16).prefetch_block();
      EdgeAcc& e = edges.take_several(i);
      const auto [client, gap] = edges.distributions(i);
      // A pair not shown gives its calls and errors alone; its values are
      // left as they are (freeing a fleet's hundreds of thousands of small
      // blocks one by one took longer than the rest of this step, and the
      // memory is not asked for again).
      if (i >= rows) continue;
      if (EdgeAcc::Samples* samples = e.samples()) {
        listed[part].emplace_back(&samples->client, client);
        listed[part].emplace_back(&samples->gap, gap);
      } else if (EdgeAcc::Few* f = e.few()) {
        *client = distribution(f->client(), f->calls);
        *gap = distribution(f->gap(), f->gaps);
        e.clear();  // while it is in cache
      }
    }
  });
  edges.check_several_order();
  for (auto& l : listed) append(jobs, l);
}

// The labels in name order: equal names (symbol 0 and a label "(none)")
// share a rank, and ranks compare as the names do.
class NameRanks {
 public:
  explicit NameRanks(const SymbolTable* symbols) {
    const std::size_t n = symbols ? symbols->size() : 1;
    // The texts looked up once, not at every comparison (a fleet's tens of
    // thousands of hosts).
    std::vector<std::string_view> text(n);
    for (Symbol s = 0; s < n; ++s) text[s] = s == 0 ? std::string_view("(none)") : symbols->text(s);
    // Sorted by their first 16 bytes as two big-endian words (zeros past
    // the end: a text that ends first sorts first, as it does compared),
    // the texts compared only where those are equal.
    struct Key {
      std::uint64_t high, low;
      Symbol symbol;
    };
    auto word = [](std::string_view t, std::size_t from) {
      std::uint64_t w = 0;
      for (std::size_t i = 0; i < 8; ++i)
        w = w << 8 | (from + i < t.size() ? static_cast<unsigned char>(t[from + i]) : 0u);
      return w;
    };
    std::vector<Key> keys(n);
    for (Symbol s = 0; s < n; ++s) keys[s] = Key{word(text[s], 0), word(text[s], 8), s};
    std::sort(keys.begin(), keys.end(), [&](const Key& x, const Key& y) {
      if (x.high != y.high) return x.high < y.high;
      if (x.low != y.low) return x.low < y.low;
      return text[x.symbol] < text[y.symbol];
    });
    std::vector<Symbol> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = keys[i].symbol;
    rank_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (i == 0 || text[order[i]] != text[order[i - 1]]) names_.emplace_back(text[order[i]]);
      rank_[order[i]] = static_cast<std::uint32_t>(names_.size() - 1);
    }
  }
  // A pair of symbols (caller << 32 | callee) as the pair of their ranks.
  std::uint32_t rank(Symbol s) const { return rank_[s]; }
  std::uint64_t pair(std::uint64_t key) const {
    return std::uint64_t{rank_[key >> 32]} << 32 | rank_[key & 0xffffffffu];
  }
  const std::string& name(std::uint32_t rank) const { return names_[rank]; }
  std::size_t size() const { return names_.size(); }
  std::vector<std::string> take_names() { return std::move(names_); }

 private:
  std::vector<std::uint32_t> rank_;  // by symbol
  std::vector<std::string> names_;   // by rank
};

// Lists of entries by symbol pairs (PairMap::take_entries), one a thread.
template <typename V>
using EntryLists = std::vector<ChunkedVector<std::pair<std::uint64_t, V>>>;
static_assert(sizeof(PairRef) == 16 && SpanLog::kPartitions <= 0x10000);
template <typename V>
V& entry_at(EntryLists<V>& lists, const PairRef& n) {
  return lists[n.list][n.index].second;
}
template <typename V>
EntryLists<V> take_entries(std::vector<PairMap<V>>& maps) {
  EntryLists<V> lists;
  for (PairMap<V>& m : maps) lists.push_back(m.take_entries());
  return lists;
}

// The entries of lists by symbol pairs that `keep` says to show, in the
// order of their names' ranks, the entries of pairs with the same names
// (the same pair in several lists, or names shared) merged into the first
// (merge(to, from)). The entries stay where they are: the list points at
// them, so the threads' lists need no merged copy (16 bytes a pair). Each
// keeps its weigh(entry), summed as entries merge (capped at kMaxWeight):
// read while the lists are read in order, it needs no visit to the entry later.
//
// The references are first dealt out into kRanges ranges of their
// caller's rank (each range's size counted before), then each range is
// sorted and merged on its own, on up to `threads` threads: a sort's buffer
// is one range's size, not the whole list's (at a fleet's end that buffer
// would be the run's peak).
template <typename V, typename Keep, typename Weigh, typename Merge>
std::vector<PairRef> by_names(EntryLists<V>& lists, const NameRanks& ranks, std::size_t threads, Keep&& keep,
                              Weigh&& weigh, Merge&& merge) {
  constexpr std::uint64_t kMaxWeight = PairRef::kMaxWeight;
  constexpr std::size_t kRanges = 64;
  const std::uint64_t names = std::max<std::size_t>(ranks.size(), 1);
  auto range_of = [&](std::uint64_t pair) { return static_cast<std::size_t>((pair >> 32) * kRanges / names); };
  std::array<std::size_t, kRanges + 1> start{};
  for (const auto& entries : lists)
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
      const auto& [key, value] = entries[i];
      if (keep(key, value)) ++start[range_of(ranks.pair(key)) + 1];
    }
  for (std::size_t r = 0; r < kRanges; ++r) start[r + 1] += start[r];
  // Dealt out in the lists' order, so that each range holds entries of equal
  // keys in that order, and the stable sort keeps it: entries merge in the
  // same order every run.
  std::vector<PairRef> order(start[kRanges]);
  std::array<std::size_t, kRanges> at;
  std::copy(start.begin(), start.begin() + kRanges, at.begin());
  for (std::uint32_t m = 0; m < lists.size(); ++m) {
    const auto& entries = lists[m];
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
      const auto& [key, value] = entries[i];
      if (!keep(key, value)) continue;
      const auto weight = static_cast<std::uint16_t>(std::min<std::uint64_t>(weigh(value), kMaxWeight));
      const std::uint64_t pair = ranks.pair(key);
      order[at[range_of(pair)]++] = PairRef{pair, i, static_cast<std::uint16_t>(m), weight};
    }
  }
  // Each range sorted and its equal pairs merged (pairs of one caller name
  // are in one range), the ranges taken in turn by up to `threads` threads,
  // each kept at its start.
  std::array<std::size_t, kRanges> kept{};
  std::atomic<std::size_t> next{0};
  auto sort_and_merge = [&] {
    std::vector<PairRef> buffer;
    for (std::size_t r; (r = next++) < kRanges;) {
      PairRef* const first = order.data() + start[r];
      const std::size_t n = start[r + 1] - start[r];
      radix_sort(first, n, [](const PairRef& x) { return x.ranks; }, buffer);
      std::size_t k = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const PairRef& x = first[i];
        if (k > 0 && first[k - 1].ranks == x.ranks) {
          PairRef& to = first[k - 1];
          merge(entry_at(lists, to), entry_at(lists, x));
          to.weight = static_cast<std::uint16_t>(std::min<std::uint64_t>(std::uint64_t{to.weight} + x.weight, kMaxWeight));
        } else {
          first[k++] = x;
        }
      }
      kept[r] = k;
    }
  };
  {
    ThreadGroup pool;
    for (std::size_t t = 1; t < std::min<std::uint64_t>(threads, order.size() / kMergePairsPerThread); ++t)
      pool.spawn("ta-merge", sort_and_merge);
    sort_and_merge();
    pool.join();
  }
  std::size_t at_end = 0;
  for (std::size_t r = 0; r < kRanges; ++r) {
    std::copy(order.begin() + static_cast<std::ptrdiff_t>(start[r]),
              order.begin() + static_cast<std::ptrdiff_t>(start[r] + kept[r]),
              order.begin() + static_cast<std::ptrdiff_t>(at_end));
    at_end += kept[r];
  }
  order.resize(at_end);
  return order;
}

// The pairs (in name order, weighed by their calls) reordered as the report
// lists them, most calls first and stably, so ties stay in name order:
// counted out by their calls up to 255, and those of more (few) sorted
// after. Returns how many have more than one call.
//
// Most of a fleet's pairs have one call: they keep their order, moved up
// to the end in place, and only the others are counted out into a list
// of their own (not one the whole list's size).
std::size_t order_by_calls(std::vector<PairRef>& order, EntryLists<EdgeAcc>& lists) {
  constexpr std::uint64_t kCounted = 255;
  const std::size_t n = order.size();
  auto bucket_of = [&](const PairRef& x) { return kCounted - std::min<std::uint64_t>(x.weight, kCounted); };
  std::array<std::size_t, kCounted + 1> count{};
  std::size_t several = 0;
  for (const PairRef& x : order) {
    if (x.weight == 1) continue;
    ++several;
    ++count[bucket_of(x)];
  }
  // Every pair listed has a call: the pairs of one call are the last.
  if (count[kCounted] != 0) throw std::logic_error("order_by_calls: a pair of no call");
  const std::size_t most = count[0];  // the pairs of kCounted calls or more
  std::size_t at = 0;
  for (std::size_t& c : count) {
    const std::size_t here = c;
    c = at;
    at += here;
  }
  std::vector<PairRef> sorted(several);
  for (const PairRef& x : order)
    if (x.weight != 1) sorted[count[bucket_of(x)]++] = x;
  std::stable_sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(most),
                   [&](const PairRef& x, const PairRef& y) {
                     return entry_at(lists, x).calls() > entry_at(lists, y).calls();
                   });
  // The pairs of one call, in order, to the end, moved from the back: a
  // pair goes where it is or after, to a place whose pair has moved.
  std::size_t to = n;
  for (std::size_t i = n; i-- > 0;)
    if (order[i].weight == 1) order[--to] = order[i];
  std::copy(sorted.begin(), sorted.end(), order.begin());
  return several;
}

// The first `rows` pairs in the list's order (most calls first, ties by
// the ranks of their names), as text and Markdown show them, of `pairs` in
// all. A pair's calls from every thread are summed at the entry of the
// first thread that met it, and only the pairs returned have their values
// merged there: a fleet's hundreds of thousands of pairs are counted, not
// merged and put in order. Keys must be names (no two symbols share one).
std::vector<PairRef> first_pairs(std::vector<PairMap<EdgeAcc>>& maps, const NameRanks& ranks, std::size_t rows,
                                 std::size_t threads, std::size_t& pairs) {
  const std::size_t n = maps.size();
  // Settled tables (PairMap::settle: a fleet's) are all in one order, and
  // each later one is walked beside each earlier one; if any is settled,
  // the others are put in that order too.
  using Map = PairMap<EdgeAcc>;
  const bool in_order =
      std::any_of(maps.begin(), maps.end(), [](const Map& m) { return m.mode() == Map::Mode::kSorted; });
  for (Map& m : maps) {
    if (in_order && m.mode() != Map::Mode::kSorted) m.settle(merge_edge);
  }
  // Ranges of a table's entries on up to `threads` threads.
  auto in_ranges = [threads](std::size_t size, auto&& f) {
    in_parts(size, parts_of(size, kCountPairsPerThread, threads), "ta-count",
             [&f](std::size_t, std::size_t from, std::size_t to) { f(from, to); });
  };
  // By entry: the pair's calls from later threads, up to kCountAgain (as
  // many or more are counted again from their entries), or kMetBefore
  // where an earlier thread met it (its calls are counted there). A byte
  // an entry: a fleet's pairs are many, and nearly all have a call or two.
  constexpr std::uint8_t kCountAgain = 254, kMetBefore = 255;
  std::vector<std::vector<std::uint8_t>> more(n);
  for (std::size_t m = 0; m < n; ++m) more[m].resize(maps[m].size());
  // Each later table's pairs looked up in the earlier ones, in order (the
  // entries of one table are different pairs: its ranges add to different
  // entries).
  constexpr std::size_t kAhead = 16;
  for (std::size_t m = 1; m < n; ++m) {
    auto& entries = maps[m].entries();
    in_ranges(entries.size(), [&](std::size_t from, std::size_t to) {
      if (in_order) {
        for (std::size_t j = 0; j < m && from < to; ++j) {
          auto& earlier = maps[j].entries();
          std::size_t k = maps[j].lower_bound(entries[from].first);
          std::uint64_t k_order = k < earlier.size() ? Map::order_of(earlier[k].first) : 0;
          for (std::size_t i = from; i < to && k < earlier.size(); ++i) {
            if (more[m][i] == kMetBefore) continue;
            const std::uint64_t key = entries[i].first;
            const std::uint64_t order = Map::order_of(key);
            while (Map::before(k_order, earlier[k].first, order, key)) {
              if (++k == earlier.size()) break;
              k_order = Map::order_of(earlier[k].first);
            }
            if (k == earlier.size() || earlier[k].first != key) continue;
            more[j][k] = static_cast<std::uint8_t>(
                std::min<std::uint64_t>(more[j][k] + entries[i].second.calls(), kCountAgain));
            more[m][i] = kMetBefore;
          }
        }
        return;
      }
      for (std::size_t i = from; i < to; ++i) {
        for (std::size_t j = 0; j < m; ++j) {
          if (i + 2 * kAhead < to) maps[j].prefetch_slot(entries[i + 2 * kAhead].first);
          if (i + kAhead < to) maps[j].prefetch_entry(entries[i + kAhead].first);
        }
        for (std::size_t j = 0; j < m; ++j) {
          const std::size_t at = maps[j].index_of(entries[i].first);
          if (at == Map::kNotFound) continue;
          more[j][at] = static_cast<std::uint8_t>(
              std::min<std::uint64_t>(more[j][at] + entries[i].second.calls(), kCountAgain));
          more[m][i] = kMetBefore;
          break;
        }
      }
    });
  }
  // The first rows, found in ranges of each table on up to `threads`
  // threads, each range's as a heap whose front is the last of them.
  struct Candidate {
    std::uint64_t calls, ranks;
    std::uint32_t index;
    std::uint16_t list;
  };
  auto before = [](const Candidate& x, const Candidate& y) {
    return x.calls != y.calls ? x.calls > y.calls : x.ranks < y.ranks;
  };
  auto keep = [&before, rows](std::vector<Candidate>& first, const Candidate& x) {
    if (first.size() == rows) {
      if (rows == 0 || !before(x, first.front())) return;
      std::pop_heap(first.begin(), first.end(), before);
      first.back() = x;
    } else {
      first.push_back(x);
    }
    std::push_heap(first.begin(), first.end(), before);
  };
  std::vector<Candidate> first;
  std::mutex first_lock;
  pairs = 0;
  for (std::size_t m = 0; m < n; ++m) {
    auto& entries = maps[m].entries();
    in_ranges(entries.size(), [&](std::size_t from, std::size_t to) {
      std::vector<Candidate> here;
      std::size_t counted = 0;
      for (std::size_t i = from; i < to; ++i) {
        if (more[m][i] == kMetBefore) continue;
        std::uint64_t c = entries[i].second.calls();
        if (more[m][i] != kCountAgain) {
          c += more[m][i];
        } else {
          for (std::size_t j = m + 1; j < n; ++j)
            if (const EdgeAcc* e = maps[j].find(entries[i].first)) c += e->calls();
        }
        if (c == 0) throw std::logic_error("first_pairs: a pair of no call");
        ++counted;
        if (here.size() == rows && (rows == 0 || c < here.front().calls)) continue;
        keep(here, Candidate{c, ranks.pair(entries[i].first), static_cast<std::uint32_t>(i), static_cast<std::uint16_t>(m)});
      }
      std::lock_guard<std::mutex> hold(first_lock);
      pairs += counted;
      for (const Candidate& x : here) keep(first, x);
    });
  }
  std::sort_heap(first.begin(), first.end(), before);
  std::vector<PairRef> order;
  for (const Candidate& x : first) {
    auto& [key, to] = maps[x.list].entries()[x.index];
    for (std::size_t j = x.list + 1u; j < n; ++j)
      if (EdgeAcc* e = maps[j].find(key)) to.merge(*e);
    order.push_back(PairRef{x.ranks, x.index, x.list, static_cast<std::uint16_t>(std::min(x.calls, PairRef::kMaxWeight))});
  }
  return order;
}

Analysis merge_results(std::vector<PartResult>& results, const Config& config, std::size_t threads) {
  // Sum up the threads' results.
  Analysis a;
  Sample latencies, span_counts;
  std::vector<ShownTrace> shown;
  std::array<std::vector<AnomalyExample>, kAnomalyKinds> examples;
  bool any_service = false;
  // Groups by symbol: the first thread's, each with every thread's counts
  // and totals; the other threads' durations wait in `later` until the
  // rows shown are known (merged_durations, below).
  GroupTable by_symbol;
  std::vector<GroupTable> later;
  std::vector<std::uint64_t> spans_of;  // by symbol, every thread's
  std::vector<PairMap<EdgeAcc>> edge_maps;  // each thread's
  std::vector<PairMap<SkewAcc>> skew_by_symbol(1);
  auto merge_skew = [](SkewAcc& to, SkewAcc& from) {
    to.outside += from.outside;
    to.offsets.merge(std::move(from.offsets));
  };
  const SymbolTable* symbols = results.empty() ? nullptr : results.front().symbols;
  for (PartResult& r : results) {
    if (r.symbols != symbols) throw std::logic_error("analysis results of different symbol tables");
    const bool first = &r == &results.front();
    if (first) by_symbol = std::move(r.groups);
    GroupTable& groups = first ? by_symbol : later.emplace_back(std::move(r.groups));
    spans_of.resize(std::max(spans_of.size(), groups.symbols()));
    groups.for_each([&](Symbol sym, const GroupAcc& g) {
      if (g.durations.empty()) return;
      spans_of[sym] += g.durations.count();
      if (first) return;
      GroupAcc& to = by_symbol.at(sym);
      to.errors += g.errors;
      to.self += g.self;
      to.critical += g.critical;
    });
    edge_maps.push_back(std::move(r.edges));
    if (skew_by_symbol[0].size() == 0) {
      skew_by_symbol[0] = std::move(r.skew);
    } else {
      for (auto& [key, k] : r.skew.entries()) merge_skew(skew_by_symbol[0][key], k);
    }
    for (auto& [key, n] : r.skew_outside.entries()) skew_by_symbol[0][key].outside += n;
    a.adjustments += r.adjustments;
    latencies.merge(std::move(r.latencies));
    span_counts.merge(std::move(r.span_counts));
    append(shown, r.shown);
    for (int k = 0; k < kAnomalyKinds; ++k) {
      append(examples[k], r.examples[k]);
      a.anomaly_counts[k] += r.anomaly_counts[k];
    }
    a.anomalies += r.anomalies;
    a.spans += r.spans;
    a.duplicates += r.duplicates;
    a.inferred += r.inferred;
    a.traces.complete += r.traces.complete;
    a.traces.missing_root += r.traces.missing_root;
    a.traces.with_orphans += r.traces.with_orphans;
    a.traces.with_inferred += r.traces.with_inferred;
    a.traces.latency_total += r.traces.latency_total;
    any_service |= r.any_service;
  }
  // Offsets of the pairs that may be shown: those with a callee outside, and
  // those whose name another pair may share (see below).
  std::vector<bool> shared_name(symbols ? symbols->size() : 0);
  for (Symbol sym = 0; sym < shared_name.size(); ++sym) shared_name[sym] = sym == 0 || symbols->text(sym) == "(none)";
  // With no callee outside its caller's view in the whole run (the table
  // holds every pair that has one), no pair is shown, and no offset read.
  const bool any_outside = skew_by_symbol[0].size() != 0;
  for (PartResult& r : results) {
    if (any_outside)
      r.skew_offsets.for_each([&](std::uint64_t key, Nanos offset, std::uint64_t count) {
        SkewAcc* k = skew_by_symbol[0].find(key);
        if (!k && !shared_name[key >> 32] && !shared_name[key & 0xffffffffu]) return;
        (k ? *k : skew_by_symbol[0][key]).offsets.push(offset, count);
      });
    r = PartResult{};  // free it now: the merged copies are growing
  }
  // What the threads' tables freed is given back, not kept by malloc for
  // blocks the merge does not ask for (main.cpp keeps the heap from
  // shrinking while the store grows).
  malloc_trim(0);
  // Named now. Different symbols have different names but for symbol 0,
  // "(none)", which a label can also be; entries are merged by name. Pairs
  // (a fleet has hundreds of thousands) are merged and ordered by the ranks
  // of their names, numbers compared instead of strings.
  auto ambiguous = [&](Symbol s) { return s == 0 || symbols->text(s) == "(none)"; };
  NameRanks ranks(symbols);
  // A group a name: the totals of a name's symbols (symbol 0 and a label
  // "(none)") go to its first.
  constexpr Symbol kNoSymbol = std::numeric_limits<Symbol>::max();
  std::vector<Symbol> head_of(ranks.size(), kNoSymbol);
  std::vector<Symbol> next_of(spans_of.size(), kNoSymbol);  // a name's symbols, chained from its first
  std::vector<Symbol> heads;
  for (Symbol sym = 0; sym < spans_of.size(); ++sym) {
    if (spans_of[sym] == 0) continue;
    const std::uint32_t rank = ranks.rank(sym);
    if (head_of[rank] == kNoSymbol) {
      head_of[rank] = sym;
      heads.push_back(sym);
      continue;
    }
    next_of[sym] = next_of[head_of[rank]];
    next_of[head_of[rank]] = sym;
    GroupAcc &to = by_symbol.at(head_of[rank]), &g = by_symbol.at(sym);
    spans_of[head_of[rank]] += spans_of[sym];
    to.errors += g.errors;
    to.self += g.self;
    to.critical += g.critical;
  }
  // A row's durations: its name's symbols', from every thread, into its
  // first symbol's.
  auto merged_durations = [&](Symbol head) {
    Sample& to = by_symbol.at(head).durations;
    for (Symbol sym = head; sym != kNoSymbol; sym = next_of[sym]) {
      if (sym != head) to.merge(std::move(by_symbol.at(sym).durations));
      for (GroupTable& groups : later)
        if (GroupAcc* g = groups.find(sym); g && !g->durations.empty()) to.merge(std::move(g->durations));
    }
    return &to;
  };
  // By the ranks of the caller's and callee's names, in name order (as the
  // report's ties are broken). Only pairs with a callee outside its
  // caller's view are shown: the others need no name unless they may share one.
  const std::size_t rows = rows_shown(config.format);
  a.distributed_rows = rows;
  std::vector<PairRef> edges;
  std::size_t several = 0, pairs = 0;
  EntryLists<EdgeAcc> edge_lists;
  if (rows < std::numeric_limits<std::size_t>::max() && ranks.size() == (symbols ? symbols->size() : 1)) {
    // The rows shown, when every symbol has a name of its own (equal keys
    // are equal names): the pairs are counted and the first rows found,
    // not all put in order.
    edges = first_pairs(edge_maps, ranks, rows, threads, pairs);
    for (const PairRef& r : edges) several += r.weight > 1;
    edge_lists = take_entries(edge_maps);
  } else {
    edge_lists = take_entries(edge_maps);
    edges = by_names(
        edge_lists, ranks, threads, [](std::uint64_t, const EdgeAcc&) { return true; },
        [](const EdgeAcc& e) { return e.calls(); }, merge_edge);
    several = order_by_calls(edges, edge_lists);
    pairs = edges.size();
    if (edges.size() > rows) {
      edges.resize(rows);
      several = std::min(several, rows);
    }
  }
  EntryLists<SkewAcc> skew_lists = take_entries(skew_by_symbol);
  const auto skew = by_names(
      skew_lists, ranks, threads,
      [&](std::uint64_t key, const SkewAcc& k) {
        return k.outside != 0 || ambiguous(static_cast<Symbol>(key >> 32)) ||
               ambiguous(static_cast<Symbol>(key & 0xffffffffu));
      },
      [](const SkewAcc&) { return 0; }, merge_skew);
  a.traces.count = latencies.count();
  std::vector<std::pair<Sample*, Distribution*>> jobs{{&latencies, &a.traces.latency},
                                                      {&span_counts, &a.traces.spans}};
  for (auto& ex : examples) {
    keep_earliest(ex, kExamplesPerKind, true);
    append(a.anomaly_examples, ex);
  }
  std::sort(a.anomaly_examples.begin(), a.anomaly_examples.end(), earlier);

  // Traces to show: the slowest first (ties by traceId), or those asked for,
  // in the order asked.
  const std::size_t keep = std::min(keep_count(config), shown.size());
  std::partial_sort(shown.begin(), shown.begin() + static_cast<std::ptrdiff_t>(keep), shown.end(), slower_shown);
  shown.resize(keep);
  if (config.trace_ids.empty()) {
    a.shown = std::move(shown);
  } else {
    // An id may name several traces (a short one, the long ids ending in
    // it): all are shown, slowest first.
    std::vector<bool> taken(shown.size());
    for (const std::string& id : config.trace_ids) {
      bool found = false;
      for (std::size_t k = 0; k < shown.size(); ++k) {
        if (!trace_id_names(id, shown[k].trace.trace_id)) continue;
        found = true;
        if (!taken[k]) a.shown.push_back(std::move(shown[k]));
        taken[k] = true;
      }
      if (!found) a.missing_trace_ids.push_back(id);
    }
  }

  switch (config.group) {
    case GroupKey::kHost: a.group_label = "host"; break;
    case GroupKey::kService: a.group_label = "service"; break;
    case GroupKey::kOperation: a.group_label = "operation"; break;
    case GroupKey::kField: a.group_label = config.group_field; break;
    case GroupKey::kDefault: a.group_label = any_service ? "service" : "host"; break;
  }
  // Shares of all critical-path time: with one root per trace that is the
  // traces' latency; orphan roots add their own paths, and shares still sum to 1.
  Total critical_total = 0;
  for (const Symbol head : heads) critical_total += by_symbol.at(head).critical;
  // Each table is put in its order first (none needs a distribution for
  // it), so that only the rows the report shows have their distributions
  // computed, all together at the end: the samples of a fleet's hosts and
  // pairs are most of the merge's work, and text shows 25 of each.
  // Groups by critical-path time, then name: a head's name is its own, and
  // ranks are in name order (the order is total). Small rows are sorted,
  // and each group's summary made once, in place (a fleet has tens of
  // thousands).
  struct GroupRow {
    Total critical;
    std::uint32_t rank;
    Symbol head;
  };
  std::vector<GroupRow> group_rows;
  group_rows.reserve(heads.size());
  for (const Symbol head : heads) group_rows.push_back(GroupRow{by_symbol.at(head).critical, ranks.rank(head), head});
  std::sort(group_rows.begin(), group_rows.end(), [](const GroupRow& x, const GroupRow& y) {
    return x.critical != y.critical ? x.critical > y.critical : x.rank < y.rank;
  });
  std::vector<std::pair<SkewSummary, Sample*>> skew_rows;
  for (const PairRef& n : skew) {
    SkewAcc& k = entry_at(skew_lists, n);
    const std::uint64_t key = n.ranks;
    if (k.outside == 0) continue;
    SkewSummary& s = skew_rows.emplace_back(SkewSummary{}, &k.offsets).first;
    s.caller_host = ranks.name(static_cast<std::uint32_t>(key >> 32));
    s.callee_host = ranks.name(static_cast<std::uint32_t>(key));
    s.calls = k.offsets.count();
    s.outside = k.outside;
  }
  // Listed in name order: a stable sort keeps it among equals.
  std::stable_sort(skew_rows.begin(), skew_rows.end(),
                   [](const auto& x, const auto& y) { return x.first.outside > y.first.outside; });
  // Made in place (they no longer move), and the rows shown listed.
  a.groups.reserve(group_rows.size());
  for (const GroupRow& row : group_rows) {
    const GroupAcc& g = by_symbol.at(row.head);
    GroupSummary& s = a.groups.emplace_back();
    s.name = ranks.name(row.rank);
    s.spans = spans_of[row.head];
    s.errors = g.errors;
    s.self_total = g.self;
    s.critical_total = g.critical;
    s.critical_share =
        critical_total > 0 ? static_cast<double>(g.critical) / static_cast<double>(critical_total) : 0.0;
    if (a.groups.size() <= rows) jobs.emplace_back(merged_durations(row.head), &s.duration);
  }
  a.skew.reserve(skew_rows.size());
  for (auto& [s, sample] : skew_rows) {
    a.skew.push_back(std::move(s));
    if (a.skew.size() <= rows) jobs.emplace_back(sample, &a.skew.back().offset);
  }
  a.edges.start(ranks.take_names(), std::move(edge_lists), std::move(edges), several, pairs);
  take_several_pairs(a.edges, several, rows, threads, jobs);
  summarize_all(jobs, threads);
  a.edges.drop_values(rows);
  return a;
}

}  // namespace

std::size_t rows_shown(Format format) {
  return format == Format::kJson ? std::numeric_limits<std::size_t>::max() : kTableRows;
}

Analysis analyze(SpanLog& log, const Config& config, std::size_t threads) {
  const std::size_t n = std::clamp<std::size_t>(threads, 1, SpanLog::kPartitions);
  std::vector<PartResult> results(n);
  std::vector<SpanLog::RefusedSpans> refused(n);
  std::vector<TraceJoinNotes> joins(n);
  std::atomic<std::size_t> next{0};
  AnalysisMemory memory(config.max_memory);
  malloc_trim(0);  // what reading freed (its buffers), before the tables grow
  {
    ThreadGroup pool;
    for (std::size_t k = 1; k < n; ++k)
      pool.spawn("ta-analyze", [&, k] {
        results[k] = analyze_partitions(log, config, next, refused[k], joins[k], pool, memory);
      });
    results[0] = analyze_partitions(log, config, next, refused[0], joins[0], pool, memory);
    pool.join();
  }
  const std::uint64_t records = log.span_count();
  log.clear();  // every record is spent: its memory goes before the merge grows
  Analysis a = merge_results(results, config, threads);
  a.memory = memory.result();
  if (memory.stopped()) {
    // The partitions never reached: their spans were not analysed either.
    std::uint64_t analysed = a.duplicates + a.spans;
    for (const SpanLog::RefusedSpans& r : refused) analysed += r.count;
    a.memory.stopped = true;
    a.memory.spans = records > analysed ? records - analysed : 0;
  }
  for (SpanLog::RefusedSpans& r : refused) a.refused.take(r);
  for (TraceJoinNotes& j : joins) a.joins.take(j);
  return a;
}

void EdgeList::start(std::vector<std::string> names, std::vector<Entries> entries, std::vector<PairRef> order,
                     std::size_t several, std::size_t pairs) {
  if (pairs < order.size() || several > order.size()) throw std::logic_error("EdgeList: more pairs listed than there are");
  names_ = std::move(names);
  entries_ = std::move(entries);
  order_ = std::move(order);
  pairs_ = pairs;
  several_.assign(several, Several{});
  // In order as far as the weights tell (calls, capped): they never rise,
  // and pairs of equal weight rise by ranks; the first `several` weigh more
  // than one, the others one. Pairs of capped weight are compared by their
  // calls in take_several.
  for (std::size_t i = 0; i < order_.size(); ++i) {
    const PairRef& r = order_[i];
    bool in_order = (i < several) == (r.weight > 1);
    if (i > 0) {
      const PairRef& before = order_[i - 1];
      in_order &= r.weight < before.weight ||
                  (r.weight == before.weight && (r.weight == PairRef::kMaxWeight || r.ranks > before.ranks));
    }
    if (!in_order) throw std::logic_error("EdgeList: pairs out of order");
  }
}

EdgeAcc& EdgeList::take_several(std::size_t i) {
  EdgeAcc& e = entry(i);
  Several& s = several_[i];
  s.calls = e.calls();
  s.errors = e.errors();
  if (order_[i].weight != std::min(s.calls, PairRef::kMaxWeight))
    throw std::logic_error("EdgeList: pairs out of order");
  return e;
}

void EdgeList::check_several_order() const {
  // Pairs of capped weight, each after one of more calls, or as many and
  // ranks before its own.
  for (std::size_t i = 1; i < several_.size() && order_[i].weight == PairRef::kMaxWeight; ++i) {
    const Several &s = several_[i], &before = several_[i - 1];
    if (!(s.calls < before.calls || (s.calls == before.calls && order_[i].ranks > order_[i - 1].ranks)))
      throw std::logic_error("EdgeList: pairs out of order");
  }
}

void EdgeList::drop_values(std::size_t rows) {
  // The pairs of more than kFewCalls calls (kept in samples) come first.
  for (std::size_t i = 0; i < std::min(rows, several_.size()) && order_[i].weight > EdgeAcc::kFewCalls; ++i)
    entry(i).clear();
}

EdgeSummary EdgeList::operator[](std::size_t i) const {
  if (i >= order_.size()) throw std::logic_error("EdgeList: a pair not listed");
  const PairRef& r = order_[i];
  EdgeSummary s;
  s.caller = names_[r.ranks >> 32];
  s.callee = names_[r.ranks & 0xffffffffu];
  if (i < several_.size()) {
    const Several& d = several_[i];
    s.calls = d.calls;
    s.errors = d.errors;
    s.client = d.client;
    s.gap = d.gap;
  } else {
    const EdgeAcc& e = entries_[r.list][r.index].second;
    s.calls = 1;
    s.errors = e.errors();
    s.client = one_value(true, e.client());
    s.gap = one_value(e.has_gap(), e.gap());
  }
  return s;
}

struct LiveAnalysis::State {
  State(const Config& c, const SymbolTable& s, std::size_t limit) : config(c), acc(c, s, limit) {}
  const Config& config;
  Accumulator acc;
  std::vector<bool> found;  // per --trace id
};

LiveAnalysis::LiveAnalysis(const Config& config, const SymbolTable& symbols, std::size_t exact_limit)
    : state_(std::make_unique<State>(config, symbols, exact_limit)) {}
LiveAnalysis::~LiveAnalysis() = default;

bool LiveAnalysis::add(const Trace& t, const std::vector<Nanos>& self, const std::vector<Nanos>& on_path) {
  state_->acc.add(t, self, on_path);
  const std::vector<std::string>& ids = state_->config.trace_ids;
  if (ids.empty()) return true;
  state_->found.resize(ids.size());
  bool shown = false;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (!trace_id_names(ids[k], t.trace_id)) continue;
    state_->found[k] = true;
    shown = true;
  }
  return shown;
}

std::uint64_t LiveAnalysis::pairs_over() const { return state_->acc.pairs_over(); }

Analysis LiveAnalysis::finish() {
  std::vector<PartResult> results;
  results.push_back(state_->acc.finish());
  Analysis a = merge_results(results, state_->config, 1);
  // The traces were shown as they came, not kept here: the ids missing are
  // those never added.
  const std::vector<std::string>& ids = state_->config.trace_ids;
  state_->found.resize(ids.size());
  a.missing_trace_ids.clear();
  for (std::size_t k = 0; k < ids.size(); ++k)
    if (!state_->found[k]) a.missing_trace_ids.push_back(ids[k]);
  return a;
}

}  // namespace ta
