// Command line in two stages: CLI11 fills CliOptions with what the user
// typed; resolve() checks it and turns it into the run's Config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parse/formats/detect.h"
#include "parse/time_value.h"

namespace ta {

struct CliOptions {
  std::vector<std::string> inputs;
  std::string format = "text";
  std::size_t top = 10;
  bool all_traces = false;
  std::vector<std::string> trace_ids;
  std::string time_unit = "auto";
  std::string group_by;
  std::string color = "auto";
  bool strict = false;
  std::string max_line_bytes = "64MiB";
  std::string input_format = "auto";
  std::string max_document_bytes = "1GiB";
  std::size_t max_warnings = 20;
  bool quiet = false;
  bool no_progress = false;
  std::size_t threads = 0;  // 0: all cores
  std::size_t max_trace_spans = 10'000'000;
  std::string max_memory;  // "": a share of the machine's memory
  bool adjust_skew = false;
  bool follow = false;
  std::string window = "30s";
  std::size_t max_open_traces = 50'000;
  std::size_t max_labels = 50'000;
};

enum class Format { kText, kJson, kMarkdown };
enum class GroupKey { kHost, kService, kOperation, kField, kDefault };

struct Config {
  std::vector<std::string> inputs;  // "-" is stdin
  Format format = Format::kText;
  std::size_t top = 10;
  bool all_traces = false;
  std::vector<std::string> trace_ids;
  TimeUnit time_unit = TimeUnit::kAuto;
  GroupKey group = GroupKey::kDefault;  // kDefault: service when present, else host
  std::string group_field;              // for GroupKey::kField
  bool color = false;
  bool strict = false;
  std::size_t max_line_bytes = 64u << 20;
  std::uint64_t line_limit_memory = 0;  // the --max-memory that lowered max_line_bytes, else 0
  InputFormat input_format = InputFormat::kAuto;  // kAuto: judged from each line or document
  std::uint64_t max_document_bytes = 1ull << 30;
  std::size_t max_warnings = 20;
  bool progress = false;
  std::size_t threads = 1;
  std::size_t max_trace_spans = 10'000'000;
  std::uint64_t max_memory = 0;  // bytes of resident memory before reading stops
  bool adjust_skew = false;
  // Live mode (--follow): emit each trace as it completes.
  bool follow = false;
  std::int64_t window = 30'000'000'000;  // ns of log time behind the latest timestamp
  std::size_t max_open_traces = 50'000;
  std::size_t max_labels = 50'000;  // distinct hosts, services, operations (and pairs of them) tallied
  // Not options: a batch run's caller -> callee table is listed once it has
  // tallied list_pairs_from calls, more than half of them of a pair met then
  // for the first time, and is settled each time it grows eightfold, from
  // settle_pairs_from entries (analyze/summary.cpp, choose_edge_tally). Tests
  // set them low, to take every way on a small input.
  std::size_t list_pairs_from = 1u << 16;
  std::size_t settle_pairs_from = 1u << 20;  // 24 MiB of listed calls
};

// What resolve() needs to know about where it runs.
struct Environment {
  bool stdin_tty = false;
  bool stdout_tty = false;
  bool stderr_tty = false;
  std::size_t cores = 1;
  std::uint64_t memory = 0;  // physical memory in bytes; 0 if unknown
};

struct Resolved {
  std::optional<Config> config;
  std::string error;  // set when config is not
};

Resolved resolve(const CliOptions& cli, const Environment& terminal);

// Parses argv with CLI11. Returns an exit code when the run should stop here
// (--help, --version, a usage error already reported), else nullopt.
std::optional<int> parse_command_line(int argc, char** argv, CliOptions& out);

// "30s", "500ms", "2m", "1h", "250us", "10" (seconds) -> nanoseconds.
std::optional<std::int64_t> parse_duration(const std::string& text);

// "64MiB", "1G", "4096" -> bytes.
std::optional<std::size_t> parse_size(const std::string& text);

}  // namespace ta
