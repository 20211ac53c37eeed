#include <doctest/doctest.h>

#include "test_support.h"
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/critical_path.h"
#include "assemble/trace.h"
#include "parse/span_parser.h"
#include "store/open_traces.h"

// Prints vectors in failure messages (identical in every test file that has it).

using namespace ta;

namespace {

constexpr Nanos kMs = 1'000'000;

// Builds one trace span by span through the store; times are plain integers.
struct Builder {
  OpenTraces store;
  std::string trace_id = "t";
  std::uint32_t next_line = 1;

  struct CallSpec {
    std::string id;
    Nanos start, duration;
  };

  void span(std::string_view id, std::string_view parent, Nanos start, Nanos duration,
            const std::vector<CallSpec>& calls = {}) {
    SpanRecord r;
    r.trace_id = trace_id;
    r.span_id = id;
    r.parent_id = parent;
    r.start = start;
    r.duration = duration;
    r.http_code = 200;
    for (const CallSpec& c : calls) r.calls.push_back({c.id, c.start, c.duration, {}, 200});
      store.add(r, 0, next_line++);
  }
  Trace build() const {
    const std::optional<TraceData> d = store.find(trace_id);
    REQUIRE(d.has_value());
    return assemble(*d);
  }
};

struct Section {
  std::string span;
  Nanos start, end;
  bool operator==(const Section&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Section& s) {
  return os << s.span << "[" << s.start << "," << s.end << "]";
}

std::vector<Section> named(const Trace& t, const std::vector<PathSection>& path, Nanos base = 0) {
  std::vector<Section> out;
  for (const PathSection& p : path) out.push_back({std::string(t.span_id(p.span)), p.start - base, p.end - base});
  return out;
}

std::uint32_t index_of(const Trace& t, std::string_view id) {
  for (std::uint32_t i = 0; i < t.size(); ++i)
    if (t.span_id(i) == id) return i;
  FAIL("no span " << id);
  return kNone;
}

Nanos self_of(const Trace& t, const std::vector<Nanos>& self, std::string_view id) {
  REQUIRE(self.size() == t.size());
  return self[index_of(t, id)];
}

Nanos path_sum(const std::vector<PathSection>& path) {
  Nanos sum = 0;
  for (const PathSection& p : path) sum += p.end - p.start;
  return sum;
}

}  // namespace

TEST_CASE("critical path and self time of the four-span example") {
  const std::vector<std::string> lines = {
      R"({"traceId":"0001","spanId":"01","parentSpanId":"0","timestamp":"1704038400000","duration":"100","httpCode":"200","host":"192.168.10.1","requestStacks":[{"subSpanId":"02","subHttpCode":"200","subTimestamp":"1704038400000","subDuration":"40","subHost":"192.168.10.2"},{"subSpanId":"04","subHttpCode":"200","subTimestamp":"1704038400040","subDuration":"60","subHost":"192.168.10.3"}]})",
      R"({"traceId":"0001","spanId":"02","parentSpanId":"01","timestamp":"1704038400000","duration":"40","httpCode":"200","host":"192.168.10.2","requestStacks":[{"subSpanId":"03","subHttpCode":"200","subTimestamp":"1704038400000","subDuration":"40","subHost":"192.168.10.4"}]})",
      R"({"traceId":"0001","spanId":"04","parentSpanId":"01","timestamp":"1704038400040","duration":"60","httpCode":"200","host":"192.168.10.3","requestStacks":[]})",
      R"({"traceId":"0001","spanId":"03","parentSpanId":"02","timestamp":"1704038400000","duration":"40","httpCode":"200","host":"192.168.10.4","requestStacks":[]})",
  };
  OpenTraces store;
  SpanParser parser{ParseOptions{}};
  for (std::uint32_t i = 0; i < lines.size(); ++i) {
    std::string buf = lines[i];
    buf.append(simdjson::SIMDJSON_PADDING, '\0');
    SpanRecord r;
    REQUIRE(parser.parse(std::string_view(buf.data(), lines[i].size()), buf.size(), r));
    store.add(r, 0, i + 1);
  }
  const Trace t = assemble(*store.find("0001"));
  const Nanos base = 1704038400000LL * kMs;
  const auto path = critical_path(t);
  CHECK(named(t, path, base) == std::vector<Section>{{"03", 0, 40 * kMs}, {"04", 40 * kMs, 100 * kMs}});
  CHECK(named(t, critical_path(t, index_of(t, "01")), base) == named(t, path, base));
  const auto self = self_times(t);
  CHECK(self_of(t, self, "01") == 0);
  CHECK(self_of(t, self, "02") == 0);
  CHECK(self_of(t, self, "03") == 40 * kMs);
  CHECK(self_of(t, self, "04") == 60 * kMs);
}

TEST_CASE("overlapping children") {
  Builder b;
  b.span("R", "", 0, 100);
  b.span("A", "R", 10, 50);  // [10,60]
  b.span("B", "R", 30, 50);  // [30,80]
  const Trace t = b.build();
  // B ends last; A ends after B starts, so it is off the path.
  CHECK(named(t, critical_path(t)) == std::vector<Section>{{"R", 0, 30}, {"B", 30, 80}, {"R", 80, 100}});
  const auto self = self_times(t);
  CHECK(self_of(t, self, "R") == 30);  // 100 - |[10,80]|
  CHECK(self_of(t, self, "A") == 50);
  CHECK(self_of(t, self, "B") == 50);
}

TEST_CASE("a child running past the next one's start is skipped") {
  Builder b;
  b.span("R", "", 0, 100);
  b.span("A", "R", 10, 80);  // [10,90]
  b.span("A1", "A", 20, 20);
  b.span("A2", "A", 50, 30);
  b.span("B", "R", 85, 10);  // [85,95]
  const Trace t = b.build();
  CHECK(named(t, critical_path(t)) == std::vector<Section>{{"R", 0, 85}, {"B", 85, 95}, {"R", 95, 100}});
  const auto self = self_times(t);
  CHECK(self_of(t, self, "R") == 15);  // 100 - |[10,95]|
  CHECK(self_of(t, self, "A") == 30);  // 80 - 20 - 30
  CHECK(self_of(t, self, "B") == 10);
}

TEST_CASE("sequential calls with gaps and nesting") {
  Builder b;
  b.span("R", "", 0, 100);
  b.span("A", "R", 0, 30);
  b.span("B", "R", 30, 30);
  b.span("B1", "B", 35, 10);
  b.span("C", "R", 70, 20);
  const Trace t = b.build();
  CHECK(named(t, critical_path(t)) == std::vector<Section>{{"A", 0, 30},
                                                           {"B", 30, 35},
                                                           {"B1", 35, 45},
                                                           {"B", 45, 60},
                                                           {"R", 60, 70},
                                                           {"C", 70, 90},
                                                           {"R", 90, 100}});
  const auto self = self_times(t);
  CHECK(self_of(t, self, "R") == 20);
  CHECK(self_of(t, self, "B") == 20);
  CHECK(self_of(t, self, "B1") == 10);
}

TEST_CASE("back-to-back calls with no gap are both on the path") {
  Builder b;
  b.span("R", "", 0, 100);
  b.span("A", "R", 0, 50);
  b.span("B", "R", 50, 50);
  const Trace t = b.build();
  CHECK(named(t, critical_path(t)) == std::vector<Section>{{"A", 0, 50}, {"B", 50, 100}});
  const auto self = self_times(t);
  CHECK(self_of(t, self, "R") == 0);
  CHECK(self_of(t, self, "A") == 50);
  CHECK(self_of(t, self, "B") == 50);
}

TEST_CASE("a child that outlives its parent is clipped") {
  Builder b;
  b.span("R", "", 0, 100);
  b.span("A", "R", 50, 100);  // [50,150]
  b.span("G", "A", 120, 20);  // [120,140]: inside A, outside R
  b.span("E", "R", -20, 30);  // [-20,10]: starts before R
  const Trace t = b.build();
  CHECK(named(t, critical_path(t)) == std::vector<Section>{{"E", 0, 10}, {"R", 10, 50}, {"A", 50, 100}});
  CHECK(path_sum(critical_path(t)) == 100);
  const auto self = self_times(t);
  CHECK(self_of(t, self, "R") == 40);   // 100 - |[0,10]| - |[50,100]|
  CHECK(self_of(t, self, "A") == 80);   // 100 - |[120,140]|
  CHECK(self_of(t, self, "G") == 20);
  CHECK(self_of(t, self, "E") == 30);
}

TEST_CASE("an inferred callee can be on the path") {
  Builder b;
  b.span("R", "", 0, 100, {{"X", 20, 70}});
  const Trace t = b.build();
  REQUIRE(t.size() == 2);
  CHECK(named(t, critical_path(t)) == std::vector<Section>{{"R", 0, 20}, {"X", 20, 90}, {"R", 90, 100}});
  const auto self = self_times(t);
  CHECK(self_of(t, self, "R") == 30);
  CHECK(self_of(t, self, "X") == 70);
}

TEST_CASE("a span with no children owns its whole interval") {
  Builder b;
  b.span("S", "", 5, 20);
  const Trace t = b.build();
  CHECK(named(t, critical_path(t)) == std::vector<Section>{{"S", 5, 25}});
  CHECK(self_times(t) == std::vector<Nanos>{20});
}

TEST_CASE("a zero-duration root") {
  Builder b;
  b.span("Z", "", 7, 0);
  const Trace t = b.build();
  const auto path = critical_path(t);
  CHECK(named(t, path) == std::vector<Section>{{"Z", 7, 7}});
  CHECK(path_sum(path) == 0);
  CHECK(self_times(t) == std::vector<Nanos>{0});

  Builder c;
  c.span("Z", "", 7, 0);
  c.span("K", "Z", 7, 0);
  c.span("L", "Z", 3, 10);  // clipped to nothing but the point 7
  const Trace tc = c.build();
  const auto pc = critical_path(tc);
  CHECK(path_sum(pc) == 0);
  for (const PathSection& s : pc) {
    CHECK(s.start == 7);
    CHECK(s.end == 7);
  }
  CHECK(self_of(tc, self_times(tc), "Z") == 0);
}

TEST_CASE("every root tree has its own path") {
  Builder b;
  b.span("R", "", 0, 100);
  b.span("A", "R", 10, 20);
  b.span("O", "lost", 200, 50);  // orphan root
  b.span("P", "O", 210, 10);
  const Trace t = b.build();
  CHECK(named(t, critical_path(t)) == std::vector<Section>{{"R", 0, 10},
                                                           {"A", 10, 30},
                                                           {"R", 30, 100},
                                                           {"O", 200, 210},
                                                           {"P", 210, 220},
                                                           {"O", 220, 250}});
  CHECK(named(t, critical_path(t, index_of(t, "O"))) ==
        std::vector<Section>{{"O", 200, 210}, {"P", 210, 220}, {"O", 220, 250}});
}

TEST_CASE("critical path and self time invariants over random trees") {
  std::mt19937_64 rng(20240101);
  auto uniform = [&](Nanos lo, Nanos hi) { return std::uniform_int_distribution<Nanos>(lo, hi)(rng); };

  for (int tree = 0; tree < 400; ++tree) {
    CAPTURE(tree);
    const int n = static_cast<int>(uniform(1, 40));
    const Nanos grid = uniform(0, 1) ? 10 : 1;  // a coarse grid makes equal boundaries common
    Builder b;
    std::vector<Nanos> starts, durs;
    starts.push_back(uniform(0, 100) * grid);
    durs.push_back(uniform(0, 3) == 0 ? 0 : uniform(1, 100) * grid);
    b.span("s0", "", starts[0], durs[0]);
    for (int k = 1; k < n; ++k) {
      const auto p = static_cast<std::size_t>(uniform(0, k - 1));
      // Mostly inside the parent, sometimes sticking out on either side.
      const Nanos ps = starts[p] / grid, pd = durs[p] / grid;
      const Nanos s = uniform(ps - 5, ps + pd + 2) * grid;
      const Nanos d = uniform(0, 4) == 0 ? 0 : uniform(1, pd + 8) * grid;
      starts.push_back(s);
      durs.push_back(d);
      b.span("s" + std::to_string(k), "s" + std::to_string(p), s, d);
    }
    const Trace t = b.build();
    REQUIRE(t.size() == static_cast<std::size_t>(n));
    REQUIRE(t.roots.size() == 1);
    const std::uint32_t root = t.roots[0];
    const Span& r = t.spans[root];

    // Each span's window: its interval clipped to its ancestors'.
    std::vector<Nanos> wlo(t.size()), whi(t.size());
    std::vector<bool> reachable(t.size(), false);
    for (std::uint32_t u : t.order) {
      const std::uint32_t p = t.parent[u];
      if (p == kNone) {
        wlo[u] = t.spans[u].start;
        whi[u] = t.spans[u].end();
        reachable[u] = true;
      } else {
        wlo[u] = std::max(t.spans[u].start, wlo[p]);
        whi[u] = std::min(t.spans[u].end(), whi[p]);
        reachable[u] = reachable[p] && wlo[u] <= whi[u];
      }
    }

    const auto path = critical_path(t, root);
    REQUIRE_FALSE(path.empty());
    CHECK(path_sum(path) == r.duration);
    CHECK(path.front().start == r.start);
    CHECK(path.back().end == r.end());
    for (std::size_t k = 0; k < path.size(); ++k) {
      const PathSection& s = path[k];
      CAPTURE(k);
      REQUIRE(s.span < t.size());
      CHECK(s.start <= s.end);
      if (r.duration > 0) CHECK(s.start < s.end);
      if (k + 1 < path.size()) CHECK(s.end == path[k + 1].start);
      CHECK(r.start <= s.start);
      CHECK(s.end <= r.end());
      // Owned by a span of this tree, inside its window.
      CHECK(reachable[s.span]);
      CHECK(wlo[s.span] <= s.start);
      CHECK(s.end <= whi[s.span]);
      // The rule: a span owns time only after its latest-ending child, so no
      // (non-empty, clipped) child of the owner ends inside an owned section.
      for (std::uint32_t c : t.kids(s.span)) {
        const Nanos clo = std::max(t.spans[c].start, wlo[s.span]);
        const Nanos chi = std::min(t.spans[c].end(), whi[s.span]);
        if (clo < chi) CHECK_MESSAGE(!(s.start < chi && chi <= s.end), "child " << t.span_id(c));
      }
    }

    // Self time against a brute-force union over unit cells.
    const auto self = self_times(t);
    REQUIRE(self.size() == t.size());
    for (std::uint32_t i = 0; i < t.size(); ++i) {
      const Span& s = t.spans[i];
      std::vector<char> covered(static_cast<std::size_t>(s.duration), 0);
      for (std::uint32_t c : t.kids(i))
        for (Nanos x = std::max(t.spans[c].start, s.start); x < std::min(t.spans[c].end(), s.end()); ++x)
          covered[static_cast<std::size_t>(x - s.start)] = 1;
      const Nanos want = s.duration - static_cast<Nanos>(std::count(covered.begin(), covered.end(), 1));
      CHECK(self[i] == want);
      CHECK(self[i] >= 0);
      CHECK(self[i] <= s.duration);
    }
  }
}

TEST_CASE("a million-deep chain and a million-wide fan-out have critical paths") {
  constexpr std::uint32_t n = 1'000'000;
  SUBCASE("chain") {
    Builder b;
    for (std::uint32_t i = 0; i < n; ++i)
      b.span("s" + std::to_string(i), i == 0 ? std::string() : "s" + std::to_string(i - 1), i,
             2 * static_cast<Nanos>(n - i));  // [i, 2n - i]
    const Trace t = b.build();
    const auto path = critical_path(t);
    CHECK(path_sum(path) == 2 * static_cast<Nanos>(n));
    // Every span but the deepest owns one unit at each end; the deepest its 2 units.
    CHECK(path.size() == 2 * (n - 1) + 1);
    CHECK(path.front().span == 0);
    CHECK(path[n - 1].span == n - 1);
    const auto self = self_times(t);
    CHECK(self[0] == 2);
    CHECK(self[n - 1] == 2);
  }
  SUBCASE("fan-out") {
    Builder b;
    b.span("root", "", 0, n);
    for (std::uint32_t i = 1; i < n; ++i) b.span("c" + std::to_string(i), "root", i - 1, 1);  // back to back: [i-1, i]
    const Trace t = b.build();
    const auto path = critical_path(t);
    CHECK(path_sum(path) == static_cast<Nanos>(n));
    REQUIRE(path.size() == n);
    CHECK(path.front().span == 1);
    CHECK(path.back().span == 0);  // [n-1, n] has no child
    const auto self = self_times(t);
    CHECK(self[0] == 1);
  }
}
