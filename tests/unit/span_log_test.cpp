#include <doctest/doctest.h>

#include "test_support.h"

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "assemble/trace.h"
#include "store/span_log.h"

using namespace ta;

namespace {

// The record's views point into the arguments, which must outlive it.
SpanRecord span(const std::string& trace, const std::string& id, Nanos start) {
  SpanRecord r;
  r.trace_id = trace;
  r.span_id = id;
  r.start = start;
  r.duration = 5;
  r.host = "h";
  return r;
}

// Each trace's (span id, file, line), in the order assembly gets them.
std::map<std::string, std::vector<std::string>> traces_of(const SpanLog& log) {
  std::map<std::string, std::vector<std::string>> out;
  log.for_each_trace([&](const TraceData& data) {
    const Trace t = assemble(data);
    auto& spans = out[std::string(data.trace_id)];
    CHECK(spans.empty());  // a trace comes once
    for (std::uint32_t i = 0; i < t.logged_spans; ++i)
      spans.push_back(std::string(t.span_id(i)) + "@" + std::to_string(t.spans[i].file) + ":" +
                      std::to_string(t.spans[i].line));
  });
  return out;
}

}  // namespace

TEST_CASE("span log: spans written by several threads come back by trace, in input order") {
  SpanLog log;
  SpanLog::Writer* w[3] = {&log.writer(), &log.writer(), &log.writer()};
  // Chunks 0..5 of one file, read by three threads in turn; lines numbered
  // in their chunk.
  LineMap lines;
  std::uint64_t first = 1;
  for (std::uint32_t c = 0; c < 6; ++c) {
    lines.add({0, first});
    first += 10;
  }
  w[1]->add(span("a", "a3", 30), 1, 2);   // chunk 1, line 2: line 12 of the file
  w[0]->add(span("a", "a1", 10), 0, 4);   // line 4
  w[2]->add(span("b", "b1", 20), 2, 1);   // line 21
  w[0]->add(span("b", "b2", 21), 3, 9);   // line 39
  w[2]->add(span("a", "a5", 50), 5, 10);  // line 60
  w[1]->add(span("a", "a4", 40), 4, 3);   // line 43
  w[0]->add(span("a", "a2", 20), 0, 7);   // line 7
  log.set_lines(std::move(lines));
  CHECK(log.span_count() == 7);
  const auto traces = traces_of(log);
  REQUIRE(traces.size() == 2);
  CHECK(traces.at("a") == std::vector<std::string>{"a1@0:4", "a2@0:7", "a3@0:12", "a4@0:43", "a5@0:60"});
  CHECK(traces.at("b") == std::vector<std::string>{"b1@0:21", "b2@0:39"});
}

TEST_CASE("span log: thousands of traces in every partition, each once with all its spans") {
  SpanLog log;
  SpanLog::Writer* w[2] = {&log.writer(), &log.writer()};
  std::map<std::string, std::size_t> want;
  std::uint32_t line = 1;
  for (int round = 0; round < 3; ++round)
    for (int t = 0; t < 5000; ++t) {
      const std::string id = "trace-" + std::to_string(t * 7919 % 100003), span_id = "s" + std::to_string(round);
      const SpanRecord r = span(id, span_id, 1000 + round);
      w[t % 2]->add(r, 0, line++);
      ++want[id];
    }
  std::map<std::string, std::size_t> got;
  std::size_t records = 0;
  log.for_each_trace([&](const TraceData& data) {
    got[std::string(data.trace_id)] += data.span_count;
    records += data.record_count;
  });
  CHECK(got == want);
  CHECK(records == 15000);
}

TEST_CASE("span log: a trace met again after thousands of others keeps every span and line") {
  // More traces than a writer remembers: each round's spans name their
  // trace again by id, under a new number; lines go down in round 2.
  SpanLog log;
  SpanLog::Writer& w = log.writer();
  constexpr int kTraces = 20000;
  std::vector<std::string> ids;
  for (int t = 0; t < kTraces; ++t) ids.push_back(t % 2 ? fmt::format("{:032x}", t * 2654435761u) : "t-" + std::to_string(t));
  const std::string span_ids[3] = {"00000000000000a0", "b1", "c2"};
  for (std::uint32_t round = 0; round < 3; ++round)
    for (int k = 0; k < kTraces; ++k) {
      const int t = round == 2 ? kTraces - 1 - k : k;
      w.add(span(ids[t], span_ids[round], round), round, static_cast<std::uint32_t>(t) * 300 + 1);
    }
  const auto traces = traces_of(log);
  REQUIRE(traces.size() == kTraces);
  std::size_t right = 0;
  for (int t = 0; t < kTraces; ++t) {
    const std::string line = std::to_string(t * 300 + 1);
    right += traces.at(ids[t]) == std::vector<std::string>{span_ids[0] + "@0:" + line, span_ids[1] + "@1:" + line,
                                                           span_ids[2] + "@2:" + line};
  }
  CHECK(right == kTraces);
}

TEST_CASE("span log: a trace past --max-trace-spans keeps its first spans in input order") {
  SpanLog log(3);
  SpanLog::Writer* w[2] = {&log.writer(), &log.writer()};
  for (std::uint32_t line = 1; line <= 6; ++line)
    w[line % 2]->add(span("big", "s" + std::to_string(line), line), 7, line);
  w[0]->add(span("small", "x", 1), 7, 7);
  SpanLog::Scratch scratch;
  SpanLog::RefusedSpans refused;
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> kept;  // spans, dropped
  for (std::size_t p = 0; p < SpanLog::kPartitions; ++p)
    log.for_each_trace(p, scratch, refused, [&](const TraceData& d) {
      kept[std::string(d.trace_id)] = {d.span_count, d.dropped};
    });
  CHECK(kept.at("big") == std::pair<std::uint32_t, std::uint32_t>{3, 3});
  CHECK(kept.at("small") == std::pair<std::uint32_t, std::uint32_t>{1, 0});
  CHECK(refused.count == 3);
  refused.trim();
  REQUIRE(refused.first.size() == 3);
  CHECK(refused.first[0].file == 7);
  CHECK(refused.first[0].line == 4);
  CHECK(refused.first[2].line == 6);
  CHECK(refused.first[1].trace_id == "big");

  // Only the earliest are listed; all are counted.
  SpanLog::RefusedSpans few;
  few.keep = 2;
  for (std::uint32_t line = 100; line > 0; --line) few.add({0, line, "t"});
  few.trim();
  CHECK(few.count == 100);
  REQUIRE(few.first.size() == 2);
  CHECK(few.first[0].line == 1);
  CHECK(few.first[1].line == 2);
}
