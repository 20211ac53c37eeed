#include "run/run.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <algorithm>
#include <cstdio>
#include <thread>

#include "util/format.h"
#include "util/messages.h"

namespace ta {

Environment detect_environment() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return Environment{::isatty(STDIN_FILENO) != 0, ::isatty(STDOUT_FILENO) != 0, ::isatty(STDERR_FILENO) != 0,
                     std::thread::hardware_concurrency(),
                     pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0};
}

IngestOptions ingest_options(const Config& config) {
  IngestOptions o;
  o.parse.time_unit = config.time_unit;
  if (config.group == GroupKey::kField) o.parse.group_field = config.group_field;
  o.max_line_bytes = config.max_line_bytes;
  o.line_limit_memory = config.line_limit_memory;
  o.input_format = config.input_format;
  o.max_document_bytes = config.max_document_bytes;
  o.threads = config.threads;
  o.max_memory = config.max_memory;
  if (config.progress) {
    const auto start = std::chrono::steady_clock::now();
    o.on_progress = [start](std::uint64_t bytes, std::uint64_t spans) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double mib = secs > 0 ? static_cast<double>(bytes) / secs / (1 << 20) : 0;
      const double per_second = secs > 0 ? static_cast<double>(spans) / secs : 0;
      print_raw(fmt::format("\rtrace-assemble: read {} ({:.0f} MiB/s), {} spans ({:.0f}/s)\x1b[K", human_bytes(bytes),
                            mib, spans, per_second));
    };
  }
  return o;
}

void Warnings::line(const InputStats& input, std::uint32_t file, std::uint64_t line, std::string_view reason) {
  if (count_++ < max_)
    print_warning(fmt::format("{}:{}: {}", file < input.files.size() ? input.files[file] : "", line, reason));
}

void Warnings::finish() {
  if (count_ > max_ && max_ > 0)
    print_warning(fmt::format("{} more warnings not shown (all are counted; see --max-warnings, --format json)",
                              count_ - max_));
}

void reject(InputStats& input, Warnings& warnings, Rejection r) {
  ++input.rejected;
  warnings.line(input, r.file, r.line, r.reason);
  if (input.rejections.size() < IngestOptions{}.max_kept_rejections) input.rejections.push_back(std::move(r));
}

void report_problems(const InputStats& in, const Analysis& a, const Config& config) {
  if (config.progress && in.bytes >= (64u << 20)) print_raw("\r\x1b[K");
  Warnings warnings(config);
  for (const Rejection& r : in.rejections) warnings.line(in, r.file, r.line, r.reason);
  warnings.unlisted(in.rejected - in.rejections.size());
  warnings.finish();
  for (const std::string& e : in.read_errors) print_error(e);
  report_end(in, a, config);
}

void report_end(const InputStats& in, const Analysis& a, const Config& config) {
  if (in.memory_limit_hit)
    print_error(fmt::format("--max-memory {}: reading stopped at {} resident (the rest is left for the analysis) "
                            "after reading {}; the report covers the lines read so far (raise --max-memory, or split "
                            "the input)",
                            human_bytes(config.max_memory), human_bytes(ingest_options(config).read_memory()),
                            human_bytes(in.bytes)));
  if (a.memory.hit()) print_error(memory_shortfall_message(a.memory, config.max_memory));
  for (const std::string& id : a.missing_trace_ids) print_warning(fmt::format("--trace {}: no such trace in the input", id));
  for (const std::string& note : in.notes) print_note(note);
  if (nothing_read(in)) print_error(nothing_read_reason(in));
}

void count_unanalysed(InputStats& in, const MemoryShortfall& m) {
  in.rejected += m.spans;
  in.spans_read -= std::min(in.spans_read, m.spans);
}

std::string memory_shortfall_message(const MemoryShortfall& m, std::uint64_t limit) {
  std::string what;
  if (m.stopped) {
    what = fmt::format("analysis stopped there, and {} read were not analysed", plural(m.spans, "span"));
  } else {
    what = fmt::format("{} of {} not analysed, each too large for the memory left (the largest: {}, {}, about {} "
                       "to assemble)",
                       plural(m.traces, "trace"), plural(m.spans, "span"), m.largest_id,
                       plural(m.largest_spans, "span"), human_bytes(m.largest_need));
  }
  return fmt::format("--max-memory {} reached in analysis: {}; the report covers the other traces only (raise "
                     "--max-memory, lower --max-trace-spans, or split the input)",
                     human_bytes(limit), what);
}

bool nothing_read(const InputStats& in) {
  return in.bytes > 0 && in.spans_read == 0 && in.read_errors.empty() && !in.memory_limit_hit;
}

std::string nothing_read_reason(const InputStats& in) {
  if (in.records() == 0)
    return in.documents > 0 || in.lines > 0 ? "no span was read: the input's JSON holds no span objects (empty lists)"
                                            : "no span was read: the input holds only blank lines";
  const char* looked = in.documents > 0 ? "a whole JSON document (an array, or JSON printed across lines)" : "one record per line";
  std::string first;
  if (!in.rejections.empty()) {
    const Rejection& r = in.rejections.front();
    first = fmt::format("; the first: {}:{}: {}", r.file < in.files.size() ? in.files[r.file] : "", r.line, r.reason);
  }
  return fmt::format("no span was read: the input looks like {}, but {} rejected{} (see README, Input)", looked,
                     in.rejected == 1 ? "its one record was" : fmt::format("all {} records were", in.rejected), first);
}

ExitCode exit_code(const InputStats& in, const Analysis& a, const Config& config) {
  if (!in.read_errors.empty() || in.memory_limit_hit || a.memory.hit()) return ExitCode::kUsage;
  if (!a.missing_trace_ids.empty() || nothing_read(in)) return ExitCode::kCheckFailed;
  if (config.strict && (in.rejected > 0 || a.anomalies > 0)) return ExitCode::kCheckFailed;
  return ExitCode::kOk;
}

}  // namespace ta
