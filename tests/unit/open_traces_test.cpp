#include <doctest/doctest.h>

#include "test_support.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "assemble/trace.h"
#include "store/open_traces.h"

using namespace ta;

namespace {

// The record's views point into the arguments, which must outlive it.
SpanRecord span(const std::string& trace, const std::string& id, Nanos start, const std::string& host = "h") {
  SpanRecord r;
  r.trace_id = trace;
  r.span_id = id;
  r.start = start;
  r.duration = 5;
  r.host = host;
  return r;
}

// The trace's span ids with their lines, as assembly reads them.
std::vector<std::string> spans_of(const OpenTraces& store, const std::string& trace_id) {
  const std::optional<TraceData> data = store.find(trace_id);
  REQUIRE(data.has_value());
  const Trace t = assemble(*data);
  std::vector<std::string> out;
  for (std::uint32_t i = 0; i < t.logged_spans; ++i)
    out.push_back(fmt::format("{}@{}:{}", t.span_id(i), t.spans[i].file, t.spans[i].line));
  return out;
}

constexpr std::size_t kBlock = 64u << 10;

}  // namespace

TEST_CASE("open traces: a trace is read back as it was filed, and released with all it held") {
  OpenTraces store;
  const std::vector<std::string> ids = {"a1", "b2", "c3"};
  const std::string other = "other";
  for (std::uint32_t i = 0; i < ids.size(); ++i) {
    CHECK(store.add(span("t", ids[i], 1000 + i), 2, 10 + i).kept);
    CHECK(store.add(span(other, ids[i], 5000 + i), 3, 20 + i).kept);
  }
  CHECK(store.trace_count() == 2);
  CHECK(store.span_count() == 6);
  CHECK(spans_of(store, "t") == std::vector<std::string>{"a1@2:10", "b2@2:11", "c3@2:12"});
  const std::optional<TraceData> t = store.find("t");
  REQUIRE(t.has_value());
  CHECK(t->base == 1000);
  CHECK(t->span_count == 3);

  const std::uint32_t slot = store.find_slot("t", hash_bytes("t"));
  store.release(slot);
  CHECK_FALSE(store.find("t").has_value());
  CHECK(store.span_count() == 3);
  CHECK(spans_of(store, "other") == std::vector<std::string>{"a1@3:20", "b2@3:21", "c3@3:22"});
  store.release(store.find_slot("other", hash_bytes("other")));
  CHECK(store.trace_count() == 0);
  CHECK(store.record_bytes() == 0);
  CHECK(store.block_bytes() <= kBlock);  // the block being written stays
}

TEST_CASE("open traces: blocks go back as the traces in them are written") {
  OpenTraces store;
  std::size_t peak = 0;
  for (int trace = 0; trace < 2000; ++trace) {
    const std::string id = fmt::format("{:016x}", trace);
    for (int s = 0; s < 100; ++s) store.add(span(id, fmt::format("{:08x}", s), trace * 1000 + s), 0, trace * 100 + s + 1);
    peak = std::max(peak, store.block_bytes());
    store.release(store.find_slot(id, hash_bytes(id)));
  }
  // 200,000 records of about 20 bytes (4 MB) passed through two blocks.
  CHECK(peak <= 2 * kBlock);
  CHECK(store.span_count() == 0);
}

TEST_CASE("open traces: a trace open for long does not keep the log's blocks") {
  // One span of a long-open trace among every 600 of short traces written
  // at once: a block of the log would be held by every ninth record of it.
  // "first" takes a span each round up to its limit, then a repeat (a
  // duplicate) and a new span (dropped); "second" takes a span each round
  // after that, so that blocks are compacted while "first" is at its limit.
  constexpr int kRounds = 3000, kLimit = 1500;
  OpenTraces store(kLimit);
  std::vector<std::string> first, second;
  std::uint32_t line = 0;
  std::size_t peak = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string id = fmt::format("{:08x}", round);
    if (round < kLimit) {
      CHECK(store.add(span("first", id, round), 1, ++line).kept);
      first.push_back(fmt::format("{}@1:{}", id, line));
    } else {
      const OpenTraces::Added again = store.add(span("first", fmt::format("{:08x}", round % kLimit), round % kLimit), 1, ++line);
      CHECK((!again.kept && again.duplicate));
      const OpenTraces::Added over = store.add(span("first", id, round), 1, ++line);
      CHECK((!over.kept && !over.duplicate));
      CHECK(store.add(span("second", id, round), 1, ++line).kept);
      second.push_back(fmt::format("{}@1:{}", id, line));
    }
    const std::string shorter = fmt::format("s{}", round);
    for (int s = 0; s < 600; ++s) store.add(span(shorter, fmt::format("{:08x}", s), round, "a-host"), 2, ++line);
    store.release(store.find_slot(shorter, hash_bytes(shorter)));
    peak = std::max(peak, store.block_bytes());
  }
  // Without compaction: about 330 blocks (21 MiB). With it: at most twice
  // the open records, and 1 MiB.
  CHECK(peak <= 2 * store.record_bytes() + (1u << 20) + 2 * kBlock);
  CHECK(spans_of(store, "first") == first);
  CHECK(spans_of(store, "second") == second);
  const std::optional<TraceData> data = store.find("first");
  REQUIRE(data.has_value());
  CHECK(data->duplicates == kRounds - kLimit);
  CHECK(data->dropped == kRounds - kLimit);
}

TEST_CASE("open traces: a renamed trace is found by its new id only") {
  OpenTraces store;
  store.add(span("00000000000000ab", "01", 1), 0, 1);
  store.rename(store.find_slot("00000000000000ab", hash_bytes("00000000000000ab")), "000000000000000000000000000000ab",
               hash_bytes("000000000000000000000000000000ab"));
  CHECK_FALSE(store.find("00000000000000ab").has_value());
  REQUIRE(store.find("000000000000000000000000000000ab").has_value());
  CHECK(store.trace_id(store.find_slot("000000000000000000000000000000ab",
                                       hash_bytes("000000000000000000000000000000ab"))) ==
        "000000000000000000000000000000ab");
}
