#include "analyze/critical_path.h"

#include <algorithm>

#include "util/small_sort.h"

namespace ta {
namespace {

struct Candidate {
  std::uint32_t span;
  Nanos start;  // clipped to the parent's window
  Nanos end;
};

struct Frame {
  std::uint32_t span;
  Nanos lo;       // window start: the span's start clipped to its parent
  Nanos horizon;  // everything after it is already on the path
  std::size_t begin;  // this frame's candidates are [begin, end)
  std::size_t next;   // candidates[next .. end) not taken yet
  std::size_t end;
};

}  // namespace

namespace {

// Appends the path of one root tree to `out`.
void append_path(const Trace& t, std::uint32_t root, std::vector<PathSection>& all) {
  thread_local std::vector<PathSection> out;  // built backwards in time
  thread_local std::vector<Candidate> candidates;
  thread_local std::vector<Frame> frames;
  out.clear();
  candidates.clear();
  frames.clear();

  // Pushes a frame for `span` over the window [lo, hi] with its children
  // clipped to it, latest end first (ties: earliest start, then lowest
  // span id, so the path does not depend on the order of the input).
  auto enter = [&](std::uint32_t span, Nanos lo, Nanos hi) {
    const std::size_t begin = candidates.size();
    const bool producer = t.spans[span].kind == kKindProducer;
    for (std::uint32_t c : t.kids(span)) {
      const Span& s = t.spans[c];
      // A child its parent did not wait for is not on the parent's path.
      if (s.parent_link == kLinkFollowsFrom || (producer && s.kind == kKindConsumer)) continue;
      const Nanos cs = std::max(s.start, lo), ce = std::min(s.end(), hi);
      if (cs > ce) continue;
      Candidate& k = candidates.emplace_back();  // in place: not built aside and copied
      k.span = c;
      k.start = cs;
      k.end = ce;
    }
    auto before = [&t](const Candidate& a, const Candidate& b) {
      if (a.end != b.end) return a.end > b.end;
      if (a.start != b.start) return a.start < b.start;
      const std::string_view x = t.span_id(a.span), y = t.span_id(b.span);
      return x != y ? x < y : a.span < b.span;
    };
    sort_small(candidates.data() + begin, candidates.data() + candidates.size(), before);
    Frame& f = frames.emplace_back();
    f.span = span;
    f.lo = lo;
    f.horizon = hi;
    f.begin = f.next = begin;
    f.end = candidates.size();
  };
  auto own = [&](std::uint32_t span, Nanos from, Nanos to) {
    if (from >= to) return;
    PathSection& section = out.emplace_back();
    section.span = span;
    section.start = from;
    section.end = to;
  };

  const Span& r = t.spans[root];
  enter(root, r.start, r.end());
  while (!frames.empty()) {
    Frame& f = frames.back();
    while (f.next < f.end && candidates[f.next].end > f.horizon) ++f.next;
    if (f.next < f.end) {
      const Candidate c = candidates[f.next++];
      own(f.span, c.end, f.horizon);
      f.horizon = c.end;
      enter(c.span, c.start, c.end);
      continue;
    }
    own(f.span, f.lo, f.horizon);
    const Nanos lo = f.lo;
    candidates.resize(f.begin);
    frames.pop_back();
    if (!frames.empty()) frames.back().horizon = lo;
  }
  if (out.empty()) out.push_back({root, r.start, r.end()});
  all.insert(all.end(), out.rbegin(), out.rend());
}

}  // namespace

std::vector<PathSection> critical_path(const Trace& t, std::uint32_t root) {
  std::vector<PathSection> path;
  append_path(t, root, path);
  return path;
}

void critical_path(const Trace& t, std::vector<PathSection>& all) {
  all.clear();
  for (std::uint32_t root : t.roots) append_path(t, root, all);
}

std::vector<PathSection> critical_path(const Trace& t) {
  std::vector<PathSection> all;
  critical_path(t, all);
  return all;
}

std::vector<Nanos> self_times(const Trace& t) {
  std::vector<Nanos> self;
  self_times(t, self);
  return self;
}

void self_times(const Trace& t, std::vector<Nanos>& self) {
  self.assign(t.size(), 0);
  for (std::uint32_t i = 0; i < t.size(); ++i) {
    const Span& s = t.spans[i];
    Nanos covered = 0, run_start = 0, run_end = 0;
    bool in_run = false;
    // Children are sorted by start, and clipping keeps that order.
    for (std::uint32_t c : t.kids(i)) {
      const Nanos cs = std::max(t.spans[c].start, s.start), ce = std::min(t.spans[c].end(), s.end());
      if (cs >= ce) continue;
      if (in_run && cs <= run_end) {
        run_end = std::max(run_end, ce);
      } else {
        if (in_run) covered += run_end - run_start;
        run_start = cs;
        run_end = ce;
        in_run = true;
      }
    }
    if (in_run) covered += run_end - run_start;
    self[i] = s.duration - covered;
  }
}

}  // namespace ta
