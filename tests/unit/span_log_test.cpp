#include <doctest/doctest.h>

#include "test_support.h"

#include <fmt/format.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
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
  TraceJoinNotes joins;
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> kept;  // spans, dropped
  for (std::size_t p = 0; p < SpanLog::kPartitions; ++p)
    log.for_each_trace(p, scratch, refused, joins, [&](const TraceData& d) {
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

namespace {

const std::string kLow = "48485a3953bb6124";
const std::string kLong = "463ac35c9f6413ad" + kLow;

struct Grouped {
  std::map<std::string, std::vector<std::string>> traces;
  std::vector<std::string> notes;
};

Grouped grouped(const SpanLog& log) {
  Grouped out;
  TraceJoinNotes joins;
  log.for_each_trace(joins, [&](const TraceData& data) {
    const Trace t = assemble(data);
    auto& spans = out.traces[std::string(data.trace_id)];
    CHECK(spans.empty());  // a trace comes once
    for (std::uint32_t i = 0; i < t.logged_spans; ++i)
      spans.push_back(std::string(t.span_id(i)) + "@" + std::to_string(t.spans[i].file) + ":" +
                      std::to_string(t.spans[i].line));
  });
  out.notes = joins.lines();
  return out;
}

}  // namespace

TEST_CASE("span log: a 16-hex trace id joins the one 32-hex id that ends in it, across threads and files") {
  SpanLog log;
  SpanLog::Writer* w[3] = {&log.writer(), &log.writer(), &log.writer()};
  w[0]->add(span(kLow, "c", 3), 1, 5);   // file 1
  w[1]->add(span(kLong, "a", 1), 0, 2);  // file 0
  w[2]->add(span(kLow, "b", 2), 0, 9);
  w[1]->add(span(kLong, "d", 4), 1, 1);
  w[0]->add(span("1111111111111111", "x", 1), 0, 3);  // another trace, alone
  w[2]->add(span("2222222222222222" + kLow.substr(0, 8) + "00000000", "y", 1), 0, 4);
  const Grouped g = grouped(log);
  REQUIRE(g.traces.size() == 3);
  CHECK(g.traces.at(kLong) == std::vector<std::string>{"a@0:2", "b@0:9", "d@1:1", "c@1:5"});
  CHECK(g.traces.count("1111111111111111") == 1);
  CHECK(g.notes == std::vector<std::string>{"trace 48485a3953bb6124 (16 hex) joined to "
                                            "463ac35c9f6413ad48485a3953bb6124 (32 hex), whose low 64 bits it is"});
}

TEST_CASE("span log: a 16-hex trace id that several 32-hex ids end in stays apart, said once") {
  SpanLog log;
  SpanLog::Writer& w = log.writer();
  const std::string other = "0000000000000001" + kLow;
  w.add(span(kLow, "a", 1), 0, 1);
  w.add(span(kLong, "b", 1), 0, 2);
  w.add(span(other, "c", 1), 0, 3);
  w.add(span(kLow, "d", 1), 0, 4);
  const Grouped g = grouped(log);
  CHECK(g.traces.size() == 3);
  CHECK(g.traces.at(kLow) == std::vector<std::string>{"a@0:1", "d@0:4"});
  REQUIRE(g.notes.size() == 1);
  CHECK(g.notes[0] == "trace 48485a3953bb6124 (16 hex) not joined: 2 32-hex trace ids end in its low 64 bits "
                      "(000000000000000148485a3953bb6124, 463ac35c9f6413ad48485a3953bb6124)");
}

TEST_CASE("span log: ids are joined as written: a native id's case is kept and must agree") {
  SpanLog log;
  SpanLog::Writer& w = log.writer();
  w.add(span("463AC35C9F6413AD48485A3953BB6124", "a", 1), 0, 1);
  w.add(span("48485A3953BB6124", "b", 1), 0, 2);
  w.add(span("48485a3953bb6124", "c", 1), 0, 3);                  // lower case: another low half
  w.add(span("00000000000000AB48485a3953bb6124", "d", 1), 0, 4);  // mixed case, its low half as "c" writes it
  w.add(span("0000000000000000" + std::string("48485A3953BB6124"), "e", 1), 0, 5);  // zero high half: short
  const Grouped g = grouped(log);
  CHECK(g.traces.size() == 2);
  CHECK(g.traces.at("463AC35C9F6413AD48485A3953BB6124") == std::vector<std::string>{"a@0:1", "b@0:2", "e@0:5"});
  CHECK(g.traces.at("00000000000000AB48485a3953bb6124") == std::vector<std::string>{"c@0:3", "d@0:4"});
  CHECK(g.notes.size() == 3);
}

TEST_CASE("span log: a zero high half is the 16-hex id; lone short ids and distinct long ids stay as they are") {
  SpanLog log;
  SpanLog::Writer& w = log.writer();
  const std::string zero = "0000000000000000" + kLow;
  w.add(span(zero, "a", 1), 0, 1);
  w.add(span(kLow, "b", 1), 0, 2);
  w.add(span("0000000000000000aaaaaaaaaaaaaaaa", "c", 1), 0, 3);
  w.add(span("bbbbbbbbbbbbbbbb", "d", 1), 0, 4);
  w.add(span("1111111111111111cccccccccccccccc", "e", 1), 0, 5);
  w.add(span("2222222222222222cccccccccccccccc", "f", 1), 0, 6);
  const Grouped g = grouped(log);
  CHECK(g.traces.size() == 5);
  CHECK(g.traces.at(zero) == std::vector<std::string>{"a@0:1", "b@0:2"});
  CHECK(g.notes == std::vector<std::string>{"trace 48485a3953bb6124 (16 hex) joined to "
                                            "000000000000000048485a3953bb6124 (32 hex), whose low 64 bits it is"});
}

TEST_CASE("span log: joined traces and their notes do not depend on input order or threads") {
  // 3000 traces: a 32-hex id and its low half each, some with a second
  // 32-hex id; spans dealt to writers in several orders.
  struct Line {
    std::string trace, span;
    std::uint32_t line;
  };
  std::vector<Line> lines;
  std::uint32_t n = 1;
  for (int t = 0; t < 3000; ++t) {
    const std::string low = fmt::format("{:016x}", 0x9e3779b97f4a7c15ull * (t + 1));
    const std::string high = fmt::format("{:016x}", 0xc2b2ae3d27d4eb4full * (t + 7));
    for (int k = 0; k < 3; ++k) lines.push_back({high + low, "l" + std::to_string(k), n++});
    for (int k = 0; k < 2; ++k) lines.push_back({low, "s" + std::to_string(k), n++});
    if (t % 10 == 0) lines.push_back({"0000000000000001" + low, "o", n++});
  }
  Grouped first;
  for (int round = 0; round < 3; ++round) {
    SpanLog log;
    SpanLog::Writer* w[3] = {&log.writer(), &log.writer(), &log.writer()};
    std::vector<Line> order = lines;
    if (round == 1) std::reverse(order.begin(), order.end());
    if (round == 2)
      for (std::size_t i = 0; i < order.size(); ++i) std::swap(order[i], order[(i * 7919) % order.size()]);
    for (std::size_t i = 0; i < order.size(); ++i)
      w[(i + static_cast<std::size_t>(round)) % 3]->add(span(order[i].trace, order[i].span, 1), 0, order[i].line);
    Grouped g = grouped(log);
    if (round == 0) {
      CHECK(g.traces.size() == 3000 + 300 * 2);  // the 300 with two 32-hex ids leave their 16-hex id apart
      CHECK(g.notes.size() == 21);                // 20 listed, then how many more
      CHECK(g.notes.back() == "2980 more trace ids joined, or left apart, by their low 64 bits (not listed)");
      std::size_t joined = 0;
      for (const auto& [id, spans] : g.traces) joined += spans.size() == 5;
      CHECK(joined == 2700);
      first = std::move(g);
    } else {
      CHECK(g.traces == first.traces);
      CHECK(g.notes == first.notes);
    }
  }
}

TEST_CASE("span log: a joined trace counts against --max-trace-spans as one") {
  SpanLog log(3);
  SpanLog::Writer& w = log.writer();
  for (std::uint32_t line = 1; line <= 4; ++line)
    w.add(span(line % 2 ? kLow : kLong, "s" + std::to_string(line), line), 0, line);
  SpanLog::Scratch scratch;
  SpanLog::RefusedSpans refused;
  TraceJoinNotes joins;
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> kept;  // spans, dropped
  for (std::size_t p = 0; p < SpanLog::kPartitions; ++p)
    log.for_each_trace(p, scratch, refused, joins, [&](const TraceData& d) {
      kept[std::string(d.trace_id)] = {d.span_count, d.dropped};
    });
  CHECK(kept.size() == 1);
  CHECK(kept.at(kLong) == std::pair<std::uint32_t, std::uint32_t>{3, 1});
  REQUIRE(refused.first.size() == 1);
  CHECK(refused.first[0].line == 4);
  CHECK(refused.first[0].trace_id == kLong);
  CHECK(joins.count == 1);
}

TEST_CASE("span log: the spans of one line (a document's) keep their order when a trace's spans are sorted") {
  SpanLog log;
  SpanLog::Writer* w[2] = {&log.writer(), &log.writer()};
  w[1]->add(span("t", "first", 1), 0, 1);
  std::vector<std::string> want = {"first@0:1", "second@0:2"};
  for (int i = 0; i < 200; ++i) {
    const std::string id = "d" + std::to_string(i);
    w[0]->add(span("t", id, 2), 1, 1);  // all on line 1 of file 1
    want.push_back(id + "@1:1");
  }
  w[1]->add(span("t", "second", 3), 0, 2);
  CHECK(traces_of(log).at("t") == want);
}

namespace {
// Pages of [p, p + bytes) resident now.
std::size_t resident_pages(const void* p, std::size_t bytes) {
  std::vector<unsigned char> in(bytes / 4096);
  REQUIRE(::mincore(const_cast<void*>(p), bytes, in.data()) == 0);
  return static_cast<std::size_t>(std::count_if(in.begin(), in.end(), [](unsigned char c) { return c & 1; }));
}
}  // namespace

TEST_CASE("slab allocator: a slab is resident only a step past what was handed out, and given back whole") {
  SlabAllocator slabs;
  std::uint8_t* first = slabs.allocate(1000);
  std::uint8_t* last = first;
  for (int i = 0; i < 99; ++i) {
    std::uint8_t* p = slabs.allocate(1000);
    CHECK(p == last + 1008);  // in order, 16-byte aligned
    last = p;
  }
  std::memset(first, 0x5a, static_cast<std::size_t>(last + 1000 - first));
  // 100 KB handed out, made resident a step past it (64 KiB, doubling each
  // time, so at most twice what is handed out); the rest of the slab
  // (32 MiB) is address space only.
  const std::size_t pages = resident_pages(first, std::size_t{32} << 20);
  CHECK(pages >= 25);
  CHECK(pages <= (2 * 100'800 + (64 << 10)) / 4096 + 2);
  // What it counts as resident is (a populate the kernel refused, as on an
  // interrupt, leaves the pages to be faulted in as written).
  CHECK(pages * 4096 <= slabs.ready_bytes());
  CHECK(slabs.ready_bytes() <= (2 * 100'800 + (64 << 10)) + 2 * 4096);
  // Steps stop growing at 256 KiB: 8 MB more are resident as used.
  for (int i = 0; i < 8000; ++i) slabs.allocate(1000);
  CHECK(resident_pages(first, std::size_t{32} << 20) <= (8'100'000 + (256 << 10)) / 4096 + 2);
  // Past a slab's end: a new one; a block larger than a slab gets its own.
  std::uint8_t* big = slabs.allocate(std::size_t{40} << 20);
  big[(std::size_t{40} << 20) - 1] = 1;
  slabs.release();
  std::vector<unsigned char> in(1);
  CHECK(::mincore(first, 4096, in.data()) != 0);  // unmapped
  CHECK(::mincore(big, 4096, in.data()) != 0);
}

TEST_CASE("span log: a stripe's memory is given back once the analysis is done with its partitions") {
  // Traces in every partition, about 15 MB of records (labels are interned:
  // ids, times and lines), two writers.
  SpanLog log;
  SpanLog::Writer* w[2] = {&log.writer(), &log.writer()};
  std::map<std::string, std::size_t> want;
  std::uint32_t line = 1;
  std::vector<std::string> ids;
  for (int t = 0; t < 40000; ++t) ids.push_back(fmt::format("{:016x}", 0x9e3779b97f4a7c15ull * (t + 1)));
  for (int round = 0; round < 6; ++round)
    for (int t = 0; t < 40000; ++t) {
      const std::string span_id = fmt::format("{:08x}", round * 40000 + t);
      SpanRecord r = span(ids[t], span_id, 1000 + round);
      w[t % 2]->add(r, 0, line++);
      ++want[ids[t]];
    }
  const std::size_t before = log.held_bytes();
  CHECK(before >= (12u << 20));
  std::map<std::string, std::size_t> got;
  SpanLog::Scratch scratch;
  SpanLog::RefusedSpans refused;
  TraceJoinNotes joins;
  std::size_t after_half = 0;
  // In the order the analysis takes them; each partition's traces are read
  // whole while the stripes before it are gone.
  for (std::size_t p = 0; p < SpanLog::kPartitions; ++p) {
    log.for_each_trace(p, scratch, refused, joins, [&](const TraceData& data) {
      const Trace t = assemble(data);
      got[std::string(data.trace_id)] += t.logged_spans;
    });
    log.partition_done(p);
    if (p == SpanLog::kPartitions / 2 - 1) after_half = log.held_bytes();
  }
  CHECK(got == want);
  CHECK(refused.count == 0);
  // Traces spread evenly: half the stripes gone gave back about half.
  CHECK(after_half > before * 2 / 5);
  CHECK(after_half < before * 3 / 5);
  CHECK(log.held_bytes() == 0);
  log.clear();  // with every stripe given back already
}
