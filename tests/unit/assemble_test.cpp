#include <doctest/doctest.h>

#include "test_support.h"
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "assemble/trace.h"
#include "parse/span_parser.h"
#include "store/open_traces.h"

// Prints vectors in failure messages (identical in every test file that has it).

using namespace ta;

namespace {

constexpr Nanos kMs = 1'000'000;

using test_support::CallSpec;

struct SpanSpec {
  std::string id;
  std::string parent;  // "" = none
  Nanos start = 0;
  Nanos duration = 0;
  std::int16_t code = 200;
  std::string host;
  std::vector<CallSpec> calls;
};

void add(OpenTraces& store, std::string_view trace_id, const SpanSpec& s, std::uint32_t line = 0) {
  SpanRecord r;
  r.trace_id = trace_id;
  r.span_id = s.id;
  r.parent_id = s.parent;
  r.host = s.host;
  r.start = s.start;
  r.duration = s.duration;
  r.http_code = s.code;
  for (const CallSpec& c : s.calls) r.calls.push_back({c.id, c.start, c.duration, c.host, c.code});
  store.add(r, 0, line);
}

Trace build(const std::vector<SpanSpec>& spans) {
  OpenTraces store;
  std::uint32_t line = 1;
  for (const SpanSpec& s : spans) add(store, "t", s, line++);
  const std::optional<TraceData> data = store.find("t");
  REQUIRE(data.has_value());
  return assemble(*data);
}

void add_line(OpenTraces& store, SpanParser& parser, const std::string& line, std::uint32_t no) {
  std::string buf = line;
  buf.append(simdjson::SIMDJSON_PADDING, '\0');
  SpanRecord r;
  INFO(line);
  REQUIRE(parser.parse(std::string_view(buf.data(), line.size()), buf.size(), r));
  store.add(r, 0, no);
}

const std::vector<std::string> kFourSpans = {
    R"({"traceId":"0001","spanId":"01","parentSpanId":"0","timestamp":"1704038400000","duration":"100","httpCode":"200","host":"192.168.10.1","requestStacks":[{"subSpanId":"02","subHttpCode":"200","subTimestamp":"1704038400000","subDuration":"40","subHost":"192.168.10.2"},{"subSpanId":"04","subHttpCode":"200","subTimestamp":"1704038400040","subDuration":"60","subHost":"192.168.10.3"}]})",
    R"({"traceId":"0001","spanId":"02","parentSpanId":"01","timestamp":"1704038400000","duration":"40","httpCode":"200","host":"192.168.10.2","requestStacks":[{"subSpanId":"03","subHttpCode":"200","subTimestamp":"1704038400000","subDuration":"40","subHost":"192.168.10.4"}]})",
    R"({"traceId":"0001","spanId":"04","parentSpanId":"01","timestamp":"1704038400040","duration":"60","httpCode":"200","host":"192.168.10.3","requestStacks":[]})",
    R"({"traceId":"0001","spanId":"03","parentSpanId":"02","timestamp":"1704038400000","duration":"40","httpCode":"200","host":"192.168.10.4","requestStacks":[]})",
};

std::uint32_t index_of(const Trace& t, std::string_view id) {
  for (std::uint32_t i = 0; i < t.size(); ++i)
    if (t.span_id(i) == id) return i;
  FAIL("no span " << id);
  return kNone;
}

std::vector<std::string> ids(const Trace& t, const std::vector<std::uint32_t>& v) {
  std::vector<std::string> out;
  for (std::uint32_t i : v) out.emplace_back(t.span_id(i));
  return out;
}

std::vector<std::string> kid_ids(const Trace& t, std::uint32_t i) {
  std::vector<std::string> out;
  for (std::uint32_t c : t.kids(i)) out.emplace_back(t.span_id(c));
  return out;
}

std::size_t count_anomalies(const Trace& t, AnomalyKind kind) {
  return static_cast<std::size_t>(
      std::count_if(t.anomalies.begin(), t.anomalies.end(), [&](const Anomaly& a) { return a.kind == kind; }));
}

std::size_t count_flag(const Trace& t, SpanFlag flag) {
  return static_cast<std::size_t>(
      std::count_if(t.spans.begin(), t.spans.end(), [&](const Span& s) { return (s.flags & flag) != 0; }));
}

// Every span reached once from the roots, parents before children, depths
// consistent with parent links.
void check_forest(const Trace& t) {
  REQUIRE(t.parent.size() == t.size());
  REQUIRE(t.depth.size() == t.size());
  REQUIRE(t.child_begin.size() == t.size() + 1);
  REQUIRE(t.order.size() == t.size());
  std::vector<int> seen(t.size(), 0);
  std::vector<std::uint32_t> pos(t.size(), kNone);
  for (std::uint32_t k = 0; k < t.order.size(); ++k) {
    REQUIRE(t.order[k] < t.size());
    ++seen[t.order[k]];
    pos[t.order[k]] = k;
  }
  for (std::uint32_t i = 0; i < t.size(); ++i) {
    CHECK(seen[i] == 1);
    if (t.parent[i] == kNone) {
      CHECK(t.depth[i] == 0);
      CHECK(std::find(t.roots.begin(), t.roots.end(), i) != t.roots.end());
    } else {
      CHECK(t.depth[i] == t.depth[t.parent[i]] + 1);
      CHECK(pos[t.parent[i]] < pos[i]);
      const auto kids = t.kids(t.parent[i]);
      CHECK(std::find(kids.begin(), kids.end(), i) != kids.end());
    }
  }
  CHECK(t.children.size() + t.roots.size() == t.size());
}

}  // namespace

TEST_CASE("the four-span example of DESIGN.md") {
  OpenTraces store;
  SpanParser parser{ParseOptions{}};
  for (std::uint32_t i = 0; i < kFourSpans.size(); ++i) add_line(store, parser, kFourSpans[i], i + 1);
  const std::optional<TraceData> data = store.find("0001");
  REQUIRE(data.has_value());
  const Trace t = assemble(*data);

  REQUIRE(t.size() == 4);
  CHECK(t.trace_id == "0001");
  CHECK(t.logged_spans == 4);
  CHECK(t.inferred_spans == 0);
  CHECK(t.duplicates == 0);
  CHECK(t.anomalies.empty());
  const std::uint32_t s01 = index_of(t, "01"), s02 = index_of(t, "02"), s03 = index_of(t, "03"),
                      s04 = index_of(t, "04");
  CHECK(t.parent[s01] == kNone);
  CHECK(t.parent[s02] == s01);
  CHECK(t.parent[s04] == s01);
  CHECK(t.parent[s03] == s02);
  CHECK(kid_ids(t, s01) == std::vector<std::string>{"02", "04"});
  CHECK(kid_ids(t, s02) == std::vector<std::string>{"03"});
  CHECK(kid_ids(t, s03).empty());
  CHECK(kid_ids(t, s04).empty());
  CHECK(ids(t, t.roots) == std::vector<std::string>{"01"});
  CHECK(t.depth[s01] == 0);
  CHECK(t.depth[s02] == 1);
  CHECK(t.depth[s04] == 1);
  CHECK(t.depth[s03] == 2);
  CHECK(ids(t, t.order) == std::vector<std::string>{"01", "02", "03", "04"});
  CHECK(t.start == 1704038400000LL * kMs);
  CHECK(t.latency() == 100 * kMs);
  for (const Span& s : t.spans) CHECK(s.flags == 0);
  // The client's view of each call is linked to the callee.
  CHECK(t.client_call[s01] == kNone);
  REQUIRE(t.client_call[s02] != kNone);
  CHECK(t.str(t.calls[t.client_call[s02]].span_id) == "02");
  REQUIRE(t.client_call[s04] != kNone);
  CHECK(t.calls[t.client_call[s04]].duration == 60 * kMs);
  REQUIRE(t.client_call[s03] != kNone);
  CHECK(t.str(t.calls[t.client_call[s03]].span_id) == "03");
  check_forest(t);
}

TEST_CASE("parent from requestStacks when parentSpanId is absent") {
  const Trace t = build({
      {"a", "", 0, 100, 200, "h1", {{"b", 10, 50, "h2", 200}}},
      {"b", "", 12, 40, 200, "h2", {}},
  });
  const std::uint32_t a = index_of(t, "a"), b = index_of(t, "b");
  CHECK(t.parent[b] == a);
  CHECK(t.spans[b].flags == 0);
  CHECK(t.anomalies.empty());
  CHECK(ids(t, t.roots) == std::vector<std::string>{"a"});
  CHECK(t.depth[b] == 1);
  REQUIRE(t.client_call[b] != kNone);
  CHECK(t.calls[t.client_call[b]].duration == 50);
  check_forest(t);
}

TEST_CASE("parentSpanId not in the trace, but listed by a caller: the caller is the parent") {
  const Trace t = build({
      {"a", "", 0, 100, 200, "h1", {{"b", 10, 50, "h2", 200}}},
      {"b", "lost", 12, 40, 200, "h2", {}},
  });
  const std::uint32_t a = index_of(t, "a"), b = index_of(t, "b");
  CHECK(t.parent[b] == a);
  CHECK((t.spans[b].flags & kOrphan) == 0);
  CHECK(count_anomalies(t, AnomalyKind::kOrphan) == 0);
}

TEST_CASE("an orphan becomes an extra root, flagged") {
  const Trace t = build({
      {"a", "", 0, 100, 200, "h1", {}},
      {"b", "a", 10, 20, 200, "h1", {}},
      {"o", "missing", 50, 10, 200, "h2", {}},
  });
  const std::uint32_t a = index_of(t, "a"), o = index_of(t, "o");
  CHECK(t.parent[o] == kNone);
  CHECK((t.spans[o].flags & kOrphan) != 0);
  CHECK((t.spans[a].flags & kOrphan) == 0);
  REQUIRE(count_anomalies(t, AnomalyKind::kOrphan) == 1);
  const auto it = std::find_if(t.anomalies.begin(), t.anomalies.end(),
                               [](const Anomaly& an) { return an.kind == AnomalyKind::kOrphan; });
  CHECK(it->span == o);
  CHECK(ids(t, t.roots) == std::vector<std::string>{"a", "o"});  // by start
  CHECK(count_anomalies(t, AnomalyKind::kNoRoot) == 0);
  check_forest(t);
}

TEST_CASE("a listed callee with no line becomes an inferred span") {
  OpenTraces store;
  add(store, "t", {"a", "", 1000, 100, 200, "h1", {{"x", 1010, 70, "h9", 503}, {"b", 1085, 10, "h2", 200}}});
  add(store, "t", {"b", "a", 1086, 8, 200, "h2", {}});
  const Trace t = assemble(*store.find("t"));
  REQUIRE(t.size() == 3);
  CHECK(t.logged_spans == 2);
  CHECK(t.inferred_spans == 1);
  const std::uint32_t a = index_of(t, "a"), x = index_of(t, "x");
  CHECK(x >= t.logged_spans);  // inferred spans come after the logged ones
  const Span& s = t.spans[x];
  CHECK(s.start == 1010);
  CHECK(s.duration == 70);
  CHECK(store.symbols().text(s.host) == "h9");
  CHECK(s.http_code == 503);
  CHECK((s.flags & kInferred) != 0);
  CHECK((s.flags & kError) != 0);
  CHECK(t.parent[x] == a);
  CHECK(t.depth[x] == 1);
  CHECK(kid_ids(t, a) == std::vector<std::string>{"x", "b"});
  CHECK((t.spans[index_of(t, "b")].flags & kInferred) == 0);
  REQUIRE(count_anomalies(t, AnomalyKind::kInferred) == 1);
  CHECK(t.anomalies[0].span == x);
  check_forest(t);
}

TEST_CASE("the same line twice is one span and one duplicate") {
  const SpanSpec a{"a", "", 0, 100, 200, "h1", {{"b", 10, 50, "h2", 200}}};
  const SpanSpec b{"b", "a", 10, 40, 200, "h2", {}};
  const Trace t = build({a, b, a, b, b});
  CHECK(t.size() == 2);
  CHECK(t.logged_spans == 2);
  CHECK(t.duplicates == 3);
  CHECK(t.anomalies.empty());
  CHECK(count_flag(t, kDuplicateId) == 0);
  CHECK(kid_ids(t, index_of(t, "a")) == std::vector<std::string>{"b"});
}

TEST_CASE("the same line in two Filebeat envelopes is one span") {
  OpenTraces store;
  SpanParser parser{ParseOptions{}};
  const std::string span = R"({\"traceId\":\"t\",\"spanId\":\"a\",\"timestamp\":\"1704038400000\",\"duration\":\"5\"})";
  add_line(store, parser, R"({"@timestamp":"2024-01-01T00:00:00Z","log":{"offset":0},"message":")" + span + "\"}", 1);
  add_line(store, parser, R"({"@timestamp":"2024-01-01T00:00:05Z","log":{"offset":0},"message":")" + span + "\"}", 2);
  const Trace t = assemble(*store.find("t"));
  CHECK(t.size() == 1);
  CHECK(t.duplicates == 1);
}

TEST_CASE("two different lines with one spanId are both kept and flagged") {
  const Trace t = build({
      {"a", "", 0, 100, 200, "h1", {}},
      {"b", "a", 10, 20, 200, "h2", {}},
      {"b", "a", 40, 30, 200, "h3", {}},
  });
  REQUIRE(t.size() == 3);
  CHECK(t.logged_spans == 3);
  CHECK(t.duplicates == 0);
  CHECK(t.span_id(1) == "b");
  CHECK(t.span_id(2) == "b#2");
  CHECK(t.spans[1].duration == 20);
  CHECK(t.spans[2].duration == 30);
  CHECK((t.spans[1].flags & kDuplicateId) != 0);
  CHECK((t.spans[2].flags & kDuplicateId) != 0);
  CHECK((t.spans[0].flags & kDuplicateId) == 0);
  CHECK(count_anomalies(t, AnomalyKind::kDuplicateId) >= 1);
  CHECK(t.parent[1] == 0);
  CHECK(t.parent[2] == 0);
  check_forest(t);

  // A third one gets the next name.
  const Trace t3 = build({
      {"b", "", 10, 20, 200, "h2", {}},
      {"b", "", 40, 30, 200, "h3", {}},
      {"b", "", 80, 30, 200, "h4", {}},
  });
  CHECK(t3.span_id(0) == "b");
  CHECK(t3.span_id(1) == "b#2");
  CHECK(t3.span_id(2) == "b#3");
  CHECK(count_flag(t3, kDuplicateId) == 3);
}

namespace {

// A span of a richer format: its kind, Zipkin's shared flag, its service.
struct HalfSpec {
  std::string id;
  std::string parent;
  Nanos start = 0;
  Nanos duration = 0;
  std::string host, service;
  SpanKind kind = SpanKind::kUnset;
  bool shared = false;
};

// Spans keep their input order here (each its own line, none dropped).
Trace build_halves(const std::vector<HalfSpec>& spans) {
  OpenTraces store;
  std::uint32_t line = 1;
  for (const HalfSpec& h : spans) {
    SpanRecord r;
    r.trace_id = "t";
    r.span_id = h.id;
    r.parent_id = h.parent;
    r.host = h.host;
    r.service = h.service;
    r.start = h.start;
    r.duration = h.duration;
    r.kind = h.kind;
    r.shared = h.shared;
    store.add(r, 0, line++);
  }
  const std::optional<TraceData> data = store.find("t");
  REQUIRE(data.has_value());
  return assemble(*data);
}

}  // namespace

TEST_CASE("a call served in several places: each server half under the client half, each child under its own") {
  // Zipkin keys a shared span by its id and local endpoint: a message one
  // client published, received by two consumers (as in openzipkin's
  // smartthings trace).
  const Trace t = build_halves({
      {"root", "", 0, 100, "10.0.0.1", "bouncer", SpanKind::kServer, false},
      {"x", "root", 10, 5, "10.0.0.1", "bouncer", SpanKind::kClient, false},
      {"x", "root", 11, 3, "10.0.0.2", "pusher", SpanKind::kServer, true},
      {"x", "root", 12, 3, "10.0.0.3", "pusher", SpanKind::kServer, true},
      {"w2", "x", 12, 1, "10.0.0.2", "pusher", SpanKind::kInternal, false},
      {"w3", "x", 13, 1, "10.0.0.3", "pusher", SpanKind::kInternal, false},
      {"w3db", "x", 13, 1, "10.0.0.3", "pusher-db", SpanKind::kClient, false},  // same host, other service
      {"w4", "x", 14, 1, "10.0.0.4", "elsewhere", SpanKind::kInternal, false},   // no half there: the first
  });
  REQUIRE(t.size() == 8);
  CHECK(t.duplicates == 0);
  CHECK(count_anomalies(t, AnomalyKind::kDuplicateId) == 0);
  CHECK(count_flag(t, kDuplicateId) == 0);
  for (std::uint32_t i = 1; i <= 3; ++i) CHECK(t.span_id(i) == "x");  // no span renamed
  CHECK(t.parent[1] == 0);
  CHECK(t.parent[2] == 1);
  CHECK(t.parent[3] == 1);
  CHECK(t.parent[4] == 2);
  CHECK(t.parent[5] == 3);
  CHECK(t.parent[6] == 3);
  CHECK(t.parent[7] == 2);
  check_forest(t);

  // In the other order (server halves first, the client last, as in the
  // smartthings file): the same tree.
  const Trace r = build_halves({
      {"x", "root", 12, 3, "10.0.0.3", "pusher", SpanKind::kServer, true},
      {"w3", "x", 13, 1, "10.0.0.3", "pusher", SpanKind::kInternal, false},
      {"x", "root", 11, 3, "10.0.0.2", "pusher", SpanKind::kServer, true},
      {"w2", "x", 12, 1, "10.0.0.2", "pusher", SpanKind::kInternal, false},
      {"root", "", 0, 100, "10.0.0.1", "bouncer", SpanKind::kServer, false},
      {"x", "root", 10, 5, "10.0.0.1", "bouncer", SpanKind::kClient, false},
  });
  REQUIRE(r.size() == 6);
  CHECK(count_anomalies(r, AnomalyKind::kDuplicateId) == 0);
  CHECK(r.parent[5] == 4);
  CHECK(r.parent[0] == 5);
  CHECK(r.parent[2] == 5);
  CHECK(r.parent[1] == 0);
  CHECK(r.parent[3] == 2);
  check_forest(r);
}

TEST_CASE("a SERVER span with its CLIENT span's id is its server half without the shared flag, in either order") {
  for (const bool client_first : {true, false}) {
    INFO("client first: " << client_first);
    std::vector<HalfSpec> spans = {
        {"a", "", 0, 100, "h1", "front", SpanKind::kServer, false},
        {"b", "a", 10, 60, "h1", "front", SpanKind::kClient, false},
        {"b", "a", 15, 50, "h2", "back", SpanKind::kServer, false},
        {"c", "b", 20, 30, "h2", "back", SpanKind::kClient, false},
    };
    if (!client_first) std::swap(spans[1], spans[2]);
    const Trace t = build_halves(spans);
    REQUIRE(t.size() == 4);
    const std::uint32_t client = client_first ? 1 : 2, server = client_first ? 2 : 1;
    CHECK(count_anomalies(t, AnomalyKind::kDuplicateId) == 0);
    CHECK(t.span_id(client) == "b");
    CHECK(t.span_id(server) == "b");
    CHECK(t.parent[client] == 0);
    CHECK(t.parent[server] == client);
    CHECK(t.parent[3] == server);
    check_forest(t);
  }
}

TEST_CASE("two server halves at one endpoint, or two client halves, are a reused id") {
  const Trace t = build_halves({
      {"x", "", 10, 5, "h1", "front", SpanKind::kClient, false},
      {"x", "", 11, 3, "h2", "back", SpanKind::kServer, true},
      {"x", "", 12, 2, "h2", "back", SpanKind::kServer, true},
  });
  REQUIRE(t.size() == 3);
  CHECK(t.span_id(2) == "x#2");
  CHECK(count_anomalies(t, AnomalyKind::kDuplicateId) == 1);
  CHECK(t.parent[1] == 0);

  const Trace c = build_halves({
      {"x", "", 10, 5, "h1", "front", SpanKind::kClient, false},
      {"x", "", 11, 3, "h2", "back", SpanKind::kClient, false},
  });
  CHECK(c.span_id(1) == "x#2");
  CHECK(count_anomalies(c, AnomalyKind::kDuplicateId) == 1);

  // Native lines carry no kind: one id on two lines stays a reused id.
  const Trace n = build_halves({
      {"x", "", 10, 5, "h1", "", SpanKind::kUnset, false},
      {"x", "", 11, 3, "h2", "", SpanKind::kUnset, false},
  });
  CHECK(n.span_id(1) == "x#2");
}

TEST_CASE("a renamed duplicate does not collide with a real span of that name") {
  const Trace t = build({
      {"b#2", "", 0, 100, 200, "h1", {}},
      {"b", "b#2", 10, 20, 200, "h2", {}},
      {"b", "b#2", 40, 30, 200, "h3", {}},
  });
  REQUIRE(t.size() == 3);
  CHECK(t.span_id(0) == "b#2");
  CHECK(t.span_id(1) == "b");
  CHECK(t.span_id(2) != "b#2");
  CHECK(t.span_id(2) != "b");
  CHECK(t.parent[1] == 0);
  CHECK(t.parent[2] == 0);
}

TEST_CASE("a parent cycle is broken once and everything stays reachable") {
  SUBCASE("a 3-cycle") {
    const Trace t = build({
        {"x", "z", 10, 50, 200, "h", {}},
        {"y", "x", 20, 30, 200, "h", {}},
        {"z", "y", 30, 10, 200, "h", {}},
    });
    REQUIRE(t.size() == 3);
    CHECK(count_flag(t, kCycle) == 1);
    CHECK(count_anomalies(t, AnomalyKind::kCycle) == 1);
    CHECK(t.roots.size() == 1);
    check_forest(t);
    // Two of the three links survive.
    CHECK(std::count(t.parent.begin(), t.parent.end(), kNone) == 1);
  }
  SUBCASE("a 3-cycle with a tail and a separate real root") {
    const Trace t = build({
        {"r", "", 0, 100, 200, "h", {}},
        {"x", "z", 10, 50, 200, "h", {}},
        {"y", "x", 20, 30, 200, "h", {}},
        {"z", "y", 30, 10, 200, "h", {}},
        {"w", "y", 25, 5, 200, "h", {}},
    });
    CHECK(count_flag(t, kCycle) == 1);
    CHECK(count_anomalies(t, AnomalyKind::kCycle) == 1);
    CHECK(t.roots.size() == 2);
    CHECK(t.parent[index_of(t, "w")] == index_of(t, "y"));
    check_forest(t);
  }
  SUBCASE("a 2-cycle") {
    const Trace t = build({
        {"p", "q", 10, 50, 200, "h", {}},
        {"q", "p", 20, 30, 200, "h", {}},
    });
    CHECK(count_flag(t, kCycle) == 1);
    CHECK(t.roots.size() == 1);
    check_forest(t);
  }
}

TEST_CASE("a span that is its own parent") {
  const Trace t = build({
      {"r", "", 0, 100, 200, "h", {}},
      {"s", "s", 10, 20, 200, "h", {}},
  });
  const std::uint32_t s = index_of(t, "s");
  CHECK(t.parent[s] == kNone);
  CHECK((t.spans[s].flags & kCycle) != 0);
  CHECK(count_flag(t, kCycle) == 1);
  CHECK(count_anomalies(t, AnomalyKind::kCycle) == 1);
  CHECK(t.roots.size() == 2);
  check_forest(t);
}

TEST_CASE("clock skew is flagged, never corrected") {
  const Trace t = build({
      {"p", "", 100, 100, 200, "h", {}},
      {"early", "p", 95, 10, 200, "h", {}},  // starts before its parent
      {"late", "p", 190, 20, 200, "h", {}},  // ends after its parent
      {"inside", "p", 120, 30, 200, "h", {}},
      {"edges", "p", 100, 100, 200, "h", {}},  // exactly the parent's interval
  });
  CHECK((t.spans[index_of(t, "early")].flags & kSkew) != 0);
  CHECK((t.spans[index_of(t, "late")].flags & kSkew) != 0);
  CHECK((t.spans[index_of(t, "inside")].flags & kSkew) == 0);
  CHECK((t.spans[index_of(t, "edges")].flags & kSkew) == 0);
  CHECK((t.spans[index_of(t, "p")].flags & kSkew) == 0);
  CHECK(count_anomalies(t, AnomalyKind::kSkew) == 2);
  // Times are kept as logged.
  CHECK(t.spans[index_of(t, "early")].start == 95);
  CHECK(t.spans[index_of(t, "late")].end() == 210);
  CHECK(t.start == 95);
  CHECK(t.end == 210);
  CHECK(t.latency() == 115);
  CHECK(kid_ids(t, index_of(t, "p")) == std::vector<std::string>{"early", "edges", "inside", "late"});
}

TEST_CASE("a caller's status differing from the callee's is flagged") {
  const Trace t = build({
      {"a", "", 0, 100, 200, "h1", {{"b", 10, 50, "h2", 200}, {"c", 60, 30, "h3", 503}, {"d", 91, 5, "h4", 200}}},
      {"b", "a", 12, 40, 503, "h2", {}},  // caller saw 200
      {"c", "a", 62, 20, 503, "h3", {}},  // agrees
      {"d", "a", 92, 3, kNoCode, "h4", {}},  // callee logged no code: nothing to compare
  });
  CHECK((t.spans[index_of(t, "b")].flags & kCodeMismatch) != 0);
  CHECK((t.spans[index_of(t, "c")].flags & kCodeMismatch) == 0);
  CHECK((t.spans[index_of(t, "d")].flags & kCodeMismatch) == 0);
  CHECK(count_anomalies(t, AnomalyKind::kCodeMismatch) == 1);
  CHECK((t.spans[index_of(t, "b")].flags & kError) != 0);
  CHECK((t.spans[index_of(t, "a")].flags & kError) == 0);
}

TEST_CASE("no-root anomaly when the only parentless span is an orphan") {
  const Trace t = build({
      {"b", "gone", 10, 50, 200, "h", {{"x", 20, 10, "h2", 200}}},
      {"c", "b", 15, 5, 200, "h", {}},
  });
  CHECK(count_anomalies(t, AnomalyKind::kNoRoot) == 1);
  CHECK(count_anomalies(t, AnomalyKind::kOrphan) == 1);
  CHECK(ids(t, t.roots) == std::vector<std::string>{"b"});
  check_forest(t);

  const Trace ok = build({{"a", "", 0, 10, 200, "h", {}}});
  CHECK(count_anomalies(ok, AnomalyKind::kNoRoot) == 0);
}

TEST_CASE("a million-deep chain assembles without deep recursion") {
  constexpr std::uint32_t n = 1'000'000;
  OpenTraces store;
  for (std::uint32_t i = 0; i < n; ++i) {
    SpanSpec s;
    s.id = "s" + std::to_string(i);
    s.parent = i == 0 ? "" : "s" + std::to_string(i - 1);
    s.start = i;
    s.duration = 2 * static_cast<Nanos>(n - i);  // [i, 2n - i]: each inside its parent
    add(store, "deep", s, i + 1);
  }
  const Trace t = assemble(*store.find("deep"));
  REQUIRE(t.size() == n);
  CHECK(t.anomalies.empty());
  CHECK(t.roots.size() == 1);
  CHECK(t.span_id(n - 1) == "s999999");
  CHECK(t.depth[n - 1] == n - 1);
  CHECK(t.parent[n - 1] == n - 2);
  CHECK(t.order.size() == n);
  CHECK(t.order.front() == 0);
  CHECK(t.order.back() == n - 1);
  CHECK(t.latency() == 2 * static_cast<Nanos>(n));
}

TEST_CASE("a million-wide fan-out assembles") {
  constexpr std::uint32_t n = 1'000'000;
  OpenTraces store;
  add(store, "wide", SpanSpec{"root", "", 0, n, 200, "h", {}}, 1);
  for (std::uint32_t i = 1; i < n; ++i) {
    SpanSpec s;
    s.id = "c" + std::to_string(i);
    s.parent = "root";
    s.start = n - i;  // reverse order, so sorting children matters
    s.duration = 1;
    add(store, "wide", s, i + 1);
  }
  const Trace t = assemble(*store.find("wide"));
  REQUIRE(t.size() == n);
  CHECK(t.anomalies.empty());
  CHECK(t.roots.size() == 1);
  CHECK(t.kids(0).size() == n - 1);
  CHECK(t.depth[n - 1] == 1);
  CHECK(t.order.size() == n);
  // Children in start order: the last span starts first.
  CHECK(*t.kids(0).begin() == n - 1);
  CHECK(*(t.kids(0).end() - 1) == 1);
}

TEST_CASE("spans arriving out of line order are put back in it, for a long trace too (radix-sorted keys)") {
  for (const std::uint32_t n : {50u, 20000u}) {
    CAPTURE(n);
    OpenTraces store;
    // Lines in a scrambled order (as several parsing threads file them),
    // all of one file, with gaps between line numbers.
    std::vector<std::uint32_t> lines(n);
    for (std::uint32_t i = 0; i < n; ++i) lines[i] = 3 + i * 7;
    for (std::uint32_t i = 0; i < n; ++i) std::swap(lines[i], lines[(i * 7919u + 13u) % n]);
    for (const std::uint32_t line : lines) {
      SpanSpec s;
      s.id = "s" + std::to_string(line);
      s.parent = line == 3 ? "" : "s3";
      s.start = static_cast<Nanos>(line) * kMs;
      s.duration = kMs;
      add(store, "t", s, line);
    }
    const Trace t = assemble(*store.find("t"));
    REQUIRE(t.size() == n);
    for (std::uint32_t i = 0; i < n; ++i) {
      REQUIRE(t.spans[i].line == 3 + i * 7);
      REQUIRE(t.span_id(i) == "s" + std::to_string(3 + i * 7));
    }
    CHECK(t.roots.size() == 1);
    CHECK(t.kids(0).size() == n - 1);
  }
}
