// libFuzzer target: a small span log through parsing, the span store,
// assembly and analysis.
//
// Input modes:
//   text    the data is the log itself: lines split as the reader splits them
//           (ta::for_each_line: "\r\n", blank lines, a BOM), rejected lines
//           ignored.
//   binary  first byte 0x01: the rest is a tiny program generating span lines
//           (layout below, at generate()) with ids "0".."7", so the fuzzer reaches
//           cycles, orphans, duplicates, inferred spans and skew without
//           having to invent JSON.
//
// Checks:
//   - the same lines stored in reverse arrival order (same line numbers)
//     assemble to the same traces: span ids, parents, children, order, depth,
//     anomalies, calls (assembly orders spans by input location, never by
//     arrival);
//   - the structure of each trace: `order` is a depth-first walk covering
//     every span once, parents valid, depth[child] == depth[parent] + 1,
//     roots are exactly the parentless spans, skew flagged exactly where a
//     child leaves its parent's interval, span ids unique;
//   - critical path: per root, contiguous sections in time order inside
//     their spans, from the root's start to its end (they sum to its
//     duration), root after root; 0 <= self time <= duration;
//   - self time equals the duration minus the union of the clipped children,
//     computed here from first principles;
//   - analyze() over a SpanLog of 1 writer with 1 thread (--threads 1)
//     and of 3 writers with 2 threads gives the same summary (it must not
//     depend on which thread read a span or on the thread count; while its
//     tables fit in the rows text shows, the first is JSON's and the second
//     text's, which find their pairs two different ways), which agrees
//     with the per-trace counts; every accepted line is a span, a duplicate
//     or over --max-trace-spans;
//   - live mode (LiveAssembler) over the same lines, with a window and an
//     open-trace limit taken from the input: each line is written in a
//     trace, a duplicate in one, late or over --max-trace-spans, and nothing
//     stays tracked after the final flush; with a window wider than the log
//     and no limit, every trace of the stores comes out exactly once
//     (with a narrow window a trace may come again once it is forgotten);
//   - trace ids that name one trace (16/32 hex, util/trace_ids.h) are
//     joined by the span logs and by live mode, as a reference of the rule
//     written here from its words expects; the open-trace stores keep them
//     apart.
// Binary mode also turns on --adjust-skew (shifts are undone before judging
// skew flags) and a small --max-trace-spans.
// A failed check prints what differed and traps; libFuzzer saves the input.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/critical_path.h"
#include "analyze/summary.h"
#include "assemble/trace.h"
#include "cli/options.h"
#include "live/live_assembler.h"
#include "parse/span_parser.h"
#include "read/line_reader.h"
#include "store/open_traces.h"

namespace {

using ta::kNone;
using ta::Nanos;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_assemble: check failed: %s\n", what.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

template <typename... Args>
void check(bool ok, fmt::format_string<Args...> format, Args&&... args) {
  if (!ok) fail(fmt::format(format, std::forward<Args>(args)...));
}

// ---------------------------------------------------------------- binary mode

// After the 0x01 marker:
//   byte  options: bits 0-2 group key (0 default, 1 host, 2 service,
//         3 operation, 4 field "region", else default), bit 3 --all-traces,
//         bits 4-5 --top {10, 1, 0, 3}, bit 6 --adjust-skew, bit 7
//         --max-trace-spans 6 (for the span logs of the summary check)
//   then per span 4 bytes, followed by 2 bytes per requestStacks entry:
//   b0    bits 0-2 spanId "0".."7"; bits 3-6 parent: 0-7 that id, 8 absent,
//         9 "0", 10 "", 11 null, 12 "9" (never logged), 13 a number, 14 "x",
//         15 "7"
//   b1    bits 0-3 start, bits 4-7 duration (in the span's unit, see b3)
//   b2    bits 0-1 httpCode {absent, 200, 500, 404}; bits 2-3 entries;
//         bit 4 the line is delivered twice; bits 5-6 service {none, s1, s2,
//         s3}; bit 7 host h1/h2
//   b3    bit 0 trace t1/t2; bit 1 times as strings; bits 2-3 unit {small ms,
//         quarter ms, epoch seconds, epoch microseconds}; bit 4 "\r\n";
//         bits 5-6 region {none, r1, r2, r3}; bit 7 a rejected line before it
//   entry c0 bits 0-2 subSpanId digit; bit 3 prefix "i" (a callee never
//         logged); bits 4-5 subHttpCode {absent, 200, 500, 404}; bit 6
//         subTimestamp present; bit 7 subDuration present
//         c1 bits 0-3 subTimestamp, bits 4-7 subDuration
constexpr const char* kGroupNames[] = {"host", "service", "operation", "region"};  // GroupKey order

struct Generated {
  std::string log;
  ta::Config config;
  ta::ParseOptions parse;
};

std::string time_text(unsigned v, unsigned unit, bool quoted) {
  std::string s;
  switch (unit) {
    case 0: s = std::to_string(v); break;
    case 1: s = fmt::format("{}.{:02}", v / 4, (v % 4) * 25); break;
    case 2: s = std::to_string(1704038400u + v); break;
    default: s = std::to_string(1704038400000000ull + v); break;
  }
  return quoted ? "\"" + s + "\"" : s;
}

std::string duration_text(unsigned v, unsigned unit, bool quoted) {
  std::string s = unit == 1 ? fmt::format("{}.{:02}", v / 4, (v % 4) * 25) : std::to_string(v);
  return quoted ? "\"" + s + "\"" : s;
}

const char* code_text(unsigned k) {
  static const char* const kCodes[] = {nullptr, "200", "500", "404"};
  return kCodes[k & 3];
}

Generated generate(const std::uint8_t* p, std::size_t n) {
  Generated g;
  std::size_t i = 0;
  const std::uint8_t options = i < n ? p[i++] : 0;
  switch (options & 7) {
    case 1: g.config.group = ta::GroupKey::kHost; break;
    case 2: g.config.group = ta::GroupKey::kService; break;
    case 3: g.config.group = ta::GroupKey::kOperation; break;
    case 4:
      g.config.group = ta::GroupKey::kField;
      g.config.group_field = "region";
      g.parse.group_field = "region";
      break;
    default: break;
  }
  g.config.all_traces = (options >> 3) & 1;
  static constexpr std::size_t kTops[] = {10, 1, 0, 3};
  g.config.top = kTops[(options >> 4) & 3];
  g.config.adjust_skew = (options >> 6) & 1;
  if (options >> 7) g.config.max_trace_spans = 6;

  while (i + 4 <= n) {
    const std::uint8_t b0 = p[i], b1 = p[i + 1], b2 = p[i + 2], b3 = p[i + 3];
    i += 4;
    const unsigned unit = (b3 >> 2) & 3;
    const bool quoted = (b3 >> 1) & 1;
    std::string line = fmt::format(R"({{"traceId":"t{}","spanId":"{}")", (b3 & 1) + 1, b0 & 7);
    switch (const unsigned parent = (b0 >> 3) & 15) {
      case 8: break;
      case 9: line += R"(,"parentSpanId":"0")"; break;
      case 10: line += R"(,"parentSpanId":"")"; break;
      case 11: line += R"(,"parentSpanId":null)"; break;
      case 12: line += R"(,"parentSpanId":"9")"; break;
      case 13: line += R"(,"parentSpanId":3)"; break;
      case 14: line += R"(,"parentSpanId":"x")"; break;
      case 15: line += R"(,"parentSpanId":"7")"; break;
      default: line += fmt::format(R"(,"parentSpanId":"{}")", parent); break;
    }
    line += fmt::format(R"(,"timestamp":{},"duration":{})", time_text(b1 & 15, unit, quoted),
                        duration_text(b1 >> 4, unit, quoted));
    if (const char* code = code_text(b2)) line += fmt::format(R"(,"httpCode":{})", code);
    line += fmt::format(R"(,"host":"h{}")", (b2 >> 7) + 1);
    if (const unsigned service = (b2 >> 5) & 3) line += fmt::format(R"(,"service":"s{}")", service);
    if (const unsigned region = (b3 >> 5) & 3) line += fmt::format(R"(,"region":"r{}")", region);
    line += R"(,"requestStacks":[)";
    const unsigned entries = (b2 >> 2) & 3;
    for (unsigned k = 0; k < entries && i + 2 <= n; ++k) {
      const std::uint8_t c0 = p[i], c1 = p[i + 1];
      i += 2;
      if (k) line += ',';
      line += fmt::format(R"({{"subSpanId":"{}{}")", (c0 >> 3) & 1 ? "i" : "", c0 & 7);
      if (const char* code = code_text(c0 >> 4)) line += fmt::format(R"(,"subHttpCode":{})", code);
      if ((c0 >> 6) & 1) line += fmt::format(R"(,"subTimestamp":{})", time_text(c1 & 15, unit, quoted));
      if ((c0 >> 7) & 1) line += fmt::format(R"(,"subDuration":{})", duration_text(c1 >> 4, unit, quoted));
      line += fmt::format(R"(,"subHost":"h{}"}})", (c0 & 1) + 1);
    }
    line += "]}";
    const char* eol = (b3 >> 4) & 1 ? "\r\n" : "\n";
    if (b3 >> 7) g.log += fmt::format(R"({{"traceId":"t1","spanId":"bad","timestamp":"soon"}}{})", eol);
    g.log += line + eol;
    if ((b2 >> 4) & 1) g.log += line + eol;
  }
  return g;
}

// ---------------------------------------------------------------- one trace

struct Labels {
  const ta::SymbolTable& symbols;
  std::string_view operator()(ta::Symbol s) const { return symbols.text(s); }
};

std::string call_text(const ta::Trace& t, const ta::Call& c, Labels label) {
  return fmt::format("{{{} {}+{} {} {}}}", t.str(c.span_id), c.start, c.duration, label(c.host), c.http_code);
}

// Everything assembly decided, independent of arrival order: ids, labels and
// calls as text (the text arena, symbols and call table are in arrival order).
std::string describe(const ta::Trace& t, Labels label) {
  std::string out = fmt::format("trace {} logged={} inferred={} duplicates={} [{}, {}]\n", t.trace_id,
                                t.logged_spans, t.inferred_spans, t.duplicates, t.start, t.end);
  for (std::uint32_t i = 0; i < t.size(); ++i) {
    const ta::Span& s = t.spans[i];
    out += fmt::format("  {}: id={} parentId={} {}+{} host={} service={} op={} group={} code={} flags={:#x} "
                       "at {}:{} parent={} depth={} client=",
                       i, t.span_id(i), t.str(s.parent_id), s.start, s.duration, label(s.host), label(s.service),
                       label(s.operation), label(s.group), s.http_code, s.flags, s.file, s.line,
                       t.parent[i] == kNone ? -1 : static_cast<std::int64_t>(t.parent[i]), t.depth[i]);
    out += t.client_call[i] == kNone ? std::string("-") : call_text(t, t.calls[t.client_call[i]], label);
    out += " calls=";
    for (std::uint32_t c = s.calls_begin; c < s.calls_begin + s.calls_count; ++c)
      out += call_text(t, t.calls[c], label);
    out += " kids=";
    for (std::uint32_t c : t.kids(i)) out += fmt::format("{},", c);
    out += '\n';
  }
  out += fmt::format("  roots={}\n  order={}\n", fmt::join(t.roots, ","), fmt::join(t.order, ","));
  for (const ta::Anomaly& a : t.anomalies)
    out += fmt::format("  anomaly {} span {}: {}\n", ta::anomaly_name(a.kind), a.span, a.detail);
  for (const ta::Adjustment& a : t.adjustments) out += fmt::format("  adjusted {} by {}\n", a.span, a.shift);
  if (!t.shift.empty()) out += fmt::format("  shift={}\n", fmt::join(t.shift, ","));
  return out;
}

// describe(a) == describe(b) without building the strings (the common case).
bool same(const ta::Trace& a, Labels la, const ta::Trace& b, Labels lb) {
  auto same_call = [&](std::uint32_t x, std::uint32_t y) {
    if (x == kNone || y == kNone) return x == y;
    const ta::Call &cx = a.calls[x], &cy = b.calls[y];
    return a.str(cx.span_id) == b.str(cy.span_id) && cx.start == cy.start && cx.duration == cy.duration &&
           la(cx.host) == lb(cy.host) && cx.http_code == cy.http_code;
  };
  if (a.trace_id != b.trace_id || a.size() != b.size() || a.logged_spans != b.logged_spans ||
      a.inferred_spans != b.inferred_spans || a.duplicates != b.duplicates || a.start != b.start || a.end != b.end ||
      a.parent != b.parent || a.depth != b.depth || a.child_begin != b.child_begin || a.children != b.children ||
      a.roots != b.roots || a.order != b.order || a.anomalies.size() != b.anomalies.size() ||
      a.shift != b.shift || a.adjustments.size() != b.adjustments.size())
    return false;
  for (std::size_t k = 0; k < a.adjustments.size(); ++k)
    if (a.adjustments[k].span != b.adjustments[k].span || a.adjustments[k].shift != b.adjustments[k].shift)
      return false;
  for (std::uint32_t i = 0; i < a.size(); ++i) {
    const ta::Span &x = a.spans[i], &y = b.spans[i];
    if (a.span_id(i) != b.span_id(i) || a.str(x.parent_id) != b.str(y.parent_id) || x.start != y.start ||
        x.duration != y.duration || la(x.host) != lb(y.host) || la(x.service) != lb(y.service) ||
        la(x.operation) != lb(y.operation) || la(x.group) != lb(y.group) || x.http_code != y.http_code ||
        x.flags != y.flags || x.file != y.file || x.line != y.line || x.calls_count != y.calls_count ||
        !same_call(a.client_call[i], b.client_call[i]))
      return false;
    for (std::uint32_t k = 0; k < x.calls_count; ++k)
      if (!same_call(x.calls_begin + k, y.calls_begin + k)) return false;
  }
  for (std::size_t k = 0; k < a.anomalies.size(); ++k)
    if (a.anomalies[k].kind != b.anomalies[k].kind || a.anomalies[k].span != b.anomalies[k].span ||
        a.anomalies[k].detail != b.anomalies[k].detail)
      return false;
  return true;
}

void check_structure(const ta::Trace& t) {
  const auto n = static_cast<std::uint32_t>(t.size());
  check(t.parent.size() == n && t.client_call.size() == n && t.depth.size() == n && t.order.size() == n &&
            t.child_begin.size() == n + 1,
        "per-span arrays do not have one entry per span");
  check(t.logged_spans + t.inferred_spans == n, "logged + inferred != spans");
  check(t.children.size() + t.roots.size() == n, "children + roots != spans");
  check(t.shift.empty() || t.shift.size() == n, "shift has not one entry per span");
  check(t.shift.empty() == t.adjustments.empty(), "shift is set without adjustments, or the reverse");
  for (const ta::Adjustment& a : t.adjustments) check(a.span < n && a.shift != 0, "adjustment out of range");
  check(t.child_begin[0] == 0 && t.child_begin[n] == t.children.size(), "child_begin does not cover children");

  std::set<std::string_view> ids;
  Nanos lo = n ? t.spans[0].start : 0, hi = n ? t.spans[0].end() : 0;
  std::size_t roots = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    const ta::Span& s = t.spans[i];
    check(ids.insert(t.span_id(i)).second, "span id {} appears twice in trace {}", t.span_id(i), t.trace_id);
    check(s.duration >= 0 && s.start - t.shift_of(i) >= 0, "span {} has a negative start or duration", i);
    check(((s.flags & ta::kInferred) != 0) == (i >= t.logged_spans), "kInferred flag on span {} is wrong", i);
    lo = std::min(lo, s.start);
    hi = std::max(hi, s.end());
    const std::uint32_t p = t.parent[i];
    if (p == kNone) {
      ++roots;
      check(t.depth[i] == 0, "root {} has depth {}", i, t.depth[i]);
      continue;
    }
    check(p < n, "span {} has parent index {} of {} spans", i, p, n);
    check(p != i, "span {} is its own parent", i);
    check(t.depth[i] == t.depth[p] + 1, "depth[{}] = {}, its parent {} has depth {}", i, t.depth[i], p, t.depth[p]);
    // Skew is judged on the times as logged (--adjust-skew moves spans after).
    const ta::Span& ps = t.spans[p];
    const Nanos cs = s.start - t.shift_of(i), ce = cs + s.duration;
    const Nanos pstart = ps.start - t.shift_of(p), pend = pstart + ps.duration;
    const bool outside = cs < pstart || ce > pend;
    check(outside == ((s.flags & ta::kSkew) != 0), "skew flag of span {} ({}+{}) under {} ({}+{}) is {}", i, cs,
          s.duration, p, pstart, ps.duration, (s.flags & ta::kSkew) != 0);
    if (t.client_call[i] != kNone) check(t.client_call[i] < t.calls.size(), "client_call of {} out of range", i);
  }
  check(roots == t.roots.size(), "roots lists {} spans, {} have no parent", t.roots.size(), roots);
  if (n) check(t.start == lo && t.end == hi, "trace extent [{}, {}] but spans cover [{}, {}]", t.start, t.end, lo, hi);

  auto by_start = [&](std::uint32_t a, std::uint32_t b) {
    const Nanos sa = t.spans[a].start, sb = t.spans[b].start;
    return sa != sb ? sa < sb : a < b;
  };
  bool real_root = false;
  for (std::size_t k = 0; k < t.roots.size(); ++k) {
    const std::uint32_t r = t.roots[k];
    check(r < n && t.parent[r] == kNone, "roots lists {}, which has a parent", r);
    if (k) check(by_start(t.roots[k - 1], r), "roots are not sorted by start");
    real_root |= !(t.spans[r].flags & (ta::kOrphan | ta::kCycle));
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto kids = t.kids(i);
    for (std::size_t k = 0; k < kids.size(); ++k) {
      const std::uint32_t c = kids.begin()[k];
      check(c < n && t.parent[c] == i, "children of {} lists {}, whose parent is another", i, c);
      if (k) check(by_start(kids.begin()[k - 1], c), "children of {} are not sorted by start", i);
    }
  }

  // order: every span once, a depth-first walk: each subtree a contiguous
  // run, a span first, then its children's subtrees in their order.
  std::vector<std::uint32_t> pos(n, kNone), size(n, 1);
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::uint32_t u = t.order[k];
    check(u < n && pos[u] == kNone, "order lists span {} twice or out of range", u);
    pos[u] = k;
  }
  for (std::uint32_t k = n; k-- > 0;) {
    const std::uint32_t u = t.order[k];
    if (t.parent[u] != kNone) {
      check(pos[t.parent[u]] < k, "order lists span {} before its parent", u);
      size[t.parent[u]] += size[u];
    }
  }
  std::uint32_t next = 0;
  for (std::uint32_t r : t.roots) {
    check(pos[r] == next, "order does not start root {}'s tree where the previous one ended", r);
    next += size[r];
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t at = pos[i] + 1;
    for (std::uint32_t c : t.kids(i)) {
      check(pos[c] == at, "order is not depth-first at child {} of {}", c, i);
      at += size[c];
    }
  }

  std::size_t no_root = 0;
  for (const ta::Anomaly& a : t.anomalies) {
    check(static_cast<int>(a.kind) < ta::kAnomalyKinds && a.span < n, "anomaly out of range");
    no_root += a.kind == ta::AnomalyKind::kNoRoot;
  }
  check(no_root == (n > 0 && !real_root ? 1u : 0u), "no-root reported {} times, real root: {}", no_root, real_root);
}

void check_analysis(const ta::Trace& t) {
  const std::size_t n = t.size();
  // The root of each span's tree (order has parents first).
  std::vector<std::uint32_t> root_of(n, kNone);
  for (std::uint32_t u : t.order) root_of[u] = t.parent[u] == kNone ? u : root_of[t.parent[u]];

  std::vector<ta::PathSection> all, joined;
  ta::critical_path(t, all);
  std::vector<Nanos> on_path(n, 0);
  for (std::uint32_t r : t.roots) {
    const std::vector<ta::PathSection> path = ta::critical_path(t, r);
    const ta::Span& rs = t.spans[r];
    check(!path.empty(), "root {} has an empty critical path", r);
    Nanos at = rs.start, sum = 0;
    for (const ta::PathSection& p : path) {
      check(p.span < n && root_of[p.span] == r, "path of root {} has span {} of another tree", r, p.span);
      const ta::Span& s = t.spans[p.span];
      check(p.start == at, "path of root {}: section [{}, {}] of span {} does not start where the last ended ({})",
            r, p.start, p.end, p.span, at);
      check(p.start < p.end || (rs.duration == 0 && path.size() == 1),
            "path of root {}: empty section [{}, {}] of span {}", r, p.start, p.end, p.span);
      check(p.start >= s.start && p.end <= s.end(), "path of root {}: section [{}, {}] outside its span {} [{}, {}]",
            r, p.start, p.end, p.span, s.start, s.end());
      at = p.end;
      sum += p.end - p.start;
      on_path[p.span] += p.end - p.start;
    }
    check(at == rs.end(), "path of root {} ends at {}, the root at {}", r, at, rs.end());
    check(sum == rs.duration, "path of root {} sums to {}, its duration is {}", r, sum, rs.duration);
    joined.insert(joined.end(), path.begin(), path.end());
  }
  check(joined.size() == all.size() &&
            std::equal(joined.begin(), joined.end(), all.begin(),
                       [](const ta::PathSection& a, const ta::PathSection& b) {
                         return a.span == b.span && a.start == b.start && a.end == b.end;
                       }),
        "critical_path(trace) is not the roots' paths one after the other");
  const std::vector<Nanos> self = ta::self_times(t);
  check(self.size() == n, "self_times has not one entry per span");
  std::vector<std::pair<Nanos, Nanos>> clipped;
  for (std::uint32_t i = 0; i < n; ++i) {
    // Self time from first principles: the union of the children's intervals
    // clipped to the span, whatever their order.
    const ta::Span& s = t.spans[i];
    clipped.clear();
    for (std::uint32_t c : t.kids(i)) {
      const Nanos lo = std::max(t.spans[c].start, s.start), hi = std::min(t.spans[c].end(), s.end());
      if (lo < hi) clipped.push_back({lo, hi});
    }
    std::sort(clipped.begin(), clipped.end());
    Nanos covered = 0, run_end = 0;
    bool open = false;
    for (const auto& [lo, hi] : clipped) {
      if (!open || lo > run_end) {
        covered += hi - lo;
        run_end = hi;
        open = true;
      } else if (hi > run_end) {
        covered += hi - run_end;
        run_end = hi;
      }
    }
    check(self[i] == s.duration - covered, "self time of span {} is {}, its duration {} minus its children's {} is {}",
          i, self[i], s.duration, covered, s.duration - covered);
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    check(self[i] >= 0 && self[i] <= t.spans[i].duration, "self time {} of span {} outside [0, {}]", self[i], i,
          t.spans[i].duration);
    check(on_path[i] <= t.spans[i].duration, "span {} is {} on the critical path, longer than its duration {}", i,
          on_path[i], t.spans[i].duration);
  }
}

// ---------------------------------------------------------------- summary

std::string describe(const ta::Distribution& d) {
  return fmt::format("n={} min={} p50={} p90={} p99={} max={}", d.count, d.min, d.p50, d.p90, d.p99, d.max);
}

std::string describe(const ta::Analysis& a) {
  std::string out = fmt::format("spans={} duplicates={} inferred={} anomalies={} counts={} label={}\n", a.spans,
                                a.duplicates, a.inferred, a.anomalies, fmt::join(a.anomaly_counts, ","),
                                a.group_label);
  const ta::TraceTotals& t = a.traces;
  out += fmt::format("traces={} latency {} spans {} complete={} missing_root={} orphans={} inferred={} total={}\n",
                     t.count, describe(t.latency), describe(t.spans), t.complete, t.missing_root, t.with_orphans,
                     t.with_inferred, t.latency_total);
  for (const ta::GroupSummary& g : a.groups)
    out += fmt::format("group {}: spans={} errors={} {} self={} critical={} share={}\n", g.name, g.spans, g.errors,
                       describe(g.duration), g.self_total, g.critical_total, g.critical_share);
  out += fmt::format("pairs={} listed={}\n", a.edges.size(), a.edges.listed());
  for (const ta::EdgeSummary& e : a.edges)
    out += fmt::format("edge {} -> {}: calls={} errors={} client {} gap {}\n", e.caller, e.callee, e.calls, e.errors,
                       describe(e.client), describe(e.gap));
  for (const ta::SkewSummary& k : a.skew)
    out += fmt::format("skew {} -> {}: calls={} outside={} offset {}\n", k.caller_host, k.callee_host, k.calls,
                       k.outside, describe(k.offset));
  out += fmt::format("adjustments={}\n", a.adjustments);
  for (const ta::AnomalyExample& e : a.anomaly_examples)
    out += fmt::format("example {} {}/{} at {}:{}: {}\n", ta::anomaly_name(e.kind), e.trace_id, e.span_id, e.file,
                       e.line, e.detail);
  for (const ta::ShownTrace& s : a.shown) {
    out += fmt::format("shown {} latency={} path=", s.trace.trace_id, s.trace.latency());
    for (const ta::PathSection& p : s.path) out += fmt::format("{}[{},{}]", s.trace.span_id(p.span), p.start, p.end);
    out += fmt::format(" self={} on_path={}\n", fmt::join(s.self, ","), fmt::join(s.on_path, ","));
  }
  return out;
}

// A parsed line kept past the next parse (a SpanRecord's views are not).
struct OwnedRecord {
  std::uint32_t line = 0;
  std::string trace_id, span_id, parent_id, host, service, operation, group;
  std::vector<std::string> call_ids, call_hosts;
  ta::SpanRecord record;  // views into the strings above

  OwnedRecord(const ta::SpanRecord& r, std::uint32_t line_no)
      : line(line_no), trace_id(r.trace_id), span_id(r.span_id), parent_id(r.parent_id), host(r.host),
        service(r.service), operation(r.operation), group(r.group), record(r) {
    for (const ta::CallRecord& c : r.calls) {
      call_ids.emplace_back(c.span_id);
      call_hosts.emplace_back(c.host);
    }
  }
  OwnedRecord(const OwnedRecord&) = delete;
  OwnedRecord& operator=(const OwnedRecord&) = delete;

  const ta::SpanRecord& view() {
    record.trace_id = trace_id;
    record.span_id = span_id;
    record.parent_id = parent_id;
    record.host = host;
    record.service = service;
    record.operation = operation;
    record.group = group;
    for (std::size_t k = 0; k < record.calls.size(); ++k) {
      record.calls[k].span_id = call_ids[k];
      record.calls[k].host = call_hosts[k];
    }
    return record;
  }
};

// The id each trace id is written under once the stores join ids that name
// one trace (util/trace_ids.h, Zipkin's non-strict rule), worked out here
// from the rule's words rather than through the store's code: a short id (16
// hex digits, or 32 whose first 16 are zeros) joins the one long id (32 hex,
// high half not zero) that ends in its digits; with no long id or several,
// the 16-digit id and the zero-padded 32 of it are one trace (under the 32).
std::map<std::string, std::string> joined_ids(const std::vector<std::string>& ids) {
  auto hex = [](const std::string& id) {
    return std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
  };
  struct Half {
    std::vector<std::string> longs;
    std::string sixteen, zero;
  };
  std::map<std::string, Half> by_low;
  std::map<std::string, std::string> into;
  for (const std::string& id : ids) {
    into[id] = id;
    if ((id.size() != 16 && id.size() != 32) || !hex(id)) continue;
    Half& h = by_low[id.substr(id.size() - 16)];
    if (id.size() == 16)
      h.sixteen = id;
    else if (id.compare(0, 16, std::string(16, '0')) == 0)
      h.zero = id;
    else
      h.longs.push_back(id);
  }
  for (const auto& [low, h] : by_low) {
    if (h.longs.size() == 1) {
      if (!h.sixteen.empty()) into[h.sixteen] = h.longs[0];
      if (!h.zero.empty()) into[h.zero] = h.longs[0];
    } else if (!h.sixteen.empty() && !h.zero.empty()) {
      into[h.sixteen] = h.zero;
    }
  }
  return into;
}

std::size_t distinct_targets(const std::map<std::string, std::string>& into) {
  std::set<std::string> targets;
  for (const auto& [id, to] : into) targets.insert(to);
  return targets.size();
}

void check_live(std::deque<OwnedRecord>& records, const Generated& g, std::uint8_t knobs,
                const std::map<std::string, std::string>& joined) {
  for (int pass = 0; pass < 4; ++pass) {
    ta::LiveOptions o;
    o.max_trace_spans = g.config.max_trace_spans;
    // Passes 2 and 3 are 0 and 1 settled per chunk, as the program runs:
    // complete traces wait for a settle() every few records.
    o.settle_per_chunk = pass >= 2;
    const bool narrow = pass % 2 == 1;
    o.assemble.adjust_skew = g.config.adjust_skew;
    if (narrow) {  // windows and evictions happen
      o.window = 1 + static_cast<ta::Nanos>(knobs & 0x0f) * 1'000'000;  // --window is at least 1 ns
      o.max_open_traces = 1 + (knobs >> 4) % 4;
    } else {  // wide: everything waits for completion or the end
      o.window = std::numeric_limits<ta::Nanos>::max() / 4;
      o.max_open_traces = 1'000'000;
    }
    // trace -> times written, logged spans over all writes
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> written;
    std::uint64_t lines = 0, duplicates = 0;
    ta::LiveAssembler live(o, [&](ta::ShownTrace& st, ta::Emit) {
      auto& w = written[st.trace.trace_id];
      ++w.first;
      w.second += st.trace.logged_spans;
      duplicates += st.trace.duplicates;
      check_structure(st.trace);
    });
    for (OwnedRecord& r : records) {
      live.add(r.view(), 0, r.line);
      if (++lines % (1 + knobs % 7) == 0) live.settle();
    }
    live.flush_all();
    std::uint64_t spans = 0;
    for (const auto& [id, w] : written) spans += w.second;
    const ta::LiveCounts& c = live.counts();
    check(spans + duplicates + c.late + c.dropped == lines,
          "live (pass {}): {} lines but {} spans + {} duplicates + {} late + {} dropped", pass, lines, spans, duplicates,
          c.late, c.dropped);
    check(live.open_traces() == 0 && live.tracked_ids() == 0, "live (pass {}): {} traces, {} ids left after the flush",
          pass, live.open_traces(), live.tracked_ids());
    if (!narrow) {
      // Nothing is forgotten with an endless window: each trace exactly once.
      for (const auto& [id, w] : written) check(w.first == 1, "live mode wrote trace {} {} times", id, w.first);
      // Each trace under the id it is joined to.
      check(written.size() == distinct_targets(joined), "live wrote {} traces, the ids name {}", written.size(),
            distinct_targets(joined));
      for (const auto& [id, to] : joined)
        check(written.count(to) == 1, "live mode never wrote trace {} (for {})", to, id);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Generated g;
  if (size > 0 && data[0] == 0x01) {
    g = generate(data + 1, size - 1);
  } else {
    g.log.assign(reinterpret_cast<const char*>(data), size);
  }

  // TA_FUZZ_PRINT=1 build-fuzz/fuzz_assemble INPUT: show the log and options
  // (to replay a binary-mode input with trace-assemble itself).
  static const bool print = std::getenv("TA_FUZZ_PRINT") != nullptr;
  if (print)
    std::fprintf(stderr, "--- options: --group-by %s --top %zu%s%s --max-trace-spans %zu\n%s--- end of log\n",
                 g.config.group == ta::GroupKey::kDefault ? "(default)" : kGroupNames[static_cast<int>(g.config.group)],
                 g.config.top, g.config.all_traces ? " --all-traces" : "", g.config.adjust_skew ? " --adjust-skew" : "",
                 g.config.max_trace_spans, g.log.c_str());

  // The log in one padded buffer, cut into lines as the reader does.
  const std::size_t capacity = g.log.size() + simdjson::SIMDJSON_PADDING;
  std::unique_ptr<char[]> buf(new char[capacity]);
  std::memcpy(buf.get(), g.log.data(), g.log.size());
  std::memset(buf.get() + g.log.size(), 0, simdjson::SIMDJSON_PADDING);
  ta::LineChunk chunk;
  chunk.data = buf.get();
  chunk.size = g.log.size();
  chunk.capacity = capacity;
  ta::SpanParser parser(g.parse);
  ta::SpanRecord record;
  std::deque<OwnedRecord> records;  // accepted lines, in input order
  ta::for_each_line(chunk, [&](std::string_view line, std::uint64_t number, std::size_t cap) {
    if (parser.parse(line, cap, record)) records.emplace_back(record, static_cast<std::uint32_t>(number));
  });
  const std::uint64_t accepted = records.size();

  // Stores of the same lines: arrival order forward and reversed (line
  // numbers unchanged), and span logs of 1 and of 3 writers.
  ta::OpenTraces forward, reversed;
  ta::SpanLog one_log(g.config.max_trace_spans), many_writers(g.config.max_trace_spans);
  ta::SpanLog::Writer* writers[3] = {&many_writers.writer(), &many_writers.writer(), &many_writers.writer()};
  std::size_t turn = 0;
  for (OwnedRecord& r : records) {
    forward.add(r.view(), 0, r.line);
    one_log.add(r.view(), 0, r.line);
    writers[turn++ % 3]->add(r.view(), 0, r.line);  // as threads reading chunks would
  }
  for (auto it = records.rbegin(); it != records.rend(); ++it) reversed.add(it->view(), 0, it->line);
  check(forward.span_count() == accepted && reversed.span_count() == accepted, "stores do not hold every span");
  auto trace_count = [](const ta::SpanLog& log) {
    std::size_t n = 0;
    log.for_each_trace([&](const ta::TraceData&) { ++n; });
    return n;
  };
  // The open-trace stores file each id apart (live mode joins them above
  // the store); the span logs join ids that name one trace.
  std::vector<std::string> ids;
  forward.for_each_trace([&](const ta::TraceData& d) { ids.emplace_back(d.trace_id); });
  const std::map<std::string, std::string> joined = joined_ids(ids);
  const std::size_t named = distinct_targets(joined);
  const bool any_joined = named != ids.size();
  check(forward.trace_count() == reversed.trace_count() && forward.trace_count() == ids.size(),
        "the open-trace stores disagree on the number of traces");
  check(trace_count(one_log) == named && trace_count(many_writers) == named,
        "the span logs hold {} and {} traces, the ids name {}", trace_count(one_log), trace_count(many_writers),
        named);

  // Each trace, assembled from both stores (the second into a reused Trace).
  ta::Trace reused;
  std::uint64_t spans = 0, duplicates = 0, inferred = 0, anomalies = 0, traces = 0;
  forward.for_each_trace([&](const ta::TraceData& data) {
    const std::optional<ta::TraceData> other = reversed.find(data.trace_id);
    check(other.has_value(), "trace {} missing from the reversed store", data.trace_id);
    const ta::AssembleOptions options{g.config.adjust_skew};
    const ta::Trace t = ta::assemble(data, options);
    ta::assemble(*other, reused, options);
    if (!same(t, Labels{forward.symbols()}, reused, Labels{reversed.symbols()}))
      fail(fmt::format("trace {} assembles differently from lines in reverse order:\n{}--- vs ---\n{}", data.trace_id,
                       describe(t, Labels{forward.symbols()}), describe(reused, Labels{reversed.symbols()})));
    check_structure(t);
    check_analysis(t);
    ++traces;
    spans += t.logged_spans;
    duplicates += t.duplicates;
    inferred += t.inferred_spans;
    anomalies += t.anomalies.size();
  });
  check(spans + duplicates == accepted, "{} accepted lines but {} spans + {} duplicates", accepted, spans, duplicates);

  // The summary over 3 writers with 2 threads, and as --threads 1 computes
  // it. While every table fits in the rows text shows, the run on one
  // thread is JSON's, which orders and merges every pair where text counts
  // them over the threads' tables and finds the rows it shows: both must
  // give the same.
  std::uint64_t dropped = 0;
  one_log.for_each_trace([&](const ta::TraceData& data) { dropped += data.dropped; });
  ta::Config config = g.config;
  config.threads = 2;
  const ta::Analysis threaded = ta::analyze(many_writers, config, 2);
  config.threads = 1;
  if (threaded.groups.size() <= ta::kTableRows && threaded.edges.size() <= ta::kTableRows &&
      threaded.skew.size() <= ta::kTableRows)
    config.format = ta::Format::kJson;
  const ta::Analysis single = ta::analyze(one_log, config, 1);
  const std::string a = describe(single), b = describe(threaded);
  if (a != b)
    fail(fmt::format("analyze differs between 1 writer/1 thread ({}) and 3 writers/2 threads:\n{}--- vs ---\n{}",
                     config.format == ta::Format::kJson ? "JSON" : "the same format", a, b));
  check(single.spans + single.duplicates + dropped == accepted,
        "{} accepted lines but analyze counts {} spans + {} duplicates + {} over --max-trace-spans", accepted,
        single.spans, single.duplicates, dropped);
  if (dropped == 0 && any_joined)  // a joined trace may hold as duplicates what were spans of two
    check(single.traces.count == named && single.spans + single.duplicates == spans + duplicates,
          "analyze counts {} traces and {} spans + duplicates, the joined ids name {} traces of {}",
          single.traces.count, single.spans + single.duplicates, named, spans + duplicates);
  if (dropped == 0 && !any_joined)
    check(single.spans == spans && single.duplicates == duplicates && single.inferred == inferred &&
              single.anomalies == anomalies && single.traces.count == traces,
          "analyze counts (spans {}, duplicates {}, inferred {}, anomalies {}, traces {}) differ from the traces' "
          "({}, {}, {}, {}, {})",
          single.spans, single.duplicates, single.inferred, single.anomalies, single.traces.count, spans, duplicates,
          inferred, anomalies, traces);
  check_live(records, g, size > 1 ? data[size - 1] : 0, joined);

  std::uint64_t by_kind = 0;
  for (std::uint64_t c : single.anomaly_counts) by_kind += c;
  check(by_kind == single.anomalies, "anomaly counts by kind do not add up");
  std::uint64_t group_spans = 0;
  for (const ta::GroupSummary& gs : single.groups) group_spans += gs.spans;
  check(group_spans == single.spans + single.inferred, "groups hold {} spans, the traces {}", group_spans,
        single.spans + single.inferred);
  return 0;
}
