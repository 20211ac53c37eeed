#include <doctest/doctest.h>

#include "test_support.h"

#include <fmt/format.h>

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

// A span of a format that names no callees (OTLP, Zipkin, Jaeger): its
// kind, and its tags.
SpanRecord kind_span(const std::string& trace, const std::string& id, const std::string& parent, SpanKind kind,
                     Nanos start, const std::vector<AttributeRecord>& tags = {}) {
  SpanRecord r;
  r.trace_id = trace;
  r.span_id = id;
  r.parent_id = parent;
  r.start = start;
  r.duration = 10;
  r.host = "h";
  r.kind = kind;
  r.attributes = tags;
  return r;
}

TEST_CASE("live: a client span that lists no callees waits for the server side of its call") {
  Harness h;
  const std::string t = "t", root = "root", call = "call", server = "server";
  // The caller's spans come first (OTLP exports each service's spans on
  // its own): the trace waits for a span whose parent is the client span.
  CHECK(h.live.add(kind_span(t, call, root, SpanKind::kClient, 5), 0, 1) == LiveAssembler::Added::kSpan);
  CHECK(h.live.add(kind_span(t, root, "", SpanKind::kServer, 0), 0, 2) == LiveAssembler::Added::kSpan);
  CHECK(h.out.empty());
  CHECK(h.live.add(kind_span(t, server, call, SpanKind::kServer, 6), 0, 3) == LiveAssembler::Added::kSpan);
  REQUIRE(h.out.size() == 1);
  CHECK(h.out[0].why == Emit::kComplete);
  CHECK(h.out[0].logged == 3);
  CHECK(h.live.tracked_ids() == 0);

  // The callee's side first: the client span finds its child there.
  const std::string u = "u";
  h.live.add(kind_span(u, server, call, SpanKind::kServer, 6), 0, 4);
  h.live.add(kind_span(u, call, root, SpanKind::kClient, 5), 0, 5);
  CHECK(h.out.size() == 1);  // the root is still to come
  h.live.add(kind_span(u, root, "", SpanKind::kServer, 0), 0, 6);
  REQUIRE(h.out.size() == 2);
  CHECK(h.out[1].trace == "u");
  CHECK(h.out[1].why == Emit::kComplete);
  CHECK(h.live.tracked_ids() == 0);
}

TEST_CASE("live: a client span of a database call waits for nothing; one that never has a child waits for the window") {
  Harness h(window(100));
  const std::string t = "t", u = "u", root = "root", query = "query", call = "call";
  const std::string db = "db.system", postgres = "postgresql";
  h.live.add(kind_span(t, query, root, SpanKind::kClient, 5, {{db, postgres}}), 0, 1);
  h.live.add(kind_span(t, root, "", SpanKind::kServer, 0), 0, 2);
  REQUIRE(h.out.size() == 1);
  CHECK(h.out[0].why == Emit::kComplete);
  // A call to a service that logs no spans: written at the window, whole.
  h.live.add(kind_span(u, call, root, SpanKind::kClient, 5), 0, 3);
  h.live.add(kind_span(u, root, "", SpanKind::kServer, 0), 0, 4);
  CHECK(h.out.size() == 1);
  const std::string v = "v";
  h.live.add(kind_span(v, root, "", SpanKind::kServer, 200), 0, 5);  // complete; watermark 100 passes u's activity
  REQUIRE(h.out.size() == 3);
  CHECK(h.out[1].trace == "v");
  CHECK(h.out[2].trace == "u");
  CHECK(h.out[2].why == Emit::kWindow);
  CHECK(h.out[2].logged == 2);
  CHECK(h.out[2].inferred == 0);
  h.live.flush_all();
  CHECK(h.live.tracked_ids() == 0);
}

TEST_CASE("live: settled per chunk, a trace found complete takes the spans that came with it") {
  LiveOptions o = window(100);
  o.settle_per_chunk = true;
  Harness h(o);
  // A parent's span before its child's, as a file sorted by start has them.
  h.add("t", "r", "", 0, 50);
  h.add("t", "c", "r", 10, 5);
  h.add("u", "x", "", 20, 5);
  CHECK(h.out.empty());  // both complete, not settled
  CHECK(h.live.open_traces() == 2);
  h.live.settle();
  REQUIRE(h.out.size() == 2);
  CHECK(h.out[0].trace == "t");  // in the order they were complete
  CHECK(h.out[0].logged == 2);
  CHECK(h.out[1].trace == "u");
  CHECK(h.live.counts().late == 0);
  // Later spans of a settled trace are late.
  CHECK(h.add("t", "d", "r", 12, 1) == LiveAssembler::Added::kLate);
  // A trace the window takes before it is settled is complete all the same.
  h.add("v", "r", "", 30, 5);
  h.add("w", "r", "", 300, 5);  // the watermark (200) passes v
  REQUIRE(h.out.size() == 3);
  CHECK(h.out[2].trace == "v");
  CHECK(h.out[2].why == Emit::kComplete);
  h.live.settle();
  REQUIRE(h.out.size() == 4);
  CHECK(h.out[3].trace == "w");
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

TEST_CASE("live: written ids are remembered for two windows, over a long stream, and then forgotten") {
  // 30,000 traces of 32-hex ids, one each millisecond, each complete at
  // once; the window is 1 s, so an id is remembered for 2 s of log time
  // (the buffer of ids is cut many times over).
  Harness h(window(1'000'000'000));
  auto id = [](int i) { return fmt::format("{:016x}{:016x}", 0x5eed0000 + i, 0xabc0000 + i); };
  constexpr Nanos kMs = 1'000'000;
  for (int i = 0; i < 30'000; ++i) {
    REQUIRE(h.add(id(i), "r", "", i * kMs, 1) == LiveAssembler::Added::kSpan);
    if (i % 1000 == 999) {
      const Nanos now = i * kMs;
      CHECK(h.add(id(i - 500), "x", "r", now, 1) == LiveAssembler::Added::kLate);   // 0.5 s ago
      if (i >= 1900) CHECK(h.add(id(i - 1900), "x", "r", now, 1) == LiveAssembler::Added::kLate);  // 1.9 s ago
      // Its low half too: a 16-hex id of a long one written lately is late.
      CHECK(h.add(id(i - 100).substr(16), "x", "r", now, 1) == LiveAssembler::Added::kLate);
      if (i >= 4000) {  // 3 s ago: forgotten, so a new trace (written at once: it has its root)
        CHECK(h.add(id(i - 3000), "r", "", now, 1) == LiveAssembler::Added::kSpan);
      }
    }
  }
  CHECK(h.live.counts().late == 30 * 3 - 1);  // at 999 ms nothing was written 1.9 s before
  CHECK(h.live.open_traces() == 0);
}

TEST_CASE("live: short and long trace ids of one low half join as the stream shows them") {
  const std::string low = "48485a3953bb6124", high = "463ac35c9f6413ad", other_high = "1111111111111111";
  Harness h;
  // A short id (the 32-digit form with a zero high half) first, then its long id: one trace, under the long id.
  h.add(std::string(16, '0') + low, "a", "r", 10, 1);
  h.add(high + low, "r", "", 0, 50, {"a", "b"});
  // Then the 16-digit form: it joins the long id's open trace.
  h.add(low, "b", "r", 20, 1);
  REQUIRE(h.out.size() == 1);
  CHECK(h.out[0].trace == high + low);
  CHECK(h.out[0].logged == 3);
  CHECK(h.live.notes().size() == 1);

  // Two long ids of one half: a short id joins neither.
  const std::string low2 = "00000000000000aa";
  Harness two;
  two.add(high + low2, "r1", "", 0, 50, {"x"});
  two.add(other_high + low2, "r2", "", 0, 50, {"y"});
  two.add(low2, "x", "r1", 5, 1);
  two.live.flush_all();
  REQUIRE(two.out.size() == 3);
  for (const Emitted& e : two.out) CHECK(e.logged == 1);
  CHECK(two.out[2].trace == low2);
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

TEST_CASE("live: two trace ids that hash alike stay two traces, neither merged nor late") {
  // A collision cannot be crafted against the process's key, so it is
  // simulated: every span is filed under one hash whatever its trace id.
  Harness h(window(1000));
  std::string rest;
  std::vector<std::uint64_t> keys;
  auto add = [&](std::string trace, std::string id, Nanos start) {
    SpanRecord r;
    r.trace_id = trace;
    r.span_id = id;
    r.start = start;
    r.duration = 5;
    r.host = "h";
    rest.clear();
    keys.clear();
    const live::Encoded e = live::encode(r, [&](std::string_view s) { return h.live.symbols().intern(s); }, rest, keys);
    EncodedSpan span = e.bind(reinterpret_cast<const std::uint8_t*>(rest.data()), keys.data());
    span.trace_hash = 42;
    return h.live.add(span, 0, ++h.line);
  };
  CHECK(add("a", "r", 0) == LiveAssembler::Added::kSpan);  // complete: written
  REQUIRE(h.out.size() == 1);
  CHECK(add("b", "r", 10) == LiveAssembler::Added::kSpan);  // not a late span of "a"
  CHECK(add("a", "s", 20) == LiveAssembler::Added::kLate);  // "a" itself was written
  REQUIRE(h.out.size() == 2);
  CHECK(h.out[1].trace == "b");
  CHECK(h.out[1].logged == 1);
  CHECK(h.live.counts().late == 1);
}
