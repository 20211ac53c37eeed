#include <doctest/doctest.h>
#include <fmt/format.h>

#include "test_support.h"

#include <algorithm>
#include <malloc.h>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze/summary.h"
#include "store/span_log.h"
#include "util/memory.h"

// Prints vectors in failure messages (identical in every test file that has it).

using namespace ta;

namespace {

using test_support::CallSpec;

struct SpanSpec {
  std::string trace;
  std::string id;
  std::string parent;
  Nanos start = 0;
  Nanos duration = 0;
  std::int16_t code = 200;
  std::string host;
  std::string service;
  std::string operation;
  std::vector<CallSpec> calls;
};

void add(SpanLog& store, const SpanSpec& s, std::uint32_t line) {
  SpanRecord r;
  r.trace_id = s.trace;
  r.span_id = s.id;
  r.parent_id = s.parent;
  r.host = s.host;
  r.service = s.service;
  r.operation = s.operation;
  r.start = s.start;
  r.duration = s.duration;
  r.http_code = s.code;
  for (const CallSpec& c : s.calls) r.calls.push_back({c.id, c.start, c.duration, c.host, c.code});
  store.add(r, 0, line);
}

// Four traces, times in ns:
//   t1: a web/h1 [0,100] calls b (10+50) and c (65+30, saw 503)
//       b api/h2 [12,52]; c -/h3 [70,90] 503
//   t3: e -/h4 [2000,2030]            (added before t2: ties sort by id, not arrival)
//   t2: d web/h1 [1000,1030] 500
//   t4: f web/h1 [3000,3200] calls g (3010+100); g api/h2 [3020,3100]
// plus an identical second copy of e.
void fill(SpanLog& store) {
  const std::vector<SpanSpec> spans = {
      {"t1", "a", "", 0, 100, 200, "h1", "web", "GET /", {{"b", 10, 50, "h2", 200}, {"c", 65, 30, "h3", 503}}},
      {"t1", "b", "a", 12, 40, 200, "h2", "api", "GET /api", {}},
      {"t1", "c", "a", 70, 20, 503, "h3", "", "query", {}},
      {"t3", "e", "", 2000, 30, 200, "h4", "", "cron", {}},
      {"t2", "d", "", 1000, 30, 500, "h1", "web", "GET /", {}},
      {"t4", "f", "", 3000, 200, 200, "h1", "web", "POST /", {{"g", 3010, 100, "h2", 200}}},
      {"t4", "g", "f", 3020, 80, 200, "h2", "api", "POST /api", {}},
      {"t3", "e", "", 2000, 30, 200, "h4", "", "cron", {}},
  };
  std::uint32_t line = 1;
  for (const SpanSpec& s : spans) add(store, s, line++);
}

// analyze() releases the store's spans, so every run gets a fresh store.
Analysis analyze_sample(const Config& config, std::size_t threads = 1) {
  SpanLog store;
  fill(store);
  return analyze(store, config, threads);
}

const GroupSummary& group(const Analysis& a, std::string_view name) {
  auto it = std::find_if(a.groups.begin(), a.groups.end(), [&](const GroupSummary& g) { return g.name == name; });
  if (it == a.groups.end()) FAIL("no group " << name);
  return *it;
}

std::optional<EdgeSummary> edge(const Analysis& a, std::string_view caller, std::string_view callee) {
  for (const EdgeSummary e : a.edges)
    if (e.caller == caller && e.callee == callee) return e;
  return std::nullopt;
}

std::vector<std::string> shown_ids(const Analysis& a) {
  std::vector<std::string> out;
  for (const ShownTrace& s : a.shown) out.push_back(s.trace.trace_id);
  return out;
}

std::vector<std::string> group_names(const Analysis& a) {
  std::vector<std::string> out;
  for (const GroupSummary& g : a.groups) out.push_back(g.name);
  return out;
}

}  // namespace

TEST_CASE("nearest-rank percentiles") {
  std::mt19937 rng(7);
  SUBCASE("1..100") {
    std::vector<Nanos> v(100);
    std::iota(v.begin(), v.end(), 1);
    std::shuffle(v.begin(), v.end(), rng);
    const Distribution d = distribution(v);
    CHECK(d.count == 100);
    CHECK(d.min == 1);
    CHECK(d.p50 == 50);
    CHECK(d.p90 == 90);
    CHECK(d.p99 == 99);
    CHECK(d.max == 100);
  }
  SUBCASE("a single value") {
    std::vector<Nanos> v = {42};
    const Distribution d = distribution(v);
    CHECK(d.count == 1);
    CHECK(d.min == 42);
    CHECK(d.p50 == 42);
    CHECK(d.p90 == 42);
    CHECK(d.p99 == 42);
    CHECK(d.max == 42);
  }
  SUBCASE("ten values") {
    std::vector<Nanos> v = {70, 10, 100, 40, 20, 90, 30, 60, 80, 50};
    const Distribution d = distribution(v);
    CHECK(d.count == 10);
    CHECK(d.min == 10);
    CHECK(d.p50 == 50);   // rank ceil(5) = 5
    CHECK(d.p90 == 90);   // rank ceil(9) = 9
    CHECK(d.p99 == 100);  // rank ceil(9.9) = 10
    CHECK(d.max == 100);
  }
  SUBCASE("three values") {
    std::vector<Nanos> v = {3, 1, 2};
    const Distribution d = distribution(v);
    CHECK(d.p50 == 2);  // rank ceil(1.5) = 2
    CHECK(d.p90 == 3);  // rank ceil(2.7) = 3
    CHECK(d.p99 == 3);
  }
  SUBCASE("two hundred values with repeats") {
    std::vector<Nanos> v;
    for (int i = 1; i <= 200; ++i) v.push_back(i <= 150 ? 5 : 1000 + i);  // 150 fives, then 1151..1200
    std::shuffle(v.begin(), v.end(), rng);
    const Distribution d = distribution(v);
    CHECK(d.p50 == 5);     // rank 100
    CHECK(d.p90 == 1180);  // rank 180 is the 30th of 1151..
    CHECK(d.p99 == 1198);  // rank 198
    CHECK(d.max == 1200);
  }
  SUBCASE("no values") {
    std::vector<Nanos> v;
    const Distribution d = distribution(v);
    CHECK(d.count == 0);
  }
  SUBCASE("every count from 1 to 40, by a sorted copy (a few values are sorted, more selected)") {
    for (std::size_t n = 1; n <= 40; ++n) {
      CAPTURE(n);
      std::vector<Nanos> v(n);
      for (Nanos& x : v) x = static_cast<Nanos>(rng() % 21) - 5;  // repeats, and below zero
      std::vector<Nanos> sorted = v;
      std::sort(sorted.begin(), sorted.end());
      auto at = [&](std::size_t p) { return sorted[(p * n + 99) / 100 - 1]; };  // rank ceil(p% of n)
      const Distribution d = distribution(v);
      CHECK(d.count == n);
      CHECK(d.min == sorted.front());
      CHECK(d.p50 == at(50));
      CHECK(d.p90 == at(90));
      CHECK(d.p99 == at(99));
      CHECK(d.max == sorted.back());
    }
  }
}

TEST_CASE("analyze: totals and default grouping (service, else host)") {
  const Config config;
  const Analysis a = analyze_sample(config);

  CHECK(a.spans == 7);
  CHECK(a.duplicates == 1);
  CHECK(a.inferred == 0);
  CHECK(a.traces.count == 4);
  CHECK(a.traces.latency.min == 30);
  CHECK(a.traces.latency.p50 == 30);   // {30,30,100,200}, rank 2
  CHECK(a.traces.latency.p90 == 200);  // rank 4
  CHECK(a.traces.latency.max == 200);
  CHECK(a.traces.latency_total == 360);
  CHECK(a.traces.complete == 4);
  CHECK(a.anomalies == 0);

  CHECK(a.group_label == "service");
  REQUIRE(a.groups.size() == 4);
  const GroupSummary& web = group(a, "web");
  CHECK(web.spans == 3);  // a, d, f
  CHECK(web.errors == 1);  // d
  CHECK(web.duration.min == 30);
  CHECK(web.duration.p50 == 100);
  CHECK(web.duration.max == 200);
  // Critical path: a owns 12 + 18 + 10, d 30, f 20 + 100.
  CHECK(web.critical_total == 190);
  CHECK(web.critical_share == doctest::Approx(190.0 / 360.0));
  // Self: a 100-40-20, d 30, f 200-80.
  CHECK(web.self_total == 190);

  const GroupSummary& api = group(a, "api");
  CHECK(api.spans == 2);
  CHECK(api.errors == 0);
  CHECK(api.critical_total == 120);  // b 40, g 80
  CHECK(api.self_total == 120);

  // Spans without a service group by host.
  const GroupSummary& h3 = group(a, "h3");
  CHECK(h3.spans == 1);
  CHECK(h3.errors == 1);
  CHECK(h3.critical_total == 20);
  const GroupSummary& h4 = group(a, "h4");
  CHECK(h4.spans == 1);  // the duplicate counts once
  CHECK(h4.errors == 0);
  CHECK(h4.critical_total == 30);

  // Largest critical-path time first.
  CHECK(group_names(a) == std::vector<std::string>{"web", "api", "h4", "h3"});
}

TEST_CASE("analyze: grouping by host and by service") {
  SUBCASE("host") {
    Config config;
    config.group = GroupKey::kHost;
    const Analysis a = analyze_sample(config);
    CHECK(a.group_label == "host");
    REQUIRE(a.groups.size() == 4);
    CHECK(group(a, "h1").spans == 3);
    CHECK(group(a, "h1").errors == 1);
    CHECK(group(a, "h2").spans == 2);
    CHECK(group(a, "h2").errors == 0);
    CHECK(group(a, "h3").spans == 1);
    CHECK(group(a, "h3").errors == 1);
    CHECK(group(a, "h4").spans == 1);
    const std::optional<EdgeSummary> e = edge(a, "h1", "h2");
    REQUIRE(e.has_value());
    CHECK(e->calls == 2);
  }
  SUBCASE("service") {
    Config config;
    config.group = GroupKey::kService;
    const Analysis a = analyze_sample(config);
    CHECK(a.group_label == "service");
    REQUIRE(a.groups.size() == 3);
    CHECK(group(a, "web").spans == 3);
    CHECK(group(a, "api").spans == 2);
    // c and e have no service: one group of their own.
    std::uint64_t other_spans = 0, other_errors = 0;
    for (const GroupSummary& g : a.groups)
      if (g.name != "web" && g.name != "api") {
        other_spans += g.spans;
        other_errors += g.errors;
      }
    CHECK(other_spans == 2);
    CHECK(other_errors == 1);
  }
  SUBCASE("operation") {
    Config config;
    config.group = GroupKey::kOperation;
    const Analysis a = analyze_sample(config);
    CHECK(a.group_label == "operation");
    CHECK(group(a, "GET /").spans == 2);
    CHECK(group(a, "GET /").errors == 1);
    CHECK(group(a, "POST /").spans == 1);
    CHECK(group(a, "cron").spans == 1);
  }
  SUBCASE("default without any service is host") {
    SpanLog plain;
    add(plain, {"x", "r", "", 0, 10, 200, "n1", "", "", {}}, 1);
    add(plain, {"x", "k", "r", 2, 5, 502, "n2", "", "", {}}, 2);
    const Analysis a = analyze(plain, Config{}, 1);
    CHECK(a.group_label == "host");
    CHECK(group(a, "n1").spans == 1);
    CHECK(group(a, "n2").errors == 1);
  }
}

TEST_CASE("analyze: caller -> callee edges with client time and gap") {
  const Analysis a = analyze_sample(Config{});
  REQUIRE(a.edges.size() == 2);
  const std::optional<EdgeSummary> wa = edge(a, "web", "api");
  REQUIRE(wa.has_value());
  CHECK(wa->calls == 2);
  CHECK(wa->errors == 0);
  CHECK(wa->client.min == 50);
  CHECK(wa->client.max == 100);
  CHECK(wa->client.p50 == 50);
  CHECK(wa->gap.count == 2);
  CHECK(wa->gap.min == 10);  // b: 50 - 40
  CHECK(wa->gap.max == 20);  // g: 100 - 80
  const std::optional<EdgeSummary> wh = edge(a, "web", "h3");
  REQUIRE(wh.has_value());
  CHECK(wh->calls == 1);
  CHECK(wh->errors == 1);  // the caller saw 503
  CHECK(wh->client.p50 == 30);
  CHECK(wh->gap.p50 == 10);  // 30 - 20
  // Most calls first.
  CHECK(a.edges[0].caller == "web");
  CHECK(a.edges[0].callee == "api");
}

TEST_CASE("analyze: pairs are listed by calls, most first, ties in name order, on any number of threads") {
  // Counts on both sides of every bound the ordering has: one call, a few,
  // 255 (counted out), 65,535 (a pair's weight), and ties at each.
  const std::vector<int> counts = {70'000, 66'000, 65'535, 300, 300, 256, 255, 255, 254, 40, 33, 32, 3, 2, 2, 2};
  struct Pair {
    std::string caller, callee;
    int calls;
  };
  std::vector<Pair> pairs;
  std::mt19937 rng(5);
  for (std::size_t i = 0; i < counts.size(); ++i)
    pairs.push_back({"c" + std::to_string(rng() % 1000), "k" + std::to_string(i), counts[i]});
  for (int i = 0; i < 300; ++i) pairs.push_back({"c" + std::to_string(rng() % 1000), "k" + std::to_string(rng() % 50), 1});
  std::vector<Pair> expected;  // one pair of names once, its calls summed
  {
    std::map<std::pair<std::string, std::string>, int> sums;
    for (const Pair& p : pairs) sums[{p.caller, p.callee}] += p.calls;
    for (const auto& [names, calls] : sums) expected.push_back({names.first, names.second, calls});
    std::stable_sort(expected.begin(), expected.end(), [](const Pair& x, const Pair& y) { return x.calls > y.calls; });
  }
  std::shuffle(pairs.begin(), pairs.end(), rng);
  // JSON lists every pair; text the first kTableRows, found another way.
  for (auto [threads, format] : {std::pair{std::size_t{1}, Format::kJson}, std::pair{std::size_t{3}, Format::kJson},
                                 std::pair{std::size_t{1}, Format::kText}, std::pair{std::size_t{3}, Format::kText}}) {
    CAPTURE(threads);
    CAPTURE(static_cast<int>(format));
    SpanLog store;
    std::uint32_t line = 1;
    int trace = 0;
    for (const Pair& p : pairs) {
      // A trace's root calls its callee up to 1,000 times (the callees lost).
      for (int done = 0; done < p.calls;) {
        const int here = std::min(1000, p.calls - done);
        std::vector<CallSpec> calls;
        for (int c = 0; c < here; ++c) calls.push_back({"s" + std::to_string(c), 1 + c, 5, p.callee, 200});
        add(store, {"t" + std::to_string(trace++), "r", "", 0, 2000, 200, p.caller, "", "", calls}, line++);
        done += here;
      }
    }
    Config config;
    config.format = format;
    const Analysis a = analyze(store, config, threads);
    REQUIRE(a.edges.size() == expected.size());
    const std::size_t listed = format == Format::kJson ? expected.size() : kTableRows;
    REQUIRE(a.edges.listed() == listed);
    std::size_t in_order = 0;
    for (std::size_t i = 0; i < listed; ++i) {
      const EdgeSummary e = a.edges[i];
      in_order += e.caller == expected[i].caller && e.callee == expected[i].callee &&
                  e.calls == static_cast<std::uint64_t>(expected[i].calls) && e.client.count == e.calls;
    }
    CHECK(in_order == listed);
  }
}

TEST_CASE("analyze: an inferred callee makes an edge without a gap") {
  SpanLog store;
  add(store, {"x", "r", "", 0, 100, 200, "n1", "front", "", {{"lost", 10, 40, "n9", 504}}}, 1);
  const Analysis a = analyze(store, Config{}, 1);
  CHECK(a.spans == 1);
  CHECK(a.inferred == 1);
  CHECK(a.traces.with_inferred == 1);
  CHECK(a.traces.complete == 0);
  REQUIRE(a.edges.size() == 1);
  CHECK(a.edges[0].caller == "front");
  CHECK(a.edges[0].callee == "n9");
  CHECK(a.edges[0].calls == 1);
  CHECK(a.edges[0].errors == 1);
  CHECK(a.edges[0].client.p50 == 40);
  CHECK(a.edges[0].gap.count == 0);
}

TEST_CASE("analyze: a pair's calls are exact whether it has one, a few or many, on any number of threads") {
  // Pair hN -> kN has N calls, one a trace (traces spread over partitions,
  // so over threads): its first call is kept as values, 2 to 32 in a block,
  // more in samples. Every third call's callee is lost (no gap); every
  // fifth saw a 5xx.
  const std::vector<int> sizes = {1, 2, 5, 32, 33, 100};
  for (std::size_t threads : {std::size_t{1}, std::size_t{3}}) {
    CAPTURE(threads);
    SpanLog store;
    std::uint32_t line = 1;
    std::map<std::string, std::vector<Nanos>> client, gap;
    std::map<std::string, std::uint64_t> errors;
    for (int n : sizes) {
      const std::string caller = "h" + std::to_string(n), callee = "k" + std::to_string(n);
      for (int i = 0; i < n; ++i) {
        const std::string trace = caller + "-" + std::to_string(i);
        const Nanos d = 10 + (i * 37 + n) % 91, own = d - 3 - i % 4;
        const bool lost = i % 3 == 2;
        const std::int16_t code = i % 5 == 4 ? 503 : 200;
        add(store, {trace, "r", "", 0, 200, 200, caller, "", "", {{"c", 1, d, callee, code}}}, line++);
        if (!lost) add(store, {trace, "c", "r", 2, own, 200, callee, "", "", {}}, line++);
        client[caller].push_back(d);
        if (!lost) gap[caller].push_back(d - own);
        errors[caller] += code >= 500;
      }
    }
    const Analysis a = analyze(store, Config{}, threads);
    for (int n : sizes) {
      const std::string caller = "h" + std::to_string(n);
      CAPTURE(caller);
      const std::optional<EdgeSummary> e = edge(a, caller, "k" + std::to_string(n));
      REQUIRE(e.has_value());
      CHECK(e->calls == static_cast<std::uint64_t>(n));
      CHECK(e->errors == errors[caller]);
      test_support::check_distribution(e->client, distribution(client[caller]));
      test_support::check_distribution(e->gap, distribution(gap[caller]));
    }
  }
}

TEST_CASE("analyze: a one-call pair's gap is exact on both sides of 32 bits, alone and joined by more calls") {
  // Gap = client time - the callee's own: a callee far shorter than the
  // call (a gap past 2^31 ns), or far longer (a gap below -2^31).
  constexpr Nanos kWide = Nanos{1} << 31;
  const std::vector<Nanos> gaps = {kWide - 1, kWide, kWide + 12345, -kWide, -kWide - 1, 3'000'000'000, 7, 0};
  for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    CAPTURE(threads);
    SpanLog store;
    std::uint32_t line = 1;
    std::map<std::string, std::vector<Nanos>> want;
    for (std::size_t k = 0; k < gaps.size(); ++k) {
      // Pair pK -> qK: one call of gap gaps[k]; pair rK -> sK: that call,
      // then two more.
      for (const char* pair : {"p", "r"}) {
        const std::string caller = pair + std::to_string(k), callee = (pair[0] == 'p' ? "q" : "s") + std::to_string(k);
        const int calls = pair[0] == 'p' ? 1 : 3;
        for (int i = 0; i < calls; ++i) {
          const Nanos gap = i == 0 ? gaps[k] : 5 + i, own = 5'000'000'000, client = own + gap;
          const std::string trace = caller + "-" + std::to_string(i);
          add(store, {trace, "r", "", 0, 10'000'000'000, 200, caller, "", "", {{"c", 1, client, callee, 200}}}, line++);
          add(store, {trace, "c", "r", 2, own, 200, callee, "", "", {}}, line++);
          want[caller].push_back(gap);
        }
      }
    }
    const Analysis a = analyze(store, Config{}, threads);
    for (std::size_t k = 0; k < gaps.size(); ++k)
      for (const char* pair : {"p", "r"}) {
        const std::string caller = pair + std::to_string(k), callee = (pair[0] == 'p' ? "q" : "s") + std::to_string(k);
        CAPTURE(caller);
        const std::optional<EdgeSummary> e = edge(a, caller, callee);
        REQUIRE(e.has_value());
        CHECK(e->calls == want[caller].size());
        test_support::check_distribution(e->gap, distribution(want[caller]));
      }
  }
}

TEST_CASE("analyze: clock offsets in milliseconds, microseconds and nanoseconds are exact, near every bound") {
  // h1 calls h2 once a trace; the callee starts `offset` after the caller's
  // view of the call. Offsets are tallied in 32 bits while they are whole
  // milliseconds below 2^30 or whole microseconds below 2^30, else wide.
  const Nanos ms = 1'000'000, us = 1'000, edge = Nanos{1} << 30;
  const std::vector<Nanos> offsets = {
      0, ms, -ms, 5 * ms, 5 * ms, 5 * ms, (edge - 1) * ms, edge * ms, -edge * ms, (-edge - 1) * ms,
      us, -us, 7 * us, 7 * us, 1500 * us, (edge - 1) * us, edge * us, -edge * us, (-edge - 1) * us,
      1, -999, 1001, (edge - 1) * us + 1};
  for (std::size_t threads : {std::size_t{1}, std::size_t{3}}) {
    CAPTURE(threads);
    SpanLog store;
    std::uint32_t line = 1;
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      const std::string trace = "t" + std::to_string(i);
      const Nanos call_start = 10 * ms, call = 20 * ms;
      add(store, {trace, "r", "", 0, 100 * ms, 200, "h1", "", "", {{"c", call_start, call, "h2", 200}}}, line++);
      add(store, {trace, "c", "r", call_start + offsets[i], ms, 200, "h2", "", "", {}}, line++);
    }
    const Analysis a = analyze(store, Config{}, threads);
    REQUIRE(a.skew.size() == 1);
    CHECK(a.skew[0].caller_host == "h1");
    CHECK(a.skew[0].callee_host == "h2");
    CHECK(a.skew[0].calls == offsets.size());
    std::vector<Nanos> expected = offsets;
    test_support::check_distribution(a.skew[0].offset, distribution(expected));
  }
}

TEST_CASE("analyze: clock offsets are exact whether they repeat, hardly do, or fit no whole unit") {
  // h1 -> h2's offsets repeat (whole milliseconds, 40 of them), or in the
  // second run are all distinct (microseconds); h3 -> h4's are distinct
  // microseconds; h5 -> h6's are not whole microseconds (kept beside the
  // list, counted), and repeat. Past 64K calls the list takes a second
  // block. Every pair has calls outside (negative offsets), so every pair
  // is shown.
  const Nanos ms = 1'000'000, us = 1'000;
  for (const bool repeating : {true, false}) {
    for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
      CAPTURE(repeating);
      CAPTURE(threads);
      SpanLog store;
      std::uint32_t line = 1;
      std::map<std::string, std::vector<Nanos>> offsets;
      auto call = [&](const std::string& trace, const std::string& caller, const std::string& callee, Nanos offset) {
        const Nanos call_start = 100 * ms;
        add(store, {trace, "r", "", 0, 900 * ms, 200, caller, "", "", {{"c", call_start, 500 * ms, callee, 200}}},
            line++);
        add(store, {trace, "c", "r", call_start + offset, ms, 200, callee, "", "", {}}, line++);
        offsets[caller].push_back(offset);
      };
      for (int i = 0; i < 70'000; ++i)
        call("a" + std::to_string(i), "h1", "h2", repeating ? (i % 40 - 5) * ms : (i * 7 - 1'000) * us + 1'000 * ms);
      for (int i = 0; i < 10'000; ++i) call("b" + std::to_string(i), "h3", "h4", (i * 3 - 1'000) * us);
      for (int i = 0; i < 3'000; ++i) call("w" + std::to_string(i), "h5", "h6", (i % 300) * 1'001 - 5'000);
      const Analysis a = analyze(store, Config{}, threads);
      REQUIRE(a.skew.size() == 3);
      for (const SkewSummary& k : a.skew) {
        CAPTURE(k.caller_host);
        REQUIRE(offsets.count(k.caller_host) == 1);
        CHECK(k.calls == offsets[k.caller_host].size());
        test_support::check_distribution(k.offset, distribution(offsets[k.caller_host]));
      }
    }
  }
}

TEST_CASE("analyze: the slowest traces first, ties by traceId") {
  SUBCASE("top 3") {
    Config config;
    config.top = 3;
    CHECK(shown_ids(analyze_sample(config)) == std::vector<std::string>{"t4", "t1", "t2"});
  }
  SUBCASE("top 10 shows all four") {
    CHECK(shown_ids(analyze_sample(Config{})) == std::vector<std::string>{"t4", "t1", "t2", "t3"});
  }
  SUBCASE("top 1") {
    Config config;
    config.top = 1;
    const Analysis a = analyze_sample(config);
    REQUIRE(shown_ids(a) == std::vector<std::string>{"t4"});
    // A shown trace carries its analysis.
    const ShownTrace& s = a.shown[0];
    CHECK(s.trace.size() == 2);
    CHECK(s.path.size() == 3);
    REQUIRE(s.on_path.size() == 2);
    REQUIRE(s.self.size() == 2);
    CHECK(s.on_path[0] + s.on_path[1] == 200);
  }
  SUBCASE("all traces") {
    Config config;
    config.top = 1;
    config.all_traces = true;
    CHECK(shown_ids(analyze_sample(config)).size() == 4);
  }
}

TEST_CASE("analyze: --trace picks traces and reports missing ids") {
  Config config;
  config.trace_ids = {"t3", "nope", "t1"};
  const Analysis a = analyze_sample(config);
  std::vector<std::string> ids = shown_ids(a);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"t1", "t3"});
  CHECK(a.missing_trace_ids == std::vector<std::string>{"nope"});
  // The summary still covers every trace.
  CHECK(a.traces.count == 4);
  CHECK(a.spans == 7);

  Config none;
  none.trace_ids = {"zzz"};
  const Analysis b = analyze_sample(none);
  CHECK(b.shown.empty());
  CHECK(b.missing_trace_ids == std::vector<std::string>{"zzz"});
}

TEST_CASE("analyze: anomaly counts and trace completeness") {
  SpanLog store;
  add(store, {"x", "o", "gone", 0, 10, 200, "n1", "", "", {}},
      1);  // orphan, no root
  add(store, {"y", "r", "", 0, 10, 200, "n1", "", "", {}}, 2);
  add(store, {"y", "k", "r", -5, 10, 200, "n1", "", "", {}}, 3);  // skew
  const Analysis a = analyze(store, Config{}, 1);
  CHECK(a.traces.count == 2);
  CHECK(a.traces.with_orphans == 1);
  CHECK(a.traces.missing_root == 1);
  CHECK(a.anomaly_counts[static_cast<std::size_t>(AnomalyKind::kOrphan)] == 1);
  CHECK(a.anomaly_counts[static_cast<std::size_t>(AnomalyKind::kNoRoot)] == 1);
  CHECK(a.anomaly_counts[static_cast<std::size_t>(AnomalyKind::kSkew)] == 1);
  CHECK(a.anomalies == 3);
}

TEST_CASE("analyze: the result does not depend on the number of threads") {
  auto run = [](std::size_t threads) {
    SpanLog store;
    fill(store);
    // More traces, so that every partition and thread has some.
    for (int i = 0; i < 50; ++i) {
      const std::string id = "x" + std::to_string(i);
      add(store,
          {id, "r", "", i * 10, 5 + i, i % 7 == 0 ? std::int16_t{500} : std::int16_t{200}, "h1", "web", "", {}},
          static_cast<std::uint32_t>(100 + i));
    }
    return analyze(store, Config{}, threads);
  };
  const Analysis one = run(1);
  for (std::size_t threads : {std::size_t{2}, std::size_t{3}, std::size_t{8}}) {
    CAPTURE(threads);
    const Analysis many = run(threads);
    CHECK(many.spans == one.spans);
    CHECK(many.duplicates == one.duplicates);
    CHECK(many.traces.count == one.traces.count);
    CHECK(many.traces.latency_total == one.traces.latency_total);
    CHECK(group_names(many) == group_names(one));
    REQUIRE(many.groups.size() == one.groups.size());
    for (std::size_t g = 0; g < one.groups.size(); ++g) {
      CHECK(many.groups[g].spans == one.groups[g].spans);
      CHECK(many.groups[g].errors == one.groups[g].errors);
      CHECK(many.groups[g].critical_total == one.groups[g].critical_total);
    }
    CHECK(shown_ids(many) == shown_ids(one));
  }
  CHECK(one.traces.count == 54);
  CHECK(group(one, "web").spans == 53);
  CHECK(group(one, "web").errors == 1 + 8);  // d, and x0, x7, ..., x49
}

TEST_CASE("analyze: a fleet's caller -> callee pairs are merged and listed alike on one thread and several") {
  // 40,000 host pairs of 2 calls each (their values listed in small
  // blocks) and 200 of 40 calls (in samples), their traces spread over
  // every partition: enough pairs that the merge sorts and takes them on
  // several threads. Each pair's calls come from two traces, which may be
  // analysed on different threads, so their blocks are merged too.
  constexpr int kPairs = 40'000, kBusy = 200;
  auto run = [&](std::size_t threads) {
    SpanLog store;
    std::uint32_t line = 1;
    auto call = [&](const std::string& trace, const std::string& from, const std::string& to, Nanos client,
                    Nanos server) {
      add(store, {trace, "p", "", 0, client + 10, 200, from, "", "", {{"c", 5, client, to, 200}}}, line++);
      add(store, {trace, "c", "p", 6, server, 200, to, "", "", {}}, line++);
    };
    for (int i = 0; i < kPairs; ++i)
      for (int k = 0; k < 2; ++k)
        call("t" + std::to_string(i) + "-" + std::to_string(k), "a" + std::to_string(i), "b" + std::to_string(i),
             100 + i % 97 + k, 50 + k);
    for (int i = 0; i < kBusy; ++i)
      for (int k = 0; k < 40; ++k)
        call("u" + std::to_string(i) + "-" + std::to_string(k), "busy" + std::to_string(i), "db", 1000 + k * i, 20 + k);
    Config config;
    config.format = Format::kJson;  // every pair's distributions (text computes those of the rows it shows)
    return analyze(store, config, threads);
  };
  auto listed = [](const Analysis& a) {
    std::vector<std::string> out;
    for (const EdgeSummary e : a.edges)
      out.push_back(fmt::format("{}>{} {} {} {}/{}/{}/{}", e.caller, e.callee, e.calls, e.errors, e.client.p50,
                                e.client.max, e.gap.p50, e.gap.count));
    return out;
  };
  const Analysis one = run(1);
  const std::vector<std::string> expected = listed(one);
  REQUIRE(expected.size() == kPairs + kBusy);
  // Most calls first (ties by name): the busy pairs, then the others.
  CHECK(expected.front().rfind("busy", 0) == 0);
  CHECK(expected[kBusy].rfind("a0>b0 2 0 ", 0) == 0);
  const std::optional<EdgeSummary> first = edge(one, "a0", "b0");
  REQUIRE(first.has_value());
  CHECK(first->client.min == 100);
  CHECK(first->client.max == 101);
  CHECK(first->gap.count == 2);
  const std::optional<EdgeSummary> busy = edge(one, "busy7", "db");
  REQUIRE(busy.has_value());
  CHECK(busy->calls == 40);
  CHECK(busy->client.max == 1000 + 39 * 7);
  for (std::size_t threads : {std::size_t{2}, std::size_t{3}}) {
    CAPTURE(threads);
    CHECK(listed(run(threads)) == expected);
  }
}

TEST_CASE("analyze: a fleet's pairs listed and settled report what a table of them does, on any number of threads") {
  // 3,000 pairs of a call each, 500 of two (from two traces), 20 of 150
  // (past the few kept in a block), calls that failed, and gaps past 32
  // bits. Each way of tallying: never listed; listed from 16 calls and
  // settled from 64 entries (settled on the way, and back to a table once
  // the busy pairs' calls outnumber the rest); listed and settled at the
  // end only; listed late.
  auto run = [&](Format format, std::size_t threads, std::size_t list_from, std::size_t settle_from) {
    SpanLog store;
    std::uint32_t line = 1;
    auto call = [&](const std::string& trace, const std::string& from, const std::string& to, Nanos client,
                    Nanos server, std::int16_t code) {
      add(store, {trace, "p", "", 0, client + 10, 200, from, "", "", {{"c", 5, client, to, code}}}, line++);
      add(store, {trace, "c", "p", 6, server, code, to, "", "", {}}, line++);
    };
    for (int i = 0; i < 3000; ++i)
      call("s" + std::to_string(i), "a" + std::to_string(i), "b" + std::to_string(i % 997), 100 + i % 89,
           i % 13 == 0 ? 5'000'000'000 : 40, i % 11 == 0 ? 503 : 200);
    for (int i = 0; i < 500; ++i)
      for (int k = 0; k < 2; ++k)
        call("d" + std::to_string(i) + "-" + std::to_string(k), "c" + std::to_string(i), "db", 300 + k * i, 20 + k,
             200);
    for (int i = 0; i < 20; ++i)
      for (int k = 0; k < 150; ++k)
        call("u" + std::to_string(i) + "-" + std::to_string(k), "busy" + std::to_string(i), "db",
             3'000'000'000LL * (k % 3) + 7 * k, 20 + k, k % 17 == 0 ? 500 : 200);
    Config config;
    config.format = format;
    config.list_pairs_from = list_from;
    config.settle_pairs_from = settle_from;
    return analyze(store, config, threads);
  };
  auto listed = [](const Analysis& a) {
    std::vector<std::string> out{fmt::format("{} pairs, {} listed", a.edges.size(), a.edges.listed())};
    for (const EdgeSummary e : a.edges)
      out.push_back(fmt::format("{}>{} {} {} {}/{}/{}/{}/{} {}/{}/{}/{}/{}", e.caller, e.callee, e.calls, e.errors,
                                e.client.count, e.client.min, e.client.p50, e.client.p99, e.client.max, e.gap.count,
                                e.gap.min, e.gap.p50, e.gap.p99, e.gap.max));
    return out;
  };
  constexpr std::size_t kNever = std::numeric_limits<std::size_t>::max();
  for (const Format format : {Format::kJson, Format::kText}) {
    CAPTURE(static_cast<int>(format));
    const std::vector<std::string> expected = listed(run(format, 1, kNever, kNever));
    const std::size_t rows = format == Format::kJson ? 3000 + 500 + 20 : kTableRows;
    REQUIRE(expected.size() == 1 + rows);
    CHECK(expected[0] == fmt::format("3520 pairs, {} listed", rows));
    CHECK(expected[1].rfind("busy", 0) == 0);
    for (const std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
      for (const auto& [list_from, settle_from] : {std::pair<std::size_t, std::size_t>{16, 64},
                                                   {16, kNever}, {2000, 64}, {kNever, kNever}}) {
        CAPTURE(threads);
        CAPTURE(list_from);
        CAPTURE(settle_from);
        CHECK(listed(run(format, threads, list_from, settle_from)) == expected);
      }
    }
  }
}

TEST_CASE("analyze: text and Markdown get the distributions of the rows they show, JSON of every row") {
  // 40 hosts, each the caller of a pair of its own (host i calls its db
  // 3i + 2 times: the pairs are listed most calls first, and past the rows
  // shown are pairs of a few calls and of more, kept in samples) and a
  // group (host i's spans are longest for the largest i). Each pair has one
  // call whose callee started before its caller's view of the call.
  constexpr int kHosts = 40;
  auto run = [&](Format format, std::size_t threads) {
    SpanLog store;
    std::uint32_t line = 1;
    for (int i = 0; i < kHosts; ++i) {
      const std::string host = fmt::format("h{:02}", i);
      for (int k = 0; k < 3 * i + 2; ++k) {
        const std::string trace = fmt::format("t{}-{}", i, k);
        const Nanos d = 100 + 10 * i + k;
        add(store, {trace, "p", "", 1000, d + 20, 200, host, "", "", {{"c", 1005, d, "db" + host, 200}}}, line++);
        add(store, {trace, "c", "p", k == 0 ? 1004 - i : 1006, d - 2, 200, "db" + host, "", "", {}}, line++);
      }
    }
    Config config;
    config.format = format;
    config.group = GroupKey::kHost;
    return analyze(store, config, threads);
  };
  // Rows of a table against JSON's: the same row (`same`), and JSON's
  // distribution (`of` gives it) in the first kTableRows only.
  auto check_rows = [](const auto& shown, const auto& all, auto&& same, auto&& of) {
    REQUIRE(shown.size() == all.size());
    for (std::size_t r = 0; r < all.size(); ++r) {
      CAPTURE(r);
      same(shown[r], all[r]);
      const Distribution got = of(shown[r]), want = of(all[r]);
      const bool listed = r < kTableRows;
      CHECK(want.count > 0);
      CHECK(got.count == (listed ? want.count : 0));
      CHECK(got.min == (listed ? want.min : 0));
      CHECK(got.p50 == (listed ? want.p50 : 0));
      CHECK(got.p99 == (listed ? want.p99 : 0));
      CHECK(got.max == (listed ? want.max : 0));
    }
  };
  for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    CAPTURE(threads);
    const Analysis all = run(Format::kJson, threads);
    CHECK(all.distributed_rows == rows_shown(Format::kJson));
    REQUIRE(all.groups.size() == 2 * kHosts);
    REQUIRE(all.edges.size() == kHosts);
    REQUIRE(all.skew.size() == kHosts);
    for (Format format : {Format::kText, Format::kMarkdown}) {
      const Analysis shown = run(format, threads);
      CHECK(shown.distributed_rows == kTableRows);
      CHECK(rows_shown(format) == kTableRows);
      // The same rows in the same order, with the same counts; the first
      // kTableRows have JSON's distributions, the others none.
      check_rows(shown.groups, all.groups, [](const GroupSummary& g, const GroupSummary& want) {
        CHECK(g.name == want.name);
        CHECK(g.spans == want.spans);
        CHECK(g.critical_total == want.critical_total);
        CHECK(want.duration.count == want.spans);
      }, [](const GroupSummary& g) { return g.duration; });
      // Pairs: the first kTableRows are listed, with JSON's distributions,
      // and all are counted.
      REQUIRE(shown.edges.size() == all.edges.size());
      REQUIRE(shown.edges.listed() == kTableRows);
      CHECK_THROWS_AS(shown.edges[kTableRows], std::logic_error);
      for (std::size_t r = 0; r < kTableRows; ++r) {
        CAPTURE(r);
        const EdgeSummary e = shown.edges[r], want = all.edges[r];
        CHECK(e.caller == want.caller);
        CHECK(e.calls == want.calls);
        CHECK(want.client.count == want.calls);
        test_support::check_distribution(e.client, want.client);
        test_support::check_distribution(e.gap, want.gap);
      }
      check_rows(shown.skew, all.skew, [](const SkewSummary& k, const SkewSummary& want) {
        CHECK(k.caller_host == want.caller_host);
        CHECK(k.outside == want.outside);
        CHECK(want.offset.count == want.calls);
      }, [](const SkewSummary& k) { return k.offset; });
    }
  }
}

TEST_CASE("analyze: text lists JSON's first pairs, ties in name order, a pair's calls summed over the threads") {
  // 60 callers of "db", each (i % 4) + 1 times, in traces of their own
  // spread over every partition: on several threads a pair's calls are met
  // by more than one, and pairs of equal calls are listed by name (the
  // callers are added in reverse name order). A caller's second call fails.
  // With `none`, a caller spelled "(none)" and one with no host (two
  // symbols, one name) make one pair of 10 calls.
  auto run = [](Format format, std::size_t threads, bool none) {
    SpanLog store;
    std::uint32_t line = 1;
    auto call = [&](const std::string& trace, const std::string& host, int i, int k) {
      add(store, {trace, "p", "", 1000, 200 + k, 200, host, "", "", {{"c", 1005, 100 + i + k, "db", k == 1 ? std::int16_t{503} : std::int16_t{200}}}}, line++);
      add(store, {trace, "c", "p", 1006, 90 + i, 200, "db", "", "", {}}, line++);
    };
    for (int i = 0; i < 60; ++i)
      for (int k = 0; k <= i % 4; ++k) call(fmt::format("t{}-{}", i, k), fmt::format("h{:02}", 59 - i), i, k);
    if (none)
      for (int k = 0; k < 5; ++k) {
        call(fmt::format("n{}", k), "(none)", 7, k);
        call(fmt::format("e{}", k), "", 8, k);
      }
    Config config;
    config.format = format;
    config.group = GroupKey::kHost;
    return analyze(store, config, threads);
  };
  for (bool none : {false, true}) {
    CAPTURE(none);
    const Analysis all = run(Format::kJson, 1, none);
    REQUIRE(all.edges.size() == (none ? 61u : 60u));
    // Most calls first, ties by name.
    for (std::size_t r = 1; r < all.edges.size(); ++r) {
      CAPTURE(r);
      const EdgeSummary before = all.edges[r - 1], e = all.edges[r];
      CHECK((before.calls > e.calls || (before.calls == e.calls && before.caller < e.caller)));
    }
    CHECK(all.edges[0].caller == (none ? "(none)" : "h00"));
    CHECK(all.edges[0].calls == (none ? 10u : 4u));
    for (std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
      CAPTURE(threads);
      for (Format format : {Format::kText, Format::kMarkdown}) {
        const Analysis shown = run(format, threads, none);
        REQUIRE(shown.edges.size() == all.edges.size());
        REQUIRE(shown.edges.listed() == kTableRows);
        for (std::size_t r = 0; r < kTableRows; ++r) {
          CAPTURE(r);
          const EdgeSummary e = shown.edges[r], want = all.edges[r];
          CHECK(e.caller == want.caller);
          CHECK(e.callee == want.callee);
          CHECK(e.calls == want.calls);
          CHECK(e.errors == want.errors);
          test_support::check_distribution(e.client, want.client);
          test_support::check_distribution(e.gap, want.gap);
        }
      }
    }
  }
}

TEST_CASE("analyze: groups of equal critical-path time are listed in name order, past 16 bytes and at a name's end") {
  // One span a host, all of one duration: the groups tie on critical-path
  // time, and are listed by name. Names that share their first 8 or 16
  // bytes, that end where another goes on, or differ only in a byte past
  // 0x7f; added out of order.
  const std::vector<std::string> names = {"b", "abcdefghijklmnopq", "abcdefghijklmnop", "a", "abcdefghijklmnopp",
                                          "abcdefghijklmnoq", "ab", "abcdefgh", "abcdefghi", "z\xc3\xa9", "z\x7f",
                                          "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyy"};
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  for (Format format : {Format::kText, Format::kJson}) {
    for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
      CAPTURE(static_cast<int>(format));
      CAPTURE(threads);
      SpanLog store;
      std::uint32_t line = 1;
      for (const std::string& host : names) add(store, {"t-" + host, "r", "", 0, 100, 200, host, "", "", {}}, line++);
      Config config;
      config.format = format;
      config.group = GroupKey::kHost;
      const Analysis a = analyze(store, config, threads);
      std::vector<std::string> listed;
      for (const GroupSummary& g : a.groups) listed.push_back(g.name);
      CHECK(listed == sorted);
    }
  }
}

TEST_CASE("analyze: a label spelled \"(none)\" and no label are one group, on any number of threads") {
  // Spans with no service and spans of a service named "(none)" (two
  // symbols, one name), in traces spread over every partition.
  auto run = [](Format format, std::size_t threads) {
    SpanLog store;
    std::uint32_t line = 1;
    for (int i = 0; i < 64; ++i) {
      const std::string trace = "t" + std::to_string(i);
      add(store, {trace, "r", "", 0, 100 + i, 200, "h", "web", "", {}}, line++);
      add(store, {trace, "a", "r", 1, 10 + i, i % 4 == 0 ? std::int16_t{500} : std::int16_t{200}, "h", "", "", {}},
          line++);
      add(store, {trace, "b", "r", 2, 1000 + i, 200, "h", "(none)", "", {}}, line++);
    }
    Config config;
    config.format = format;
    config.group = GroupKey::kService;
    return analyze(store, config, threads);
  };
  for (Format format : {Format::kText, Format::kJson})
    for (std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
      CAPTURE(threads);
      const Analysis a = run(format, threads);
      REQUIRE(a.groups.size() == 2);
      const GroupSummary& none = group(a, "(none)");
      CHECK(none.spans == 128);
      CHECK(none.errors == 16);
      CHECK(none.duration.count == 128);
      CHECK(none.duration.min == 10);
      CHECK(none.duration.max == 1063);
      CHECK(none.duration.p50 == 73);  // the 64th of 10..73 and 1000..1063
      CHECK(group(a, "web").duration.count == 64);
    }
}

#if defined(__SANITIZE_ADDRESS__)
extern "C" void __sanitizer_purge_allocator();
#endif

// Gives back to the system what earlier tests freed, so that resident memory
// moves only with what the test does: glibc keeps freed memory (analyze
// trims it first), and AddressSanitizer holds it in quarantine and unmaps
// it later, tens of MB at once when the whole suite runs in one process.
namespace {
void give_back_freed_memory() {
  malloc_trim(0);
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_purge_allocator();
#endif
}

// Spans of the one large trace in the --max-memory tests.
constexpr std::uint32_t kBigTrace = 200'000;
}  // namespace

TEST_CASE("--max-memory: a trace too large for the memory left is not analysed, the others are") {
  // room: the limit above what is resident once the spans are stored (and
  // what earlier tests freed is given back); 0: none.
  auto run = [](std::uint64_t room) {
    SpanLog store;
    fill(store);
    for (std::uint32_t i = 0; i < kBigTrace; ++i)
      add(store, {"big", "s" + std::to_string(i), i ? "s0" : "", 10, 5, 200, "h9", "", "", {}}, 100 + i);
    Config config;
    give_back_freed_memory();
    config.max_memory = room ? resident_bytes() + room : 0;
    return analyze(store, config, 2);
  };
  // Room for grouping the big trace's partition (64 bytes a record: 13 MB),
  // not for assembling the trace (256 bytes a span: 51 MB), with margins of
  // more than 15 MB either way: resident memory moves by a few MB from run
  // to run (where the trace's partition falls under the random hash key,
  // and so which stripes are given back before it).
  const Analysis limited = run(30u << 20);
  CHECK(limited.memory.hit());
  CHECK_FALSE(limited.memory.stopped);
  CHECK(limited.memory.traces == 1);
  CHECK(limited.memory.spans == kBigTrace);
  CHECK(limited.memory.largest_id == "big");
  CHECK(limited.traces.count == 4);  // the small ones
  CHECK(limited.spans == 7);

  const Analysis all = run(0);
  CHECK_FALSE(all.memory.hit());
  CHECK(all.traces.count == 5);
  CHECK(all.spans == kBigTrace + 7);
}

TEST_CASE("--max-memory: a partition too large to group stops the analysis, every span counted") {
  SpanLog store;
  fill(store);
  for (std::uint32_t i = 0; i < kBigTrace; ++i)
    add(store, {"big", "s" + std::to_string(i), i ? "s0" : "", 10, 5, 200, "h9", "", "", {}}, 100 + i);
  Config config;
  give_back_freed_memory();  // what earlier tests freed is not room
  config.max_memory = resident_bytes() + (1u << 20);  // no room to group 200,000 records (13 MB)
  const std::uint64_t records = store.span_count();
  const Analysis a = analyze(store, config, 2);
  CHECK(a.memory.stopped);
  // It stopped at the grouping: no trace was judged too large to assemble
  // (a small trace on the other thread may be passed over once it stopped:
  // counted with the rest).
  CHECK(a.memory.largest_id.empty());
  CHECK(a.memory.largest_spans == 0);
  CHECK(a.spans + a.duplicates + a.memory.spans == records);
  CHECK(a.traces.count < 5);
}

TEST_CASE("sums of durations do not overflow: a group's critical time is exact, and the shares sum to 1") {
  // Spans as long as 2^63 ns allow: two of 5e18 ns on A and one of 4e18 on
  // B sum past 2^63. Saturated, A's totals had been 2^63 - 1 and the shares
  // 100% and 43.4%.
  constexpr Nanos kLong = 5'000'000'000'000'000'000;
  SpanLog store;
  add(store, {"a1", "r", "", 0, kLong, 200, "h", "A", "x", {}}, 1);
  add(store, {"a2", "r", "", 0, kLong, 200, "h", "A", "x", {}}, 2);
  add(store, {"b1", "r", "", 0, 4'000'000'000'000'000'000, 200, "h", "B", "x", {}}, 3);
  const Analysis a = analyze(store, Config{}, 1);
  const GroupSummary& ga = group(a, "A");
  const GroupSummary& gb = group(a, "B");
  CHECK(ga.critical_total == Total{2} * kLong);
  CHECK(ga.self_total == Total{2} * kLong);
  CHECK(ga.critical_share == doctest::Approx(10.0 / 14.0));
  CHECK(gb.critical_share == doctest::Approx(4.0 / 14.0));
  CHECK(ga.critical_share + gb.critical_share == doctest::Approx(1.0));
  CHECK(a.traces.latency_total == Total{2} * kLong + 4'000'000'000'000'000'000);
}
