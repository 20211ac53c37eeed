#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "util/exit_code.h"
#include "util/messages.h"

namespace ta {

namespace {

// The share of --max-memory one line may take (see resolve).
constexpr std::uint64_t kLineShareOfMemory = 16;

}  // namespace

std::optional<std::size_t> parse_size(const std::string& text) {
  std::size_t value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || p == text.data()) return std::nullopt;
  std::string unit(p, end);
  std::size_t mult = 1;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "K" || unit == "KiB" || unit == "k") {
    mult = 1u << 10;
  } else if (unit == "M" || unit == "MiB") {
    mult = 1u << 20;
  } else if (unit == "G" || unit == "GiB") {
    mult = std::size_t{1} << 30;
  } else {
    return std::nullopt;
  }
  if (value > SIZE_MAX / mult) return std::nullopt;
  return value * mult;
}

std::optional<std::int64_t> parse_duration(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || p == text.data() || value < 0) return std::nullopt;
  const std::string unit(p, end);
  std::int64_t mult = 0;
  if (unit.empty() || unit == "s") {
    mult = 1'000'000'000;
  } else if (unit == "ms") {
    mult = 1'000'000;
  } else if (unit == "us") {
    mult = 1'000;
  } else if (unit == "ns") {
    mult = 1;
  } else if (unit == "m" || unit == "min") {
    mult = 60'000'000'000;
  } else if (unit == "h") {
    mult = 3'600'000'000'000;
  } else {
    return std::nullopt;
  }
  if (value > INT64_MAX / mult) return std::nullopt;
  return value * mult;
}

Resolved resolve(const CliOptions& cli, const Environment& term) {
  Config c;
  auto error = [](std::string msg) { return Resolved{std::nullopt, std::move(msg)}; };

  c.inputs = cli.inputs;
  if (c.inputs.empty()) {
    if (term.stdin_tty)
      return error("no input: name span log files (e.g. logs/*.jsonl) or pipe spans into stdin; see --help");
    c.inputs.push_back("-");
  }
  int stdin_uses = 0;
  for (const auto& in : c.inputs) stdin_uses += in == "-";
  if (stdin_uses > 1) return error("'-' (stdin) is given more than once");

  if (cli.format == "text") {
    c.format = Format::kText;
  } else if (cli.format == "json") {
    c.format = Format::kJson;
  } else if (cli.format == "markdown" || cli.format == "md") {
    c.format = Format::kMarkdown;
  } else {
    return error(fmt::format("--format {}: unknown format; use text, json or markdown", cli.format));
  }

  c.top = cli.top;
  c.all_traces = cli.all_traces;
  c.trace_ids = cli.trace_ids;
  if (c.all_traces && !c.trace_ids.empty()) return error("--all-traces and --trace contradict each other; give one");

  auto unit = parse_time_unit(cli.time_unit);
  if (!unit) return error(fmt::format("--time-unit {}: unknown unit; use auto, s, ms, us or ns", cli.time_unit));
  c.time_unit = *unit;

  if (cli.group_by.empty()) {
    c.group = GroupKey::kDefault;
  } else if (cli.group_by == "host") {
    c.group = GroupKey::kHost;
  } else if (cli.group_by == "service") {
    c.group = GroupKey::kService;
  } else if (cli.group_by == "operation" || cli.group_by == "name") {
    c.group = GroupKey::kOperation;
  } else {
    c.group = GroupKey::kField;
    c.group_field = cli.group_by;
  }

  if (cli.color == "always") {
    c.color = true;
  } else if (cli.color == "never") {
    c.color = false;
  } else if (cli.color == "auto") {
    c.color = term.stdout_tty && c.format == Format::kText;
  } else {
    return error(fmt::format("--color {}: use auto, always or never", cli.color));
  }

  auto max_line = parse_size(cli.max_line_bytes);
  if (!max_line || *max_line < 64)
    return error(fmt::format("--max-line-bytes {}: give a size of at least 64, e.g. 64MiB", cli.max_line_bytes));
  c.max_line_bytes = *max_line;
  auto input_format = input_format_from_name(cli.input_format);
  if (!input_format)
    return error(fmt::format("--input-format {}: unknown format; use auto, native, zipkin, jaeger, otlp or recorder",
                             cli.input_format));
  c.input_format = *input_format;
  auto max_document = parse_size(cli.max_document_bytes);
  if (!max_document || *max_document < 64 || *max_document >= (4ull << 30))
    return error(fmt::format("--max-document-bytes {}: give a size from 64 to under 4GiB, e.g. 1GiB",
                             cli.max_document_bytes));
  c.max_document_bytes = *max_document;

  c.strict = cli.strict;
  c.max_warnings = cli.quiet ? 0 : cli.max_warnings;
  c.progress = term.stderr_tty && !cli.no_progress;
  c.adjust_skew = cli.adjust_skew;
  c.max_trace_spans = cli.max_trace_spans;
  if (c.max_trace_spans == 0) return error("--max-trace-spans 0: give at least 1");
  if (cli.max_memory.empty()) {
    // Three quarters of the machine: room for the report and the system.
    c.max_memory = term.memory ? term.memory / 4 * 3 : std::uint64_t{16} << 30;
  } else {
    auto m = parse_size(cli.max_memory);
    if (!m || *m < (std::size_t{64} << 20))
      return error(fmt::format("--max-memory {}: give a size of at least 64MiB, e.g. 8GiB", cli.max_memory));
    c.max_memory = *m;
  }
  // A line takes several times its size while it is read, parsed, stored
  // and reported (its labels copied, escaped, laid out): under a small
  // --max-memory, a line longer than a sixteenth of it is rejected as too
  // long, so no single line can take the run past the limit.
  if (const std::uint64_t most = c.max_memory / kLineShareOfMemory; most < c.max_line_bytes) {
    c.max_line_bytes = static_cast<std::size_t>(most);
    c.line_limit_memory = c.max_memory;
  }
  c.threads = cli.threads == 0 ? std::max<std::size_t>(term.cores, 1) : cli.threads;
  if (c.threads > 256) return error(fmt::format("--threads {}: give at most 256", cli.threads));

  c.follow = cli.follow;
  auto window = parse_duration(cli.window);
  if (!window || *window == 0)
    return error(fmt::format("--window {}: give a duration of log time, e.g. 30s, 500ms or 2m", cli.window));
  c.window = *window;
  c.max_open_traces = cli.max_open_traces;
  if (c.max_open_traces == 0) return error("--max-open-traces 0: give at least 1");
  c.max_labels = cli.max_labels;
  if (c.max_labels == 0) return error("--max-labels 0: give at least 1");
  if (c.follow) {
    if (c.all_traces)
      return error(c.format == Format::kMarkdown
                       ? "--follow --format markdown keeps the --top slowest traces for its report; --all-traces "
                         "would hold every trace of an endless stream: drop it, or raise --top"
                       : "--follow writes every trace already; drop --all-traces");
    c.threads = 1;      // live mode has its own three threads (read, parse, assemble and write), in input order
  }
  return Resolved{std::move(c), {}};
}

namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

// The long flag nearest to a mistyped one, if it is close.
std::string closest_flag(const CLI::App& app, const std::string& typed) {
  std::string best;
  std::size_t best_distance = 3;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames()) {
      const std::size_t d = edit_distance(typed, "--" + name);
      if (d < best_distance) {
        best_distance = d;
        best = "--" + name;
      }
    }
  }
  return best;
}

// --help and --version: their text on stdout, as the report is written. A
// reader that went away (`| head`) is a quiet exit 0; any other write error
// (disk full, a closed descriptor) is an error, exit 2.
int print_on_stdout(const CLI::App& app, const CLI::Success& request, std::string_view what) {
  std::ostringstream text;
  const int code = app.exit(request, text, text);
  const std::string all = text.str();
  for (std::size_t done = 0; done < all.size();) {
    const ssize_t w = ::write(STDOUT_FILENO, all.data() + done, all.size() - done);
    if (w < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      if (error == EPIPE) return static_cast<int>(ExitCode::kOk);
      print_error(fmt::format("cannot write the {} to stdout: {}", what, std::strerror(error)));
      return static_cast<int>(ExitCode::kUsage);
    }
    done += static_cast<std::size_t>(w);
  }
  return code;
}

}  // namespace

std::optional<int> parse_command_line(int argc, char** argv, CliOptions& o) {
  CLI::App app{
      "trace-assemble " TA_VERSION
      " - rebuild requests from span logs: trees, critical paths, per-host summaries"};
  app.name("trace-assemble");
  app.add_option("FILE", o.inputs,
                 "Span logs: JSON lines, Filebeat events, .gz. '-' or no FILE with a pipe reads stdin")
      ->type_name("FILE");
  // A count: a negative one would wrap round to a huge unsigned number
  // (taken as no limit) instead of being refused.
  const CLI::Validator count(
      [](std::string& value) {
        const std::size_t sign = value.find_first_not_of(" \t");
        return sign != std::string::npos && value[sign] == '-' ? "a count is 0 or more, not " + value : std::string();
      },
      "");
  app.add_option("-f,--format", o.format, "Output: text (people), json (machines), markdown (CI summaries)")
      ->type_name("FORMAT")
      ->default_str("text");
  app.add_option("-n,--top", o.top, "Show the N slowest traces")
      ->type_name("N")
      ->default_str("10")
      ->check(count);
  app.add_flag("--all-traces", o.all_traces, "Show every trace, not only the slowest");
  app.add_option("--trace", o.trace_ids, "Show only the trace with this traceId (repeatable)")
      ->type_name("ID")
      ->allow_extra_args(false);
  app.add_option("--time-unit", o.time_unit,
                 "Unit of timestamp/duration: auto (by magnitude), s, ms, us, ns")
      ->type_name("UNIT")
      ->default_str("auto");
  app.add_option("--group-by", o.group_by,
                 "Summary groups: host, service, operation or any FIELD of the span line "
                 "(default: service when present, else host)")
      ->type_name("KEY");
  app.add_option("--color", o.color, "Colour: auto (only on a terminal), always, never")
      ->type_name("WHEN")
      ->default_str("auto");
  app.add_flag("--strict", o.strict, "Exit 1 when a line was rejected or an anomaly found");
  app.add_option("--input-format", o.input_format,
                 "Read every input as: auto (judged per line, or per file for whole documents), native, "
                 "zipkin, jaeger, otlp, recorder")
      ->type_name("FORMAT")
      ->default_str("auto");
  app.add_option("--max-line-bytes", o.max_line_bytes, "Reject longer lines, e.g. 64MiB")
      ->type_name("SIZE")
      ->default_str("64MiB");
  app.add_option("--max-document-bytes", o.max_document_bytes,
                 "Largest whole JSON document (an array, JSON printed across lines) held in memory to read")
      ->type_name("SIZE")
      ->default_str("1GiB");
  app.add_option("--max-warnings", o.max_warnings, "Print at most N rejected lines on stderr (all are counted)")
      ->type_name("N")
      ->default_str("20")
      ->check(count);
  app.add_flag("-q,--quiet", o.quiet, "Print no warnings for rejected lines (they are still counted)");
  app.add_option("-j,--threads", o.threads, "Threads for parsing and analysis (default: all cores)")
      ->type_name("N")
      ->default_str("all cores")
      ->check(count);
  app.add_flag("--adjust-skew", o.adjust_skew,
               "Move a callee that ran outside its caller's view of the call into the middle of that view "
               "(every move is listed)");
  app.add_option("--max-trace-spans", o.max_trace_spans,
                 "Keep at most N spans per trace; the rest are counted as rejected and the trace flagged")
      ->type_name("N")
      ->default_str("10000000")
      ->check(count);
  app.add_option("--max-memory", o.max_memory,
                 "Stop reading at this resident memory and report what was read (default: 3/4 of RAM)")
      ->type_name("SIZE");
  app.add_flag("--follow", o.follow,
               "Live mode: read a stream (or files as they grow, like tail -F) and write each trace as soon as it "
               "is complete, one line per trace; the summary follows at the end of input or on Ctrl-C");
  app.add_option("--window", o.window,
                 "With --follow: a trace that is still incomplete this much log time after its last span is "
                 "written anyway, flagged incomplete (e.g. 30s, 500ms, 2m)")
      ->type_name("DURATION")
      ->default_str("30s");
  app.add_option("--max-open-traces", o.max_open_traces,
                 "With --follow: at most N traces wait for their spans; past that the least recently active is "
                 "written, flagged evicted")
      ->type_name("N")
      ->default_str("50000")
      ->check(count);
  app.add_option("--max-labels", o.max_labels,
                 "With --follow: at most N distinct hosts, services and operations, and N pairs of them, are "
                 "tallied; later new ones are shown as (other) and counted, so memory does not grow with the "
                 "stream")
      ->type_name("N")
      ->default_str("50000")
      ->check(count);
  app.add_flag("--no-progress", o.no_progress, "No progress line on stderr (shown only when it is a terminal)");
  app.set_version_flag("-V,--version", "trace-assemble " TA_VERSION " (" TA_BUILD " build)");
  app.footer(R"(Examples:
  trace-assemble logs/*.jsonl                      report: summary, slowest traces, anomalies
  cat spans.jsonl | trace-assemble                 read a pipe
  trace-assemble --trace 4bf92f3577b34da6 logs/*   one request as a tree
  trace-assemble --format json logs/* > report.json
  trace-assemble --format markdown logs/* >> "$GITHUB_STEP_SUMMARY"
  filebeat ... | trace-assemble --follow           live: a line per trace as it completes
  trace-assemble --follow --format json /var/log/app/spans.jsonl   follow a growing file

Exit codes: 0 report written; 1 --strict check failed; 2 usage error or unreadable input.)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return print_on_stdout(app, e, "help");
  } catch (const CLI::CallForVersion& e) {
    return print_on_stdout(app, e, "version");
  } catch (const CLI::ParseError& e) {
    std::string hint;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0 || app.get_option_no_throw(arg.substr(0, arg.find('='))) != nullptr) continue;
      if (const std::string near = closest_flag(app, arg.substr(0, arg.find('='))); !near.empty()) {
        hint = fmt::format(" (did you mean {}?)", near);
        break;
      }
    }
    // CLI11 quotes what was typed, which may be anything.
    print_error(fmt::format("{}{}", e.what(), hint));
    print_raw("Run 'trace-assemble --help' for usage.\n");
    return static_cast<int>(ExitCode::kUsage);
  }
  return std::nullopt;
}

}  // namespace ta
