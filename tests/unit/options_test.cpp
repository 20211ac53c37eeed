#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"

using namespace ta;

namespace {

CliOptions with_input() {
  CliOptions cli;
  cli.inputs = {"spans.jsonl"};
  return cli;
}

Config ok(const CliOptions& cli, Environment term = {}) {
  const Resolved r = resolve(cli, term);
  INFO("error: ", r.error);
  REQUIRE(r.config.has_value());
  CHECK(r.error.empty());
  return *r.config;
}

std::string error(const CliOptions& cli, Environment term = {}) {
  const Resolved r = resolve(cli, term);
  CHECK_FALSE(r.config.has_value());
  CHECK_FALSE(r.error.empty());
  return r.error;
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("resolve: defaults") {
  const Config c = ok(with_input());
  CHECK(c.inputs == std::vector<std::string>{"spans.jsonl"});
  CHECK(c.format == Format::kText);
  CHECK(c.top == 10);
  CHECK_FALSE(c.all_traces);
  CHECK(c.trace_ids.empty());
  CHECK(c.time_unit == TimeUnit::kAuto);
  CHECK(c.group == GroupKey::kDefault);
  CHECK(c.group_field.empty());
  CHECK_FALSE(c.color);  // stdout is not a terminal
  CHECK_FALSE(c.strict);
  CHECK(c.max_line_bytes == 64u * 1024 * 1024);
  CHECK(c.max_warnings == 20);
  CHECK_FALSE(c.progress);
}

TEST_CASE("resolve: inputs and stdin") {
  CliOptions cli;
  SUBCASE("no inputs with stdin a terminal is an error") {
    Environment term;
    term.stdin_tty = true;
    const std::string e = error(cli, term);
    CHECK(mentions(e, "input"));
  }
  SUBCASE("no inputs with stdin a pipe reads stdin") {
    const Config c = ok(cli, Environment{});
    CHECK(c.inputs == std::vector<std::string>{"-"});
  }
  SUBCASE("named inputs are kept in order, whatever stdin is") {
    cli.inputs = {"b.jsonl", "a.jsonl.gz", "-"};
    Environment term;
    term.stdin_tty = true;
    CHECK(ok(cli, term).inputs == std::vector<std::string>{"b.jsonl", "a.jsonl.gz", "-"});
  }
  SUBCASE("stdin twice is an error") {
    cli.inputs = {"-", "x", "-"};
    CHECK(mentions(error(cli), "-"));
  }
}

TEST_CASE("resolve: formats") {
  CliOptions cli = with_input();
  cli.format = "json";
  CHECK(ok(cli).format == Format::kJson);
  cli.format = "markdown";
  CHECK(ok(cli).format == Format::kMarkdown);
  cli.format = "text";
  CHECK(ok(cli).format == Format::kText);
  cli.format = "xml";
  const std::string e = error(cli);
  CHECK(mentions(e, "--format"));
  CHECK(mentions(e, "xml"));
  cli.format = "";
  CHECK(mentions(error(cli), "--format"));
}

TEST_CASE("resolve: time units") {
  CliOptions cli = with_input();
  const std::pair<const char*, TimeUnit> units[] = {{"auto", TimeUnit::kAuto},
                                                    {"s", TimeUnit::kSeconds},
                                                    {"ms", TimeUnit::kMillis},
                                                    {"us", TimeUnit::kMicros},
                                                    {"ns", TimeUnit::kNanos}};
  for (const auto& [name, unit] : units) {
    cli.time_unit = name;
    CHECK_MESSAGE(ok(cli).time_unit == unit, name);
  }
  cli.time_unit = "hours";
  const std::string e = error(cli);
  CHECK(mentions(e, "--time-unit"));
  CHECK(mentions(e, "hours"));
}

TEST_CASE("resolve: --all-traces with --trace is an error") {
  CliOptions cli = with_input();
  cli.all_traces = true;
  CHECK(ok(cli).all_traces);
  cli.trace_ids = {"abc"};
  const std::string e = error(cli);
  CHECK(mentions(e, "--all-traces"));
  CHECK(mentions(e, "--trace"));
  cli.all_traces = false;
  const Config c = ok(cli);
  CHECK(c.trace_ids == std::vector<std::string>{"abc"});
}

TEST_CASE("resolve: --group-by") {
  CliOptions cli = with_input();
  cli.group_by = "host";
  CHECK(ok(cli).group == GroupKey::kHost);
  cli.group_by = "service";
  CHECK(ok(cli).group == GroupKey::kService);
  cli.group_by = "operation";
  CHECK(ok(cli).group == GroupKey::kOperation);
  cli.group_by = "region";
  const Config c = ok(cli);
  CHECK(c.group == GroupKey::kField);
  CHECK(c.group_field == "region");
  cli.group_by = "";
  CHECK(ok(cli).group == GroupKey::kDefault);
}

TEST_CASE("resolve: --color") {
  CliOptions cli = with_input();
  Environment tty;
  tty.stdout_tty = true;
  Environment pipe;
  SUBCASE("auto follows stdout") {
    CHECK(ok(cli, tty).color);
    CHECK_FALSE(ok(cli, pipe).color);
    Environment only_stderr;
    only_stderr.stderr_tty = true;
    only_stderr.stdin_tty = true;
    CHECK_FALSE(ok(cli, only_stderr).color);
  }
  SUBCASE("always and never") {
    cli.color = "always";
    CHECK(ok(cli, pipe).color);
    cli.color = "never";
    CHECK_FALSE(ok(cli, tty).color);
  }
  SUBCASE("anything else names the flag") {
    cli.color = "sometimes";
    const std::string e = error(cli, tty);
    CHECK(mentions(e, "--color"));
    CHECK(mentions(e, "sometimes"));
  }
}

TEST_CASE("resolve: progress, quiet and strict") {
  CliOptions cli = with_input();
  Environment term;
  term.stderr_tty = true;
  CHECK(ok(cli, term).progress);
  cli.no_progress = true;
  CHECK_FALSE(ok(cli, term).progress);
  cli.quiet = true;
  CHECK(ok(cli).max_warnings == 0);
  cli.quiet = false;
  cli.max_warnings = 3;
  CHECK(ok(cli).max_warnings == 3);
  cli.strict = true;
  CHECK(ok(cli).strict);
  cli.top = 25;
  CHECK(ok(cli).top == 25);
}

TEST_CASE("resolve: --max-line-bytes") {
  CliOptions cli = with_input();
  cli.max_memory = "64GiB";  // not below 16 times any limit here
  const std::pair<const char*, std::size_t> good[] = {
      {"64MiB", 64u << 20}, {"1K", 1024},          {"1KiB", 1024},         {"4096", 4096},
      {"2M", 2u << 20},     {"1G", std::size_t{1} << 30}, {"3GiB", std::size_t{3} << 30},
  };
  for (const auto& [text, bytes] : good) {
    cli.max_line_bytes = text;
    CHECK_MESSAGE(ok(cli).max_line_bytes == bytes, text);
  }
  for (const char* bad : {"", "abc", "12XB", "1.5M", "-1", "M", "10 MiB", "99999999999999999999999"}) {
    cli.max_line_bytes = bad;
    const Resolved r = resolve(cli, Environment{});
    CHECK_MESSAGE(!r.config.has_value(), bad);
    CHECK_MESSAGE(mentions(r.error, "--max-line-bytes"), bad);
  }
}

TEST_CASE("resolve: a small --max-memory lowers the line limit to a sixteenth of it, and says so") {
  CliOptions cli = with_input();
  cli.max_memory = "64MiB";
  Config c = ok(cli);
  CHECK(c.max_line_bytes == (std::size_t{4} << 20));
  CHECK(c.line_limit_memory == (std::uint64_t{64} << 20));
  cli.max_line_bytes = "1MiB";  // already below: kept, as given
  c = ok(cli);
  CHECK(c.max_line_bytes == (std::size_t{1} << 20));
  CHECK(c.line_limit_memory == 0);
  cli.max_line_bytes = "64MiB";
  cli.max_memory = "1GiB";
  c = ok(cli);
  CHECK(c.max_line_bytes == (std::size_t{64} << 20));
  CHECK(c.line_limit_memory == 0);
}

TEST_CASE("parse_size") {
  CHECK(parse_size("0") == std::size_t{0});
  CHECK(parse_size("4096") == std::size_t{4096});
  CHECK(parse_size("4096B") == std::size_t{4096});
  CHECK(parse_size("1k") == std::size_t{1024});
  CHECK(parse_size("1K") == std::size_t{1024});
  CHECK(parse_size("1KiB") == std::size_t{1024});
  CHECK(parse_size("64MiB") == std::size_t{67108864});
  CHECK(parse_size("64M") == std::size_t{67108864});
  CHECK(parse_size("1G") == std::size_t{1073741824});
  CHECK(parse_size("2GiB") == std::size_t{2147483648});
  CHECK_FALSE(parse_size(""));
  CHECK_FALSE(parse_size("M"));
  CHECK_FALSE(parse_size("-5"));
  CHECK_FALSE(parse_size("1.5G"));
  CHECK_FALSE(parse_size("12 MiB"));
  CHECK_FALSE(parse_size("12MB!"));
  CHECK_FALSE(parse_size("7T"));
  CHECK_FALSE(parse_size("18446744073709551616"));  // 2^64
  CHECK_FALSE(parse_size("18446744073709551615G"));  // overflows when scaled
}

TEST_CASE("resolve: --threads") {
  CliOptions cli = with_input();
  Environment term;
  term.cores = 8;
  CHECK(ok(cli, term).threads == 8);  // default: all cores
  Environment unknown;
  unknown.cores = 0;  // hardware_concurrency() may not know
  CHECK(ok(cli, unknown).threads == 1);
  cli.threads = 3;
  CHECK(ok(cli, term).threads == 3);
  cli.threads = 100000;
  CHECK(mentions(error(cli, term), "--threads"));
}

TEST_CASE("parse_duration: units and bad values") {
  CHECK(parse_duration("30s") == std::optional<std::int64_t>(30'000'000'000));
  CHECK(parse_duration("10") == std::optional<std::int64_t>(10'000'000'000));
  CHECK(parse_duration("500ms") == std::optional<std::int64_t>(500'000'000));
  CHECK(parse_duration("250us") == std::optional<std::int64_t>(250'000));
  CHECK(parse_duration("7ns") == std::optional<std::int64_t>(7));
  CHECK(parse_duration("2m") == std::optional<std::int64_t>(120'000'000'000));
  CHECK(parse_duration("1h") == std::optional<std::int64_t>(3'600'000'000'000));
  CHECK_FALSE(parse_duration("").has_value());
  CHECK_FALSE(parse_duration("s").has_value());
  CHECK_FALSE(parse_duration("5x").has_value());
  CHECK_FALSE(parse_duration("-1s").has_value());
  CHECK_FALSE(parse_duration("99999999999999h").has_value());  // overflows
}

TEST_CASE("resolve: --follow") {
  CliOptions cli = with_input();
  cli.follow = true;
  cli.threads = 4;
  cli.window = "2m";
  cli.max_open_traces = 10;
  cli.max_memory = "100MiB";
  const Config c = ok(cli);
  CHECK(c.follow);
  CHECK(c.threads == 1);
  CHECK(c.window == 120'000'000'000);
  CHECK(c.max_open_traces == 10);
  CHECK(c.max_memory == 100u << 20);  // it bounds live mode too

  // Markdown follows too (the writer keeps the slowest for its report), but
  // not every trace of an endless stream.
  CliOptions md = with_input();
  md.follow = true;
  md.format = "markdown";
  CHECK(ok(md).format == Format::kMarkdown);
  md.all_traces = true;
  CHECK(error(md).find("--top") != std::string::npos);
  CliOptions all = with_input();
  all.follow = true;
  all.all_traces = true;
  CHECK(error(all).find("--all-traces") != std::string::npos);
  CliOptions zero = with_input();
  zero.window = "0s";
  CHECK(error(zero).find("--window") != std::string::npos);
  CliOptions none = with_input();
  none.max_open_traces = 0;
  CHECK(error(none).find("--max-open-traces") != std::string::npos);
}
