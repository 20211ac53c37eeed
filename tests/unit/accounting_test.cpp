#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "analyze/summary.h"
#include "read/ingest.h"

using namespace ta;
namespace fs = std::filesystem;

namespace {

bool is_span_log(const fs::path& p) {
  const std::string name = p.filename().string();
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(".jsonl") || ends_with(".jsonl.gz");
}

std::vector<std::string> span_logs() {
  std::vector<std::string> out;
  for (const char* dir : {"samples", "tests/golden"}) {
    const fs::path root = fs::path(TA_SOURCE_DIR) / dir;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) continue;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_regular_file(ec) && is_span_log(it->path())) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Run {
  InputStats stats;
  Analysis analysis;
};

Run run(const std::vector<std::string>& paths, const Config& config = Config{}, std::size_t threads = 1,
        std::size_t chunk_bytes = 1 << 20) {
  Run r;
  SpanLog store;
  IngestOptions options;
  options.threads = threads;
  options.chunk_bytes = chunk_bytes;
  options.small_input_bytes = 0;  // several threads even for these small files
  options.parse.time_unit = config.time_unit;
  options.parse.group_field = config.group_field;
  options.max_line_bytes = config.max_line_bytes;
  r.stats = ingest(paths, options, store);
  r.analysis = analyze(store, config, threads);
  return r;
}

void check_accounting(const Run& r, bool damaged = false) {
  const Analysis& a = r.analysis;
  // Damaged gzip inputs stop early with a read error; what was read still adds up.
  CHECK(r.stats.read_errors.empty() != damaged);
  CHECK(a.spans + a.duplicates + r.stats.rejected == r.stats.lines);
  CHECK(a.spans + a.duplicates == r.stats.spans_read);
}

bool same_distribution(const Distribution& x, const Distribution& y) {
  return x.count == y.count && x.min == y.min && x.p50 == y.p50 && x.p90 == y.p90 && x.p99 == y.p99 &&
         x.max == y.max;
}

void check_same(const Run& x, const Run& y) {
  CHECK(x.stats.lines == y.stats.lines);
  CHECK(x.stats.blank_lines == y.stats.blank_lines);
  CHECK(x.stats.rejected == y.stats.rejected);
  CHECK(x.stats.bytes == y.stats.bytes);
  const Analysis& a = x.analysis;
  const Analysis& b = y.analysis;
  CHECK(a.spans == b.spans);
  CHECK(a.duplicates == b.duplicates);
  CHECK(a.inferred == b.inferred);
  CHECK(a.anomalies == b.anomalies);
  CHECK(a.anomaly_counts == b.anomaly_counts);
  CHECK(a.traces.count == b.traces.count);
  CHECK(a.traces.latency_total == b.traces.latency_total);
  CHECK(same_distribution(a.traces.latency, b.traces.latency));
  REQUIRE(a.groups.size() == b.groups.size());
  for (std::size_t i = 0; i < a.groups.size(); ++i) {
    CHECK(a.groups[i].name == b.groups[i].name);
    CHECK(a.groups[i].spans == b.groups[i].spans);
    CHECK(a.groups[i].errors == b.groups[i].errors);
    CHECK(a.groups[i].self_total == b.groups[i].self_total);
    CHECK(a.groups[i].critical_total == b.groups[i].critical_total);
    CHECK(same_distribution(a.groups[i].duration, b.groups[i].duration));
  }
  REQUIRE(a.edges.size() == b.edges.size());
  for (std::size_t i = 0; i < a.edges.size(); ++i) {
    CHECK(a.edges[i].caller == b.edges[i].caller);
    CHECK(a.edges[i].callee == b.edges[i].callee);
    CHECK(a.edges[i].calls == b.edges[i].calls);
  }
  REQUIRE(a.shown.size() == b.shown.size());
  for (std::size_t i = 0; i < a.shown.size(); ++i) {
    CHECK(a.shown[i].trace.trace_id == b.shown[i].trace.trace_id);
    CHECK(a.shown[i].path.size() == b.shown[i].path.size());
  }
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ta-accounting-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("every line of the sample and golden logs ends in exactly one bucket") {
  const std::vector<std::string> files = span_logs();
  // samples/ ships at least the four-span example.
  REQUIRE_FALSE(files.empty());
  bool any_damaged = false;
  for (const std::string& file : files) {
    CAPTURE(file);
    const bool damaged = file.find("/bad-gzip-") != std::string::npos && file.find(".gz") != std::string::npos;  // cut or corrupted on purpose
    any_damaged |= damaged;
    const Run first = run({file});
    check_accounting(first, damaged);
    CHECK(first.stats.lines > 0);
    // Parsing twice gives the same result.
    const Run second = run({file});
    check_accounting(second, damaged);
    check_same(first, second);
    // And so does parsing on several threads, in chunks of any size.
    for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{333}, std::size_t{50}}) {
      CAPTURE(chunk);
      const Run threaded = run({file}, Config{}, 3, chunk);
      check_accounting(threaded, damaged);
      check_same(first, threaded);
    }
  }
  // All files at once add up too.
  const Run all = run(files);
  check_accounting(all, any_damaged);
  check_same(all, run(files, Config{}, 4));
}

TEST_CASE("the four-span sample: 4 lines, 4 spans") {
  const std::string file = (fs::path(TA_SOURCE_DIR) / "samples" / "four-spans.jsonl").string();
  if (!fs::exists(file)) return;
  const Run r = run({file});
  CHECK(r.stats.lines == 4);
  CHECK(r.stats.rejected == 0);
  CHECK(r.analysis.spans == 4);
  CHECK(r.analysis.duplicates == 0);
  CHECK(r.analysis.traces.count == 1);
  CHECK(r.analysis.traces.latency.max == 100'000'000);
}

TEST_CASE("accounting on a hand-made log: spans, duplicates, rejected, blank") {
  TempDir dir;
  const std::string good1 = R"({"traceId":"t","spanId":"a","timestamp":"1704038400000","duration":"10"})";
  const std::string good2 = R"({"traceId":"t","spanId":"b","parentSpanId":"a","timestamp":"1704038400001","duration":"5"})";
  const std::string good3 = R"({"traceId":"u","spanId":"a","timestamp":"1704038400000","duration":"7"})";
  const std::string other_b = R"({"traceId":"t","spanId":"b","parentSpanId":"a","timestamp":"1704038400002","duration":"5"})";
  std::string text;
  text += good1 + "\n";
  text += good2 + "\n";
  text += "\n";                        // blank: not a line of the accounting
  text += "not json\n";                // rejected
  text += good1 + "\r\n";              // the same line again, CRLF: duplicate
  text += R"({"traceId":"t"})" "\n";  // rejected
  text += good3 + "\n";
  text += other_b + "\n";              // same spanId, different line: a span
  text += std::string(300, 'x') + "\n";  // oversized: rejected
  text += good2;                       // duplicate, no final newline
  const fs::path plain = dir.path / "a.jsonl";
  std::ofstream(plain, std::ios::binary) << text;
  const fs::path gz = dir.path / "b.jsonl.gz";
  {
    gzFile f = gzopen(gz.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
    REQUIRE(gzclose(f) == Z_OK);
  }
  Config config;
  config.max_line_bytes = 200;
  for (const fs::path& p : {plain, gz})
    for (std::size_t threads : {std::size_t{1}, std::size_t{3}})
      for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{40}, std::size_t{3}}) {
        CAPTURE(p);
        CAPTURE(threads);
        CAPTURE(chunk);
        const Run r = run({p.string()}, config, threads, chunk);
        CHECK(r.stats.lines == 9);  // 10 lines, one of them blank
        CHECK(r.stats.blank_lines == 1);
        CHECK(r.stats.rejected == 3);
        CHECK(r.analysis.spans == 4);
        CHECK(r.analysis.duplicates == 2);
        CHECK(r.analysis.traces.count == 2);
        check_accounting(r);
        REQUIRE(r.stats.rejections.size() == 3);
        CHECK(r.stats.rejections[0].line == 4);
        CHECK(r.stats.rejections[1].line == 6);
        CHECK(r.stats.rejections[2].line == 9);
      }
  // Both files together: the second copy of every span is a duplicate.
  const Run both = run({plain.string(), gz.string()}, config);
  CHECK(both.stats.lines == 18);
  CHECK(both.stats.rejected == 6);
  CHECK(both.analysis.spans == 4);
  CHECK(both.analysis.duplicates == 8);
  check_accounting(both);
}
