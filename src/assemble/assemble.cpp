#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <deque>
#include <map>
#include <tuple>
#include <utility>

#include "assemble/id_index.h"
#include "assemble/trace.h"
#include "parse/span_record.h"
#include "store/span_codec.h"
#include "util/format.h"
#include "util/small_sort.h"

namespace ta {

std::string_view anomaly_name(AnomalyKind kind) {
  switch (kind) {
    case AnomalyKind::kOrphan: return "orphan";
    case AnomalyKind::kInferred: return "inferred";
    case AnomalyKind::kDuplicateId: return "duplicate-id";
    case AnomalyKind::kCycle: return "cycle";
    case AnomalyKind::kSkew: return "skew";
    case AnomalyKind::kCodeMismatch: return "code-mismatch";
    case AnomalyKind::kNoRoot: return "no-root";
    case AnomalyKind::kMultiRoot: return "multi-root";
    case AnomalyKind::kTruncated: return "truncated";
  }
  return "unknown";
}

namespace {

// Working memory kept per thread, so assembling millions of traces does not
// allocate for each.
struct Scratch {
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keys, sorted_keys;
  std::vector<std::uint32_t> caller, path, cursor, stack;
  std::vector<std::uint8_t> state;
  std::deque<std::string> renamed_names;
  std::vector<std::uint32_t> renames;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> reused;
  std::vector<std::uint32_t> suffix;
  IdIndex ids;
  IdIndex contents;  // of the spans whose ids are reused
};

void clear(Trace& t) {
  t.trace_id.clear();
  t.text.clear();
  t.spans.clear();
  t.calls.clear();
  t.parent.clear();
  t.client_call.clear();
  t.child_begin.clear();
  t.children.clear();
  t.roots.clear();
  t.order.clear();
  t.depth.clear();
  t.anomalies.clear();
  t.adjustments.clear();
  t.shift.clear();
  t.logged_spans = t.inferred_spans = t.duplicates = t.dropped = 0;
  t.start = t.end = 0;
}

class Assembler {
 public:
  Assembler(const TraceData& data, Trace& out, Scratch& scratch, const AssembleOptions& options)
      : adjust_skew_(options.adjust_skew),
        t_(out),
        ids_(scratch.ids),
        renamed_names_(scratch.renamed_names),
        renames_(scratch.renames),
        caller_(scratch.caller),
        s_(scratch) {
    clear(t_);
    renamed_names_.clear();
    renames_.clear();
    t_.trace_id = data.trace_id;
    t_.dropped = data.dropped;
    t_.duplicates = data.duplicates;
    t_.spans.reserve(data.span_count);
    decode_spans(data, t_.spans, t_.calls, t_.text);
    sort_by_location();
    ids_.reset(t_.spans.size() + t_.calls.size() / 8);  // most calls name a logged span
  }

  // Arrival order differs between runs when several threads parse; the
  // input location does not, and it decides which line counts as "first".
  // Sorted in place (a trace of a million spans has no room to spare for
  // a sorted copy): small keys first, then each span moved once, cycle by
  // cycle of the permutation.
  void sort_by_location() {
    std::vector<Span>& spans = t_.spans;
    auto location = [](const Span& s) { return (static_cast<std::uint64_t>(s.file) << 32) | s.line; };
    auto before = [&](const Span& a, const Span& b) { return location(a) < location(b); };
    if (std::is_sorted(spans.begin(), spans.end(), before)) return;
    std::vector<std::pair<std::uint64_t, std::uint32_t>>& keys = s_.keys;
    keys.clear();
    for (std::uint32_t i = 0; i < spans.size(); ++i) keys.push_back({location(spans[i]), i});
    sort_keys(keys);
    // keys[j].second: the span that belongs at j; set to j once it is there.
    for (std::uint32_t i = 0; i < keys.size(); ++i) {
      if (keys[i].second == i) continue;
      const Span held = spans[i];
      std::uint32_t j = i;
      for (;;) {
        const std::uint32_t from = keys[j].second;
        keys[j].second = j;
        if (from == i) {
          spans[j] = held;
          break;
        }
        spans[j] = spans[from];
        j = from;
      }
    }
  }

  // Sorts (key, index) pairs built in index order. A long list whose
  // keys span few bits (a million lines of one file: 20) is sorted by radix,
  // 11 bits a pass, instead of by comparisons.
  void sort_keys(std::vector<std::pair<std::uint64_t, std::uint32_t>>& keys) {
    constexpr int kBits = 11;
    constexpr std::size_t kBuckets = std::size_t{1} << kBits;
    std::uint64_t lo = UINT64_MAX, hi = 0;
    for (const auto& k : keys) lo = std::min(lo, k.first), hi = std::max(hi, k.first);
    const int passes = keys.empty() ? 0 : (static_cast<int>(std::bit_width(hi - lo)) + kBits - 1) / kBits;
    if (keys.size() < 4096 || passes > 3) {
      std::sort(keys.begin(), keys.end());
      return;
    }
    auto& other = s_.sorted_keys;
    other.resize(keys.size());
    std::vector<std::size_t> start(kBuckets);
    for (int pass = 0; pass < passes; ++pass) {
      const int shift = pass * kBits;
      auto bucket = [&](const std::pair<std::uint64_t, std::uint32_t>& k) {
        return static_cast<std::size_t>(((k.first - lo) >> shift) & (kBuckets - 1));
      };
      std::fill(start.begin(), start.end(), 0);
      for (const auto& k : keys) ++start[bucket(k)];
      std::size_t sum = 0;
      for (std::size_t& b : start) sum += std::exchange(b, sum);
      for (const auto& k : keys) other[start[bucket(k)]++] = k;  // stable: earlier passes' order holds
      keys.swap(other);
    }
  }

  void run() {
    drop_duplicates();
    link_calls();
    resolve_parents();
    build_children();
    walk_depth_first();
    if (t_.order.size() < t_.spans.size()) {
      // Spans the walk from the roots did not reach lie on a loop of parent
      // links (nearly no trace has one, and then the walk reaches every
      // span): the loops are cut and the tree built again.
      break_cycles();
      t_.child_begin.clear();
      t_.children.clear();
      t_.roots.clear();
      t_.order.clear();
      build_children();
      walk_depth_first();
    }
    check_intervals();
    if (adjust_skew_) adjust_skew();
    store_renames();
  }

 private:
  // A span kept under a new name is indexed by that name until
  // store_renames gives it to the span.
  static constexpr std::uint32_t kRenamed = 0x80000000u;
  static constexpr std::uint32_t kAhead = 8;  // ids looked up this many spans ahead are prefetched
  std::string_view key_of(std::uint32_t v) const {
    return v & kRenamed ? std::string_view(renamed_names_[v & ~kRenamed]) : t_.span_id(v);
  }
  auto keys() const {
    return [this](std::uint32_t v) { return key_of(v); };
  }
  std::uint32_t span_of(std::uint32_t v) const { return v == kNone || !(v & kRenamed) ? v : renames_[v & ~kRenamed]; }
  std::uint32_t find_id(std::string_view id) const { return span_of(ids_.find(id, keys())); }

  void note(AnomalyKind kind, std::uint32_t span, std::string detail) {
    t_.anomalies.push_back(Anomaly{kind, span, std::move(detail)});
  }

  // The halves of a call whose spans share its id (join_halves).
  struct Halves {
    std::uint32_t client = kNone, first_server = kNone;
  };
  // Whether `span`, whose id `anchor` (an earlier span) has, is another
  // half of the same call: then it joins the anchor's group and is kept
  // under the same id. A group holds one client half at most (a span not
  // marked shared) and server halves (marked shared, or SERVER spans where
  // the client half is a CLIENT span: Zipkin's rule for instrumentation
  // that leaves the flag out), one per local endpoint (host and service):
  // Zipkin keys a shared span by its id and endpoint, so one client's call
  // may be served in several places (a message published to several
  // consumers), each its own server half.
  bool join_halves(std::uint32_t anchor, std::uint32_t span) {
    const std::vector<Span>& spans = t_.spans;
    if (group_of_.empty()) group_of_.assign(spans.size(), kNone);
    Halves& g = halves_[anchor];
    if (group_of_[anchor] == kNone) {
      group_of_[anchor] = anchor;
      if (spans[anchor].shared) {
        add_server(anchor, anchor, g);
      } else {
        g.client = anchor;
      }
    }
    const Span& s = spans[span];
    const auto kind = [&](std::uint32_t v) { return static_cast<SpanKind>(spans[v].kind); };
    bool server = s.shared;
    if (!server && kind(span) == SpanKind::kServer && g.client != kNone && !spans[g.client].shared &&
        kind(g.client) == SpanKind::kClient)
      server = true;
    if (!server && kind(span) == SpanKind::kClient && g.client != kNone && g.first_server == kNone &&
        kind(g.client) == SpanKind::kServer) {
      // A SERVER span met before its CLIENT span (the lines of one call in
      // another order, or in two files): the earlier one is the server half.
      add_server(anchor, g.client, g);
      g.client = kNone;
    }
    if (server) {
      if (server_at_.count({anchor, s.host, s.service})) return false;  // the same endpoint: a reused id
      add_server(anchor, span, g);
    } else {
      if (g.client != kNone) return false;
      g.client = span;
    }
    group_of_[span] = anchor;
    return true;
  }
  void add_server(std::uint32_t anchor, std::uint32_t span, Halves& g) {
    const Span& s = t_.spans[span];
    server_at_.emplace(std::make_tuple(anchor, s.host, s.service), span);
    server_on_host_.emplace(std::make_pair(anchor, s.host), span);  // the first on its host
    if (g.first_server == kNone) g.first_server = span;
  }
  // The span a child of the group named by `anchor` goes under: the server
  // half at the child's own endpoint, else the first on its host, else the
  // first server half; the client half when there is none.
  std::uint32_t server_for(std::uint32_t anchor, const Span& child) const {
    const Halves& g = halves_.at(anchor);
    if (g.first_server == kNone) return anchor;
    if (const auto at = server_at_.find({anchor, child.host, child.service}); at != server_at_.end())
      return at->second;
    if (const auto on = server_on_host_.find({anchor, child.host}); on != server_on_host_.end()) return on->second;
    return g.first_server;
  }

  bool same_content(const Span& a, const Span& b) const {
    return a.content_size == b.content_size && std::memcmp(a.content, b.content, a.content_size) == 0;
  }

  // Identical lines count once; a different line reusing a spanId is kept
  // under a new name and both are flagged. The name is the first of id#2,
  // id#3... that no span of the trace has: literal ids keep theirs, so they
  // are all filed before any name is given (a literal "x#2" after the
  // second "x" still names its own span). Linear however often an id is
  // reused: duplicates are found by their content, and each id's next
  // suffix is remembered.
  void drop_duplicates() {
    // Compacted in place: kept spans move down over the dropped ones.
    std::vector<Span>& spans = t_.spans;
    std::vector<std::pair<std::uint32_t, std::uint32_t>>& reused = s_.reused;  // (span, its id's first span)
    std::vector<std::uint32_t>& suffix = s_.suffix;  // by an id's first span: the last suffix given, 1 if none yet
    reused.clear();
    suffix.clear();
    auto content_of = [&spans](std::uint32_t v) {
      return std::string_view(reinterpret_cast<const char*>(spans[v].content), spans[v].content_size);
    };
    std::uint32_t kept = 0;
    for (std::size_t r = 0; r < spans.size(); ++r) {
      if (r + kAhead < spans.size()) ids_.prefetch(t_.str(spans[r + kAhead].span_id));
      const std::uint32_t idx = kept;
      const std::uint32_t first = ids_.insert(t_.str(spans[r].span_id), idx, keys());
      // Moved in place, not through a copy (read back across the stores of
      // its fields, a copy waits for them). A span found a duplicate below
      // is overwritten by the next one: `kept` does not move.
      if (idx != r) spans[idx] = spans[r];
      Span& span = spans[idx];
      if (first != idx) {
        // The id is taken: by the same content (a line delivered twice), or
        // by another span.
        if (suffix.empty()) {
          suffix.assign(spans.size(), 0);
          s_.contents.reset(0);
        }
        s_.contents.insert(content_of(first), first, content_of);  // once: then found
        if (s_.contents.insert(content_of(idx), idx, content_of) != idx) {
          ++t_.duplicates;
          continue;
        }
        // The halves of one call that share its id (join_halves) are
        // spans of their own: a server half is its client half's child,
        // and the id's other children are a server half's.
        if (suffix[first] != 0 || !join_halves(first, idx)) {
          suffix[first] = std::max<std::uint32_t>(suffix[first], 1);
          reused.emplace_back(idx, first);
        }
      }
      if (span.http_code >= 500 || span.status == kStatusError) span.flags |= kError;
      ++kept;
    }
    spans.resize(kept);
    t_.logged_spans = kept;
    name_reused(reused, suffix);
  }

  // Gives each span that reuses an id (in input order) its name.
  void name_reused(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& reused,
                   std::vector<std::uint32_t>& suffix) {
    std::vector<Span>& spans = t_.spans;
    std::string name;
    for (const auto& [idx, first] : reused) {
      const std::string_view id = t_.str(spans[idx].span_id);
      do name = fmt::format("{}#{}", id, ++suffix[first]);
      while (find_id(name) != kNone);
      renamed_names_.push_back(name);
      renames_.push_back(idx);
      ids_.insert(renamed_names_.back(), kRenamed | static_cast<std::uint32_t>(renames_.size() - 1), keys());
      spans[first].flags |= kDuplicateId;
      spans[idx].flags |= kDuplicateId;
      note(AnomalyKind::kDuplicateId, idx,
           fmt::format("spanId {} was already used by a different line (line {}); kept as {}", id, spans[first].line,
                       name));
    }
  }

  // Matches requestStacks entries to the callees' own lines; an entry with no
  // line becomes an inferred span so the lost callee stays visible. Not in a
  // trace cut by --max-trace-spans: its callee may be a line past the cut,
  // logged but not kept, and would be shown as never logged (and the trace
  // would hold more spans than the cut).
  void link_calls() {
    const std::uint32_t n = t_.logged_spans;
    t_.client_call.assign(n, kNone);
    caller_.assign(n, kNone);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (i + kAhead < n && t_.spans[i + kAhead].calls_count <= kAhead) {
        const Span& ahead = t_.spans[i + kAhead];
        for (std::uint32_t c = ahead.calls_begin; c < ahead.calls_begin + ahead.calls_count; ++c)
          ids_.prefetch(t_.str(t_.calls[c].span_id));
      }
      // What is needed of the span, read out: inferred spans are appended
      // below (a copy of the whole span would cost more than these).
      const std::uint32_t calls_begin = t_.spans[i].calls_begin, calls_end = calls_begin + t_.spans[i].calls_count;
      if (calls_begin == calls_end) continue;
      const TextRef own_id = t_.spans[i].span_id;
      const std::uint32_t own_file = t_.spans[i].file, own_line = t_.spans[i].line;
      const bool many = calls_end - calls_begin > kAhead;  // not prefetched above: prefetched call by call
      for (std::uint32_t c = calls_begin; c < calls_end; ++c) {
        if (many && c + kAhead < calls_end) ids_.prefetch(t_.str(t_.calls[c + kAhead].span_id));
        const Call& call = t_.calls[c];
        const std::string_view id = t_.str(call.span_id);
        const std::uint32_t j = find_id(id);
        if (j == kNone) {
          if (t_.dropped != 0) continue;
          Span inferred;
          inferred.span_id = call.span_id;
          inferred.parent_id = own_id;
          inferred.start = call.start;
          inferred.duration = call.duration;
          inferred.host = call.host;
          inferred.http_code = call.http_code;
          inferred.file = own_file;
          inferred.line = own_line;
          inferred.flags = kInferred | (call.http_code >= 500 ? kError : 0);
          const auto idx = static_cast<std::uint32_t>(t_.spans.size());
          ids_.insert(id, idx, keys());
          t_.spans.push_back(inferred);
          t_.client_call.push_back(c);
          caller_.push_back(i);
          ++t_.inferred_spans;
          note(AnomalyKind::kInferred, idx,
               fmt::format("listed by {} but never logged", t_.span_id(i)));
        } else if (j < n && j != i && t_.client_call[j] == kNone) {
          t_.client_call[j] = c;
          caller_[j] = i;
        }
      }
    }
  }

  // parentSpanId first, then the span whose requestStacks lists it, else an
  // orphan root.
  void resolve_parents() {
    const std::size_t n = t_.spans.size();
    t_.parent.assign(n, kNone);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (i >= t_.logged_spans) {
        t_.parent[i] = caller_[i];
        continue;
      }
      if (i + kAhead < t_.logged_spans && t_.spans[i + kAhead].parent_id.length)
        ids_.prefetch(t_.str(t_.spans[i + kAhead].parent_id));
      Span& s = t_.spans[i];
      const std::string_view pid = t_.str(s.parent_id);
      std::uint32_t p = pid.empty() ? kNone : find_id(pid);
      if (!group_of_.empty()) {
        if (const std::uint32_t g = group_of_[i]; g != kNone) {
          const std::uint32_t client = halves_.at(g).client;
          if (client != kNone && client != i) {  // a server half: under its client half
            t_.parent[i] = client;
            t_.client_call[i] = kNone;
            continue;
          }
        }
        // The id's children are a server half's (p may be a span inferred
        // since the groups were made, in none).
        if (p != kNone && p < group_of_.size() && group_of_[p] == p) p = server_for(p, s);
      }
      if (p == i) {
        s.flags |= kCycle;
        note(AnomalyKind::kCycle, i, "parentSpanId is the span's own id; made a root");
        continue;
      }
      if (p == kNone) p = caller_[i];
      if (p == kNone && !pid.empty()) {
        s.flags |= kOrphan;
        note(AnomalyKind::kOrphan, i, fmt::format("parent {} not in the trace", pid));
      }
      t_.parent[i] = p;
      if (p != caller_[i]) t_.client_call[i] = kNone;  // that view was another span's call
    }
  }

  // Walks up parent links once per span (each span is finished once), so a
  // loop is found in linear time and cut at its earliest-starting span.
  void break_cycles() {
    const std::size_t n = t_.spans.size();
    std::vector<std::uint8_t>& state = s_.state;  // 0 new, 1 on the current walk, 2 done
    state.assign(n, 0);
    std::vector<std::uint32_t>& path = s_.path;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (state[i] != 0) continue;
      path.clear();
      std::uint32_t u = i;
      while (u != kNone && state[u] == 0) {
        state[u] = 1;
        path.push_back(u);
        u = t_.parent[u];
      }
      if (u != kNone && state[u] == 1) {
        std::size_t pos = path.size();
        while (path[--pos] != u) {
        }
        std::uint32_t cut = path[pos];
        for (std::size_t k = pos; k < path.size(); ++k) {
          const std::uint32_t v = path[k];
          if (t_.spans[v].start < t_.spans[cut].start || (t_.spans[v].start == t_.spans[cut].start && v < cut))
            cut = v;
        }
        note(AnomalyKind::kCycle, cut,
             fmt::format("parent links loop through {} spans; link to {} cut", path.size() - pos,
                         t_.span_id(t_.parent[cut])));
        t_.parent[cut] = kNone;
        t_.client_call[cut] = kNone;
        t_.spans[cut].flags |= kCycle;
      }
      for (std::uint32_t v : path) state[v] = 2;
    }
  }

  void build_children() {
    const std::size_t n = t_.spans.size();
    t_.child_begin.assign(n + 1, 0);
    for (std::uint32_t i = 0; i < n; ++i)
      if (t_.parent[i] != kNone) ++t_.child_begin[t_.parent[i] + 1];
    for (std::size_t i = 0; i < n; ++i) t_.child_begin[i + 1] += t_.child_begin[i];
    t_.children.resize(t_.child_begin[n]);
    std::vector<std::uint32_t>& cursor = s_.cursor;
    cursor.assign(t_.child_begin.begin(), t_.child_begin.end() - 1);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (t_.parent[i] == kNone) {
        t_.roots.push_back(i);
      } else {
        t_.children[cursor[t_.parent[i]]++] = i;
      }
    }
    sort_by_start();
  }

  void sort_by_start() {
    for (std::size_t i = 0; i + 1 < t_.child_begin.size(); ++i)
      sort_by_start(t_.children.data() + t_.child_begin[i], t_.children.data() + t_.child_begin[i + 1]);
    sort_by_start(t_.roots.data(), t_.roots.data() + t_.roots.size());
  }
  // Spans by start, ties in index order. A long list (a fan-out's root has
  // a million children) is sorted as (start, index) pairs side by side
  // rather than by looking each span up in every comparison.
  void sort_by_start(std::uint32_t* begin, std::uint32_t* end) {
    auto before = [this](std::uint32_t a, std::uint32_t b) {
      const Nanos sa = t_.spans[a].start, sb = t_.spans[b].start;
      return sa != sb ? sa < sb : a < b;
    };
    if (end - begin < 64) {  // most spans: none to a few
      sort_small(begin, end, before);
      return;
    }
    std::vector<std::pair<std::uint64_t, std::uint32_t>>& keys = s_.keys;
    keys.clear();
    for (const std::uint32_t* p = begin; p < end; ++p)  // sign bit flipped: unsigned order is signed order
      keys.push_back({static_cast<std::uint64_t>(t_.spans[*p].start) ^ (std::uint64_t{1} << 63), *p});
    std::sort(keys.begin(), keys.end());
    for (const auto& k : keys) *begin++ = k.second;
  }

  void walk_depth_first() {
    const std::size_t n = t_.spans.size();
    t_.order.reserve(n);
    t_.depth.assign(n, 0);
    std::vector<std::uint32_t>& stack = s_.stack;
    stack.assign(t_.roots.rbegin(), t_.roots.rend());
    while (!stack.empty()) {
      const std::uint32_t u = stack.back();
      stack.pop_back();
      t_.order.push_back(u);
      for (std::uint32_t k = t_.child_begin[u + 1]; k > t_.child_begin[u]; --k) {
        const std::uint32_t c = t_.children[k - 1];
        t_.depth[c] = t_.depth[u] + 1;
        stack.push_back(c);
      }
    }
  }

  // Clock skew is flagged, never corrected here; also the trace's extent,
  // status mismatches between caller and callee, and a lost root.
  void check_intervals() {
    const std::size_t n = t_.spans.size();
    bool has_true_root = false;
    std::uint32_t true_roots = 0;
    t_.start = n ? t_.spans[0].start : 0;
    t_.end = n ? t_.spans[0].end() : 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      Span& s = t_.spans[i];
      t_.start = std::min(t_.start, s.start);
      t_.end = std::max(t_.end, s.end());
      const std::uint32_t p = t_.parent[i];
      if (p == kNone) {
        if (!(s.flags & (kOrphan | kCycle))) {
          has_true_root = true;
          ++true_roots;
        }
        continue;
      }
      const Span& ps = t_.spans[p];
      if (s.start < ps.start || s.end() > ps.end()) {
        s.flags |= kSkew;
        std::string detail;
        if (s.start < ps.start) detail = fmt::format("starts {} before", human_duration(ps.start - s.start));
        if (s.end() > ps.end())
          detail += fmt::format("{}ends {} after", detail.empty() ? "" : " and ", human_duration(s.end() - ps.end()));
        note(AnomalyKind::kSkew, i, fmt::format("{} its parent {}", detail, t_.span_id(p)));
      }
      const std::uint32_t c = t_.client_call[i];
      if (c != kNone && i < t_.logged_spans) {
        const Call& call = t_.calls[c];
        if (call.http_code != kNoCode && s.http_code != kNoCode && call.http_code != s.http_code) {
          s.flags |= kCodeMismatch;
          note(AnomalyKind::kCodeMismatch, i,
               fmt::format("caller {} saw {}, the span logged {}", t_.span_id(p), call.http_code, s.http_code));
        }
      }
    }
    if (t_.dropped)
      note(AnomalyKind::kTruncated, 0,
           fmt::format("{} more spans were not kept (--max-trace-spans)", t_.dropped));
    if (n > 0 && !has_true_root)
      note(AnomalyKind::kNoRoot, t_.roots.empty() ? 0 : t_.roots.front(), "no span without a parent: the root is missing");
    if (true_roots > 1) {
      std::uint32_t first = kNone;
      for (std::uint32_t r : t_.roots) {
        Span& s = t_.spans[r];
        if (s.flags & (kOrphan | kCycle)) continue;
        s.flags |= kMultiRoot;
        if (first == kNone) first = r;
      }
      note(AnomalyKind::kMultiRoot, first,
           fmt::format("{} spans have no parent: the trace has {} root trees", true_roots, true_roots));
    }
  }

  // Parents before children (depth-first order), so a caller's own shift is
  // known when its callees are judged against its view of their calls.
  void adjust_skew() {
    std::vector<Nanos>& shift = t_.shift;
    shift.assign(t_.spans.size(), 0);
    for (const std::uint32_t u : t_.order) {
      const std::uint32_t p = t_.parent[u];
      if (p == kNone) continue;
      shift[u] = shift[p];
      const std::uint32_t c = t_.client_call[u];
      if (c == kNone || u >= t_.logged_spans) continue;
      const Call& call = t_.calls[c];
      const Span& s = t_.spans[u];
      const Nanos lo = call.start + shift[p], hi = lo + call.duration;
      const Nanos start = s.start + shift[u];
      if (start >= lo && start + s.duration <= hi) continue;
      const Nanos delta = lo + (call.duration - s.duration) / 2 - start;  // half the gap on each side
      if (delta == 0) continue;
      shift[u] += delta;
      t_.adjustments.push_back({u, delta});
    }
    if (t_.adjustments.empty()) {
      shift.clear();
      return;
    }
    for (std::uint32_t i = 0; i < t_.spans.size(); ++i) {
      Span& s = t_.spans[i];
      s.start += shift[i];
      if (i < t_.logged_spans)
        for (std::uint32_t c = s.calls_begin; c < s.calls_begin + s.calls_count; ++c) t_.calls[c].start += shift[i];
    }
    t_.start = t_.spans[0].start;
    t_.end = t_.spans[0].end();
    for (const Span& s : t_.spans) {
      t_.start = std::min(t_.start, s.start);
      t_.end = std::max(t_.end, s.end());
    }
    // Moved spans may start in another order among their siblings.
    sort_by_start();
    t_.order.clear();
    walk_depth_first();
  }

  void store_renames() {
    for (std::size_t k = 0; k < renames_.size(); ++k) {
      const std::string& name = renamed_names_[k];
      t_.spans[renames_[k]].span_id =
          TextRef{static_cast<std::uint32_t>(t_.text.size()), static_cast<std::uint32_t>(name.size())};
      t_.text += name;
    }
  }

  // The groups of halves; all empty when the trace has none. A group is
  // named by its anchor, the span the id index holds for the id.
  std::vector<std::uint32_t> group_of_;  // by span: the anchor of its group, kNone if in none
  std::map<std::uint32_t, Halves> halves_;  // by anchor
  std::map<std::tuple<std::uint32_t, Symbol, Symbol>, std::uint32_t> server_at_;  // (anchor, host, service)
  std::map<std::pair<std::uint32_t, Symbol>, std::uint32_t> server_on_host_;  // (anchor, host): the first there
  bool adjust_skew_;
  Trace& t_;
  IdIndex& ids_;  // span index, or kRenamed | k for the span renamed to renamed_names_[k]
  std::deque<std::string>& renamed_names_;
  std::vector<std::uint32_t>& renames_;
  std::vector<std::uint32_t>& caller_;
  Scratch& s_;
};

}  // namespace

void assemble(const TraceData& data, Trace& out, const AssembleOptions& options) {
  thread_local Scratch scratch;
  Assembler(data, out, scratch, options).run();
}

Trace assemble(const TraceData& data, const AssembleOptions& options) {
  Trace t;
  assemble(data, t, options);
  return t;
}

}  // namespace ta
