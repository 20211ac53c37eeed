// Glue between the pipeline stages that main() calls one by one.
#pragma once

#include "analyze/summary.h"
#include "cli/options.h"
#include "read/ingest.h"
#include "util/exit_code.h"

namespace ta {

Environment detect_environment();
IngestOptions ingest_options(const Config& config);
// Warnings about input lines on stderr, "FILE:LINE: reason": the first
// --max-warnings of them, then how many more were not shown. Both drivers
// warn through one: batch once the input is read, live as lines come.
class Warnings {
 public:
  explicit Warnings(const Config& config) : max_(config.max_warnings) {}
  void line(const InputStats& input, std::uint32_t file, std::uint64_t line, std::string_view reason);
  // Warned of without a listing (rejections past those kept).
  void unlisted(std::uint64_t count) { count_ += count; }
  // "N more warnings not shown", once at the end, when any were held back.
  void finish();

 private:
  std::size_t max_;
  std::uint64_t count_ = 0;
};

// A rejected record: counted, listed among the first IngestOptions::
// max_kept_rejections, and warned of (live mode, which rejects as it goes).
void reject(InputStats& input, Warnings& warnings, Rejection rejection);

// Batch, once the input is read: rejected lines, read errors, then what
// report_end says.
void report_problems(const InputStats& input, const Analysis& analysis, const Config& config);
// What both drivers say at the end: the memory limit, --trace ids not
// found, notes about the input, and why nothing was read.
void report_end(const InputStats& input, const Analysis& analysis, const Config& config);
// Non-empty input that gave no span at all: not a success (exit 1), and
// the reason says what the input looked like and why nothing was read.
bool nothing_read(const InputStats& input);
// Spans --max-memory left out of the analysis are rejected records: the
// report's counts still add up.
void count_unanalysed(InputStats& input, const MemoryShortfall& shortfall);
// Why --max-memory left traces out of the analysis, and what to do.
std::string memory_shortfall_message(const MemoryShortfall& shortfall, std::uint64_t limit);
std::string nothing_read_reason(const InputStats& input);
ExitCode exit_code(const InputStats& input, const Analysis& analysis, const Config& config);

}  // namespace ta
