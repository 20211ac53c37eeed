#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "read/ingest.h"

using namespace ta;

namespace {

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
  ShardedStore store(1);
  const InputStats stats = ingest({path}, options, store);
  CHECK(stats.memory_limit_hit);
  CHECK(stats.lines > 0);
  CHECK(stats.lines < 400);
  CHECK(stats.spans_read + stats.rejected == stats.lines);
  CHECK(store.trace_count() == stats.spans_read);

  options.max_memory = 0;  // no limit: everything is read
  ShardedStore all(1);
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
  IngestOptions options;
  options.max_trace_spans = 3;
  ShardedStore store(1, 3);
  const InputStats stats = ingest({path}, options, store);
  CHECK(stats.lines == 5);
  CHECK(stats.spans_read == 3);
  CHECK(stats.rejected == 2);
  REQUIRE(stats.rejections.size() == 2);
  CHECK(stats.rejections[0].line == 4);
  CHECK(stats.rejections[0].reason.find("--max-trace-spans 3") != std::string::npos);
  const TraceData* t = store.find("big");
  REQUIRE(t != nullptr);
  CHECK(t->span_count == 3);
  CHECK(t->dropped == 2);
  std::remove(path.c_str());
}
