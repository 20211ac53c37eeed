#include <doctest/doctest.h>
#include <sys/stat.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "analyze/summary.h"
#include "read/ingest.h"

using namespace ta;

namespace {

std::size_t trace_count(const SpanLog& log) {
  std::size_t n = 0;
  log.for_each_trace([&](const TraceData&) { ++n; });
  return n;
}

std::string write_log(const std::string& name, int lines) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream out(path);
  for (int i = 0; i < lines; ++i)
    out << R"({"traceId":"t)" << i << R"(","spanId":"s","timestamp":1704038400000,"duration":5,"host":"h"})" << '\n';
  return path;
}

}  // namespace

TEST_CASE("--max-memory stops reading, and what was read still adds up") {
  const std::string path = write_log("ta_ingest_memory.jsonl", 400);
  IngestOptions options;
  options.chunk_bytes = 256;  // many chunks: the limit is checked every 8
  options.max_memory = 1;     // any process is over one byte
  SpanLog store;
  const InputStats stats = ingest({path}, options, store);
  CHECK(stats.memory_limit_hit);
  CHECK(stats.lines > 0);
  CHECK(stats.lines < 400);
  CHECK(stats.spans_read + stats.rejected == stats.lines);
  CHECK(trace_count(store) == stats.spans_read);

  options.max_memory = 0;  // no limit: everything is read
  SpanLog all;
  const InputStats full = ingest({path}, options, all);
  CHECK_FALSE(full.memory_limit_hit);
  CHECK(full.lines == 400);
  std::remove(path.c_str());
}

TEST_CASE("--max-trace-spans rejects the spans over it, counted, and marks the trace") {
  const std::string path = (std::filesystem::temp_directory_path() / "ta_ingest_limit.jsonl").string();
  {
    std::ofstream out(path);
    for (int i = 0; i < 5; ++i)
      out << R"({"traceId":"big","spanId":"s)" << i << R"(","timestamp":1704038400000,"duration":5})" << '\n';
  }
  for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    CAPTURE(threads);
    IngestOptions options;
    options.threads = threads;
    options.small_input_bytes = 0;
    options.chunk_bytes = 100;  // a line or two a chunk: the trace's spans come from both threads
    SpanLog log(3);
    InputStats stats = ingest({path}, options, log);
    CHECK(stats.lines == 5);
    CHECK(stats.spans_read == 5);
    std::uint32_t kept = 0, dropped = 0;
    log.for_each_trace([&](const TraceData& t) {
      kept += t.span_count;
      dropped += t.dropped;
    });
    CHECK(kept == 3);
    CHECK(dropped == 2);
    const Analysis a = analyze(log, Config{}, threads);
    CHECK(a.spans == 3);
    CHECK(a.anomaly_counts[static_cast<std::size_t>(AnomalyKind::kTruncated)] == 1);
    add_refused(stats, a.refused, 3, 1000);
    CHECK(stats.spans_read == 3);
    CHECK(stats.rejected == 2);
    REQUIRE(stats.rejections.size() == 2);
    // The first three lines are kept, whichever thread read them.
    CHECK(stats.rejections[0].line == 4);
    CHECK(stats.rejections[1].line == 5);
    CHECK(stats.rejections[0].reason.find("--max-trace-spans 3") != std::string::npos);
  }
  std::remove(path.c_str());
}

TEST_CASE("a stream is read on one thread until small_input_bytes of it have come, with the same result") {
  // A FIFO: not a regular file, so its size is known only at its end.
  const std::string fifo = (std::filesystem::temp_directory_path() / "ta_ingest_stream.fifo").string();
  std::remove(fifo.c_str());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += R"({"traceId":"t)" + std::to_string(i % 40) + R"(","spanId":"s)" + std::to_string(i) +
            R"(","timestamp":1704038400000,"duration":5,"host":"h"})" + "\n";
  text += "not json\n";
  auto read_fifo = [&](std::uint64_t small_input_bytes) {
    std::thread writer([&] {
      std::ofstream out(fifo, std::ios::binary);
      out << text;
    });
    IngestOptions options;
    options.threads = 2;
    options.chunk_bytes = 512;  // many chunks
    options.small_input_bytes = small_input_bytes;
    SpanLog log;
    InputStats stats = ingest({fifo}, options, log);
    writer.join();
    const Analysis a = analyze(log, Config{}, stats.one_thread ? 1 : 2);
    return std::make_pair(stats, a.traces.count);
  };
  const auto [whole, whole_traces] = read_fifo(1u << 20);  // ends before: one thread
  const auto [split, split_traces] = read_fifo(2000);      // a few chunks on this thread, then the pool
  const auto [pooled, pooled_traces] = read_fifo(0);       // the pool from the start
  CHECK(whole.one_thread);
  CHECK_FALSE(split.one_thread);
  CHECK_FALSE(pooled.one_thread);
  for (const InputStats* s : {&whole, &split, &pooled}) {
    CHECK(s->lines == 301);
    CHECK(s->spans_read == 300);
    CHECK(s->rejected == 1);
    REQUIRE(s->rejections.size() == 1);
    CHECK(s->rejections[0].line == 301);
  }
  CHECK(whole_traces == 40);
  CHECK(split_traces == 40);
  CHECK(pooled_traces == 40);
  std::remove(fifo.c_str());
}

namespace {

// What parse_chunk gave, one entry a record: "line: span trace/span",
// "line: rejected", "line: merged".
struct ListOut {
  std::vector<std::string> got;
  void on_span(const SpanRecord& r, std::uint64_t line) {
    got.push_back(std::to_string(line) + ": span " + std::string(r.trace_id) + "/" + std::string(r.span_id));
  }
  void on_reject(std::uint64_t line, std::string) { got.push_back(std::to_string(line) + ": rejected"); }
  void on_merged(std::uint64_t line) { got.push_back(std::to_string(line) + ": merged"); }
  void on_note(std::string) {}
};

std::vector<std::string> chunk_records(const std::string& text, bool fast_path, std::uint64_t& lines,
                                       std::uint64_t& blank) {
  std::string buf = text;
  buf.resize(text.size() + simdjson::SIMDJSON_PADDING, '\0');
  LineChunk chunk;
  chunk.data = buf.data();
  chunk.size = text.size();
  chunk.capacity = buf.size();
  chunk.first_line = 1;
  ParseOptions options;
  options.fast_path = fast_path;
  FormatReader reader(InputFormat::kAuto, options);
  SpanRecord record;
  ListOut out;
  lines = blank = 0;
  parse_chunk(chunk, reader, record, 200, 0, lines, blank, out);
  return out.got;
}

}  // namespace

TEST_CASE("lines read in place end at their own newline, as lines found first do") {
  const std::string long_id(190, 'a');
  const std::string text =
      "{\"traceId\":\"t\",\"timestamp\":1,\"duration\":1,\"spanId\":\"a\"}\n"                         // 1: taken in place
      "{\"traceId\":\"t\",\"timestamp\":1,\"duration\":1,\"spanId\":\"b\"}  \r\n"                     // 2: spaces and CRLF after it
      "\n"                                                              // 3: blank
      "\xEF\xBB\xBF{\"traceId\":\"t\",\"timestamp\":1,\"duration\":1,\"spanId\":\"c\"}\n"             // 4: a BOM
      "{\"traceId\":\"t\",\n"                                           // 5: an object cut by a newline...
      "\"timestamp\":1,\"duration\":1,\"spanId\":\"d\"}\n"                                             // 6: ...is two rejected lines
      "{\"traceId\":\"t\",\"timestamp\":1,\"duration\":1,\"spanId\":\"e\"} x\n"                       // 7: text after the object
      "{\"traceId\":\"t\",\"timestamp\":1,\"duration\":1,\"spanId\":\"f\"}{\"traceId\":\"t\",\"timestamp\":1,\"duration\":1,\"spanId\":\"g\"}\n"  // 8: two objects
      "{\"traceId\":\"t\",\"timestamp\":1,\"duration\":1,\"spanId\":\"" + long_id + "\"}\n"           // 9: longer than 200 bytes
      "{\"traceId\": \"t\" , \"spanId\" :\"h\",\"timestamp\":1,\"duration\":1,\"requestStacks\":[{\"subSpanId\":\"i\"}]}\n"  // 10
      "{\"traceId\":\"t\",\"timestamp\":1,\"duration\":1,\"spanId\":\"j\"}";                           // 11: no newline at the end
  const std::vector<std::string> expected = {
      "1: span t/a", "2: span t/b", "4: span t/c", "5: rejected", "6: rejected", "7: rejected",
      "8: rejected", "9: rejected", "10: span t/h", "11: span t/j"};
  std::uint64_t lines = 0, blank = 0;
  CHECK(chunk_records(text, true, lines, blank) == expected);
  CHECK(lines == 10);
  CHECK(blank == 1);
  // The careful reading alone, each line found first, agrees.
  CHECK(chunk_records(text, false, lines, blank) == expected);
  CHECK(lines == 10);
  CHECK(blank == 1);
}
