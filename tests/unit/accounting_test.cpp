// The accounting of every input, through the binary's own wiring: flags
// are parsed by parse_command_line, resolved against this machine
// (detect_environment), and read, analysed and totalled as main() does
// (ingest_options, ingest, analyze, add_refused). Every record ends in
// exactly one bucket: records = spans + duplicates + rejected, where a
// Zipkin fragment folded into a span read before counts as a duplicate.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "analyze/summary.h"
#include "cli/options.h"
#include "read/ingest.h"
#include "report/common.h"
#include "run/run.h"

using namespace ta;
namespace fs = std::filesystem;

namespace {

bool is_span_log(const fs::path& p) {
  const std::string name = p.filename().string();
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (std::string_view suffix : {".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".json", ".json.gz"})
    if (ends_with(suffix)) return true;
  return false;
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

// Cut or corrupted on purpose: reading them ends in a read error.
bool is_damaged(const std::string& file) {
  return (file.find("/bad-gzip-") != std::string::npos && file.find(".gz") != std::string::npos) ||
         (file.find("/bad-zstd-") != std::string::npos && file.find(".zst") != std::string::npos);
}

struct Run {
  InputStats stats;
  Analysis analysis;
};

// A run as the binary makes it from these flags and paths. Two knobs have
// no flag and are set here: the chunk size (to cut lines at every place),
// and no one-thread shortcut for small inputs (so that `threads` threads
// really parse these small files).
Run run(const std::vector<std::string>& paths, const std::vector<std::string>& flags = {}, std::size_t threads = 1,
        std::size_t chunk_bytes = 1 << 20) {
  std::vector<std::string> args{"trace-assemble", "--no-progress", "--threads", std::to_string(threads)};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), paths.begin(), paths.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  CliOptions cli;
  const std::optional<int> stop = parse_command_line(static_cast<int>(args.size()), argv.data(), cli);
  REQUIRE_FALSE(stop.has_value());
  const Resolved resolved = resolve(cli, detect_environment());
  INFO(resolved.error);
  REQUIRE(resolved.config.has_value());
  const Config& config = *resolved.config;
  REQUIRE(config.inputs == paths);
  REQUIRE(config.threads == threads);
  REQUIRE(check_inputs(config.inputs).empty());

  IngestOptions options = ingest_options(config);
  options.chunk_bytes = chunk_bytes;
  options.small_input_bytes = 0;
  Run r;
  SpanLog log(config.max_trace_spans);
  r.stats = ingest(config.inputs, options, log);
  r.analysis = analyze(log, config, r.stats.one_thread ? 1 : config.threads);
  add_refused(r.stats, r.analysis.refused, config.max_trace_spans, options.max_kept_rejections);
  return r;
}

// `lines_are_records`: a line-framed input read as native lines (a span or
// a rejection each), where every non-blank line is one record.
void check_accounting(const Run& r, bool damaged = false, bool lines_are_records = true) {
  const InputStats& s = r.stats;
  const Analysis& a = r.analysis;
  // Damaged inputs stop early with a read error; what was read still adds up.
  CHECK(s.read_errors.empty() != damaged);
  CHECK(a.spans + a.duplicates == s.spans_read);
  CHECK(a.spans + (a.duplicates + s.merged) + s.rejected == s.records());
  if (lines_are_records) CHECK(a.spans + a.duplicates + s.rejected == s.lines);
  // And the line the reports print adds up to the records they count.
  unsigned long long spans = 0, duplicates = 0, rejected = 0;
  const std::string printed = line_accounting(s, a);
  CAPTURE(printed);
  REQUIRE(std::sscanf(printed.c_str(), "%llu spans + %llu duplicates + %llu rejected", &spans, &duplicates,
                      &rejected) == 3);
  CHECK(spans == a.spans);
  CHECK(spans + duplicates + rejected == s.records());
}

bool same_distribution(const Distribution& x, const Distribution& y) {
  return x.count == y.count && x.min == y.min && x.p50 == y.p50 && x.p90 == y.p90 && x.p99 == y.p99 &&
         x.max == y.max;
}

void check_same(const Run& x, const Run& y) {
  CHECK(x.stats.lines == y.stats.lines);
  CHECK(x.stats.records() == y.stats.records());
  CHECK(x.stats.documents == y.stats.documents);
  CHECK(x.stats.spans_read == y.stats.spans_read);
  CHECK(x.stats.merged == y.stats.merged);
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
  REQUIRE(a.edges.listed() == b.edges.listed());
  for (std::size_t i = 0; i < a.edges.listed(); ++i) {
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

TEST_CASE("every record of the sample and golden logs ends in exactly one bucket") {
  const std::vector<std::string> files = span_logs();
  // samples/ ships at least the four-span example.
  REQUIRE_FALSE(files.empty());
  bool any_damaged = false;
  for (const std::string& file : files) {
    CAPTURE(file);
    const bool damaged = is_damaged(file);
    any_damaged |= damaged;
    // Other formats may hold several records on a line, or a whole document.
    const Run first = run({file});
    check_accounting(first, damaged, false);
    CHECK(first.stats.lines > 0);
    CHECK(first.stats.records() > 0);
    // Read as native lines, every non-blank line is one record: a span or a rejection.
    const Run native = run({file}, {"--input-format", "native"});
    check_accounting(native, damaged, native.stats.documents == 0);
    // Parsing twice gives the same result.
    const Run second = run({file});
    check_accounting(second, damaged, false);
    check_same(first, second);
    // And so does parsing on several threads, in chunks of any size.
    for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{333}, std::size_t{50}}) {
      CAPTURE(chunk);
      const Run threaded = run({file}, {}, 3, chunk);
      check_accounting(threaded, damaged, false);
      check_same(first, threaded);
    }
  }
  // All files at once add up too.
  const Run all = run(files);
  check_accounting(all, any_damaged, false);
  check_same(all, run(files, {}, 4));
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
  const std::vector<std::string> flags{"--max-line-bytes", "200"};
  for (const fs::path& p : {plain, gz})
    for (std::size_t threads : {std::size_t{1}, std::size_t{3}})
      for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{40}, std::size_t{3}}) {
        CAPTURE(p);
        CAPTURE(threads);
        CAPTURE(chunk);
        const Run r = run({p.string()}, flags, threads, chunk);
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
        CHECK(r.stats.rejections[2].reason.find("--max-line-bytes 200") != std::string::npos);  // the flag's limit
      }
  // Both files together: the second copy of every span is a duplicate.
  const Run both = run({plain.string(), gz.string()}, flags);
  CHECK(both.stats.lines == 18);
  CHECK(both.stats.rejected == 6);
  CHECK(both.analysis.spans == 4);
  CHECK(both.analysis.duplicates == 8);
  check_accounting(both);
}

TEST_CASE("accounting of other formats: records, not lines, and a merged Zipkin fragment is a duplicate") {
  TempDir dir;
  // A Zipkin v2 array printed across lines (a whole document): a span in two
  // parts (the second merged into the first), a child, a span that is
  // never timed (rejected) and another child.
  const fs::path zipkin = dir.path / "zipkin.json";
  std::ofstream(zipkin, std::ios::binary) << R"([
  {"traceId":"00000000000000a1","id":"0000000000000001","name":"get /","timestamp":1704038400000000,"duration":10000,
   "localEndpoint":{"serviceName":"web"}},
  {"traceId":"00000000000000a1","id":"0000000000000001","annotations":[{"timestamp":1704038400005000,"value":"miss"}]},
  {"traceId":"00000000000000a1","parentId":"0000000000000001","id":"0000000000000002","name":"query","kind":"CLIENT",
   "timestamp":1704038400001000,"duration":5000,"localEndpoint":{"serviceName":"web"}},
  {"traceId":"00000000000000a1","id":"0000000000000003","name":"never timed"},
  {"traceId":"00000000000000a1","parentId":"0000000000000001","id":"0000000000000004","name":"render",
   "timestamp":1704038400007000,"duration":2000,"localEndpoint":{"serviceName":"web"}}
]
)";
  // Lines of several formats: a native span, an OTLP line of two spans, a
  // blank line, the native span again (a duplicate), an OTLP line of one
  // span without a traceId (rejected) and one good span, and a line that is
  // not JSON (rejected): 5 lines, 7 records.
  const fs::path lines = dir.path / "mixed.jsonl";
  std::ofstream(lines, std::ios::binary)
      << R"({"traceId":"n1","spanId":"a","timestamp":"1704038400000","duration":"10","host":"h1"})" "\n"
      << R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},)"
         R"("scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",)"
         R"("name":"checkout","startTimeUnixNano":"1704038400000000000","endTimeUnixNano":"1704038400900000000",)"
         R"("kind":2},{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175",)"
         R"("parentSpanId":"eee19b7ec3c1b174","name":"pay","startTimeUnixNano":"1704038400100000000",)"
         R"("endTimeUnixNano":"1704038400600000000","kind":3}]}]}]})" "\n"
      << "\n"
      << R"({"traceId":"n1","spanId":"a","timestamp":"1704038400000","duration":"10","host":"h1"})" "\n"
      << R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"eee19b7ec3c1b176","name":"lost",)"
         R"("startTimeUnixNano":"1704038400100000000","endTimeUnixNano":"1704038400200000000"},)"
         R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b177",)"
         R"("parentSpanId":"eee19b7ec3c1b174","name":"ship","startTimeUnixNano":"1704038400600000000",)"
         R"("endTimeUnixNano":"1704038400800000000"}]}]}]})" "\n"
      << "not json\n";

  for (std::size_t threads : {std::size_t{1}, std::size_t{3}})
    for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{100}, std::size_t{7}}) {
      CAPTURE(threads);
      CAPTURE(chunk);
      const Run z = run({zipkin.string()}, {}, threads, chunk);
      CHECK(z.stats.documents == 1);
      CHECK(z.stats.records() == 5);  // one per span object
      CHECK(z.stats.spans_read == 3);
      CHECK(z.stats.merged == 1);
      CHECK(z.stats.rejected == 1);
      CHECK(z.analysis.spans == 3);
      CHECK(z.analysis.duplicates == 0);
      CHECK(z.analysis.traces.count == 1);
      check_accounting(z, false, false);
      REQUIRE(z.stats.rejections.size() == 1);
      CHECK(z.stats.rejections[0].line == 7);  // where the object starts

      const Run m = run({lines.string()}, {}, threads, chunk);
      CHECK(m.stats.documents == 0);
      CHECK(m.stats.lines == 5);
      CHECK(m.stats.blank_lines == 1);
      CHECK(m.stats.records() == 7);
      CHECK(m.stats.merged == 0);
      CHECK(m.stats.rejected == 2);
      CHECK(m.analysis.spans == 4);
      CHECK(m.analysis.duplicates == 1);
      CHECK(m.analysis.traces.count == 2);
      check_accounting(m, false, false);
      REQUIRE(m.stats.rejections.size() == 2);
      CHECK(m.stats.rejections[0].line == 5);
      CHECK(m.stats.rejections[1].line == 6);

      // Both at once, and the OTLP trace cut at 2 spans: the span over the
      // limit is refused after reading, and counted as rejected.
      const Run both = run({zipkin.string(), lines.string()}, {"--max-trace-spans", "2"}, threads, chunk);
      CHECK(both.stats.records() == 12);
      CHECK(both.stats.merged == 1);
      CHECK(both.analysis.spans + both.analysis.duplicates == both.stats.spans_read);
      CHECK(both.stats.rejected == 5);  // 3 as read; the third span of a1 and of the OTLP trace
      check_accounting(both, false, false);
    }
}
