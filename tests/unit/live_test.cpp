#include <doctest/doctest.h>

#include "test_support.h"

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "analyze/sample.h"
#include "live/live_assembler.h"

using namespace ta;

namespace {

struct Emitted {
  std::string trace;
  Emit why;
  std::uint32_t logged;
  std::uint32_t inferred;
};

struct Harness {
  explicit Harness(LiveOptions o = {})
      : live(o, [this](ShownTrace& t, Emit why) {
          out.push_back({t.trace.trace_id, why, t.trace.logged_spans, t.trace.inferred_spans});
        }) {}
  LiveAssembler::Added add(std::string trace, std::string id, std::string parent, Nanos start, Nanos duration,
                           std::vector<std::string> callees = {}) {
    SpanRecord r;
    r.trace_id = trace;
    r.span_id = id;
    r.parent_id = parent;
    r.start = start;
    r.duration = duration;
    r.host = "h";
    for (const std::string& c : callees) r.calls.push_back({c, start, 1, "h", 200});
    return live.add(r, 0, ++line);
  }
  std::vector<Emitted> out;
  LiveAssembler live;
  std::uint32_t line = 0;
};

LiveOptions window(Nanos w, std::size_t max_open = 1000) {
  LiveOptions o;
  o.window = w;
  o.max_open_traces = max_open;
  return o;
}

}  // namespace

TEST_CASE("live: a trace is written when its root and every callee it lists have come") {
  Harness h;
  h.add("t", "c1", "r", 10, 5);
  h.add("t", "c2", "r", 20, 5, {"g"});
  CHECK(h.out.empty());
  h.add("t", "r", "", 0, 50, {"c1", "c2"});
  CHECK(h.out.empty());  // c2 still waits for its callee g
  h.add("t", "g", "c2", 21, 2);
  REQUIRE(h.out.size() == 1);
  CHECK(h.out[0].trace == "t");
  CHECK(h.out[0].why == Emit::kComplete);
  CHECK(h.out[0].logged == 4);
  CHECK(h.live.open_traces() == 0);
  CHECK(h.live.tracked_ids() == 0);
}

TEST_CASE("live: a parent that nobody lists is waited for as well") {
  Harness h;
  h.add("t", "r", "", 0, 50);    // a root without requestStacks
  CHECK(h.out.size() == 1);      // complete by itself
  h.add("u", "x", "p", 0, 5);    // its parent p is not here yet
  h.add("u", "r2", "", 0, 50);   // a root, but p is still expected
  CHECK(h.out.size() == 1);
  h.add("u", "p", "r2", 0, 10);  // p's parent r2 is here
  REQUIRE(h.out.size() == 2);
  CHECK(h.out[1].trace == "u");
  CHECK(h.out[1].why == Emit::kComplete);
}

TEST_CASE("live: an incomplete trace is written once the watermark passes its last activity") {
  Harness h(window(100));
  h.add("t", "r", "", 0, 50, {"lost"});  // its callee never comes
  h.add("u", "a", "", 120, 10, {"b"});   // watermark 20: t (active until 50) waits
  CHECK(h.out.empty());
  h.add("u", "b", "a", 151, 1);          // completes u; watermark 51 > 50 lets t go
  REQUIRE(h.out.size() == 2);
  CHECK(h.out[0].trace == "u");
  CHECK(h.out[0].why == Emit::kComplete);
  CHECK(h.out[1].trace == "t");
  CHECK(h.out[1].why == Emit::kWindow);
  CHECK(h.out[1].inferred == 1);
  CHECK(h.live.tracked_ids() == 0);
}

TEST_CASE("live: spans of a trace already written are late: counted, not merged") {
  Harness h;
  h.add("t", "r", "", 0, 50);
  REQUIRE(h.out.size() == 1);
  CHECK(h.add("t", "x", "r", 5, 5) == LiveAssembler::Added::kLate);
  CHECK(h.add("t", "r", "", 0, 50) == LiveAssembler::Added::kLate);  // a copy of the root, too
  CHECK(h.live.counts().late == 2);
  CHECK(h.live.open_traces() == 0);
  h.live.flush_all();
  CHECK(h.out.size() == 1);
}

TEST_CASE("live: past --max-open-traces the least recently active trace is evicted") {
  Harness h(window(1'000'000, 2));
  h.add("a", "a1", "", 0, 10, {"lost"});
  h.add("b", "b1", "", 5, 10, {"lost"});
  h.add("a", "a2", "a1", 30, 10);  // a is now the more recently active
  CHECK(h.out.empty());
  h.add("c", "c1", "", 50, 1, {"lost"});  // three open: b, active until 15, goes
  REQUIRE(h.out.size() == 1);
  CHECK(h.out[0].trace == "b");
  CHECK(h.out[0].why == Emit::kEvicted);
  CHECK(h.live.open_traces() == 2);
  CHECK(h.live.counts().open_peak == 3);
  h.live.flush_all();  // the rest in order of first appearance
  REQUIRE(h.out.size() == 3);
  CHECK(h.out[1].trace == "a");
  CHECK(h.out[2].trace == "c");
  CHECK(h.out[2].why == Emit::kEnd);
  CHECK(h.live.tracked_ids() == 0);
}

TEST_CASE("live: memory follows the open traces, not the traces written") {
  Harness h(window(3'600'000'000'000));  // an hour of log time
  for (int i = 0; i < 20'000; ++i) h.add("t" + std::to_string(i), "r", "", 1000, 5);  // one moment, each complete
  CHECK(h.out.size() == 20'000);
  CHECK(h.live.open_traces() == 0);
  CHECK(h.live.queued() <= 1024 + 2);
  CHECK(h.live.tracked_ids() == 0);
}

TEST_CASE("live: random interleaved traces are each written exactly once, with all their spans") {
  std::mt19937_64 rng(7);
  struct Line {
    std::string trace, id, parent;
    Nanos start;
    std::vector<std::string> calls;
  };
  std::vector<std::vector<Line>> traces;
  std::map<std::string, std::uint32_t> expected_spans;
  for (int t = 0; t < 400; ++t) {
    const std::string tid = "t" + std::to_string(t);
    std::vector<Line> lines;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      const std::string parent = i == 0 ? "" : tid + "s" + std::to_string(rng() % i);
      lines.push_back({tid, tid + "s" + std::to_string(i), parent, t * 10 + i, {}});
    }
    for (int i = 1; i < n; ++i)
      for (Line& p : lines)
        if (p.id == lines[i].parent) p.calls.push_back(lines[i].id);
    if (rng() % 5 == 0 && n > 1) lines.erase(lines.begin() + 1 + static_cast<long>(rng() % (n - 1)));  // a lost line
    std::reverse(lines.begin(), lines.end());  // written as spans end: children first
    expected_spans[tid] = static_cast<std::uint32_t>(lines.size());
    traces.push_back(std::move(lines));
  }
  std::uint64_t total_lines = 0;
  for (const auto& [id, n] : expected_spans) total_lines += n;
  for (std::size_t max_open : {std::size_t{1000}, std::size_t{5}}) {
    Harness h(window(1'000'000, max_open));
    // Interleave: a few traces in flight at a time.
    std::vector<std::size_t> pos(traces.size(), 0);
    std::size_t next = 0;
    std::vector<std::size_t> flight;
    while (next < traces.size() || !flight.empty()) {
      while (flight.size() < 8 && next < traces.size()) flight.push_back(next++);
      const std::size_t k = rng() % flight.size();
      const std::size_t t = flight[k];
      const Line& l = traces[t][pos[t]++];
      h.add(l.trace, l.id, l.parent, l.start, 1, l.calls);
      if (pos[t] == traces[t].size()) flight.erase(flight.begin() + static_cast<long>(k));
    }
    h.live.flush_all();
    std::map<std::string, std::uint32_t> seen;
    for (const Emitted& e : h.out) {
      CHECK(seen.count(e.trace) == 0);
      seen[e.trace] = e.logged;
    }
    CHECK(h.live.tracked_ids() == 0);
    CHECK(h.live.open_traces() == 0);
    if (max_open == 1000) {
      CHECK(seen == expected_spans);
      CHECK(h.live.counts().late == 0);
    } else {
      // Evicted traces lose their later spans as late ones; every line is
      // still written once or counted late.
      CHECK(h.live.counts().emitted[static_cast<int>(Emit::kEvicted)] > 0);
      CHECK(h.live.counts().open_peak == 6);
      std::uint64_t written = 0;
      for (const auto& [id, n] : seen) written += n;
      CHECK(written + h.live.counts().late == total_lines);
      CHECK(seen.size() == expected_spans.size());  // a late span does not open the trace again
    }
  }
}

TEST_CASE("sample: exact values in 32 bits until one does not fit, then in 64") {
  std::mt19937_64 rng(11);
  for (Nanos big : {Nanos{3'000'000'000}, Nanos{-5'000'000'000}, Nanos{INT64_MAX}, Nanos{INT64_MIN}}) {
    Sample a, b;
    std::vector<Nanos> all;
    for (int i = 0; i < 1000; ++i) {
      const Nanos v = static_cast<Nanos>(rng() % 2'000'000'000) - 1'000'000'000;
      (i % 2 ? a : b).push(v);
      all.push_back(v);
    }
    b.push(big);  // b widens
    all.push_back(big);
    a.merge(std::move(b));  // narrow + wide
    CHECK(a.count() == all.size());
    const Distribution got = a.summarize(), want = distribution(all);
    CHECK(got.min == want.min);
    CHECK(got.p50 == want.p50);
    CHECK(got.p90 == want.p90);
    CHECK(got.p99 == want.p99);
    CHECK(got.max == want.max);
  }
}

TEST_CASE("sample: exact below its limit, within 1/64 above it") {
  std::mt19937_64 rng(3);
  std::vector<Nanos> values;
  Sample bounded(100), exact, coarse(100, 4, true);  // coarse: 16 sparse buckets per power of two
  for (int i = 0; i < 50'000; ++i) {
    // Durations from 1µs to 10s, a few negative (gaps), some tiny.
    Nanos v = static_cast<Nanos>(std::exp(std::uniform_real_distribution<double>(7, 23)(rng)));
    if (i % 10 == 0) v = -v;
    if (i % 97 == 0) v = static_cast<Nanos>(rng() % 100);
    values.push_back(v);
    bounded.push(v);
    exact.push(v);
    coarse.push(v);
  }
  CHECK_FALSE(bounded.exact());
  CHECK(exact.exact());
  const Distribution e = exact.summarize(), b = bounded.summarize();
  CHECK(b.count == e.count);
  CHECK(b.min == e.min);
  CHECK(b.max == e.max);
  for (auto [x, y] : {std::pair{b.p50, e.p50}, {b.p90, e.p90}, {b.p99, e.p99}})
    CHECK(std::abs(static_cast<double>(x - y)) <= std::abs(static_cast<double>(y)) / 64 + 1);
  const Distribution c = coarse.summarize();
  CHECK(c.count == e.count);
  CHECK(c.min == e.min);
  CHECK(c.max == e.max);
  for (auto [x, y] : {std::pair{c.p50, e.p50}, {c.p90, e.p90}, {c.p99, e.p99}})
    CHECK(std::abs(static_cast<double>(x - y)) <= std::abs(static_cast<double>(y)) / 16 + 1);
  // A coarse sample merged into a fine one keeps its count and bounds.
  Sample fine(10);
  for (Nanos v = 1; v <= 20; ++v) fine.push(v * 1'000'000);
  fine.merge(std::move(coarse));
  CHECK(fine.count() == e.count + 20);
  CHECK(fine.summarize().max == std::max<Nanos>(e.max, 20'000'000));

  Sample small(100);
  for (Nanos v : {5, 1, 4, 2, 3}) small.push(v);
  std::vector<Nanos> copy = {5, 1, 4, 2, 3};
  const Distribution s = small.summarize(), d = distribution(copy);
  CHECK(small.exact());
  CHECK(s.p50 == d.p50);
  CHECK(s.p99 == d.p99);

  // Merging a bounded sample into another keeps every value.
  Sample m1(10), m2(10);
  for (Nanos v = 0; v < 8; ++v) m1.push(v * 1000);
  for (Nanos v = 8; v < 16; ++v) m2.push(v * 1000);
  m1.merge(std::move(m2));
  CHECK(m1.count() == 16);
  CHECK_FALSE(m1.exact());
  const Distribution md = m1.summarize();
  CHECK(md.min == 0);
  CHECK(md.max == 15000);
  CHECK(std::abs(static_cast<double>(md.p50 - 7000)) <= 7000.0 / 64 + 1);
}
