// trace-assemble: span logs in, assembled traces and their analysis out.
#include <fmt/format.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>

#include "analyze/summary.h"
#include "cli/options.h"
#include "live/live_run.h"
#include "read/ingest.h"
#include "report/writer.h"
#include "run/run.h"
#include "store/span_log.h"
#include "util/messages.h"

int main(int argc, char** argv) {
  using namespace ta;
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe shows up as a write error, handled quietly
  // As many open files as the system lets this user have: `--follow` keeps
  // every input open (a fleet's thousands of logs), and a batch run holds
  // the files whose chunks are being read. The usual soft limit is 1024.
  if (rlimit files{}; ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  const auto started = std::chrono::steady_clock::now();

  CliOptions cli;
  if (auto code = parse_command_line(argc, argv, cli)) return *code;
  const Resolved resolved = resolve(cli, detect_environment());
  if (!resolved.config) {
    print_error(resolved.error);
    return static_cast<int>(ExitCode::kUsage);
  }
  const Config& config = *resolved.config;
  if (const std::string bad = check_inputs(config.inputs); !bad.empty()) {
    print_error(bad);
    return static_cast<int>(ExitCode::kUsage);
  }

  try {
    auto since = [](std::chrono::steady_clock::time_point t) {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t).count();
    };
    if (config.follow) return static_cast<int>(run_live(config, started));
    // The store grows to hundreds of MB in small blocks and is freed trace by
    // trace: grow the heap in large steps and do not hand pages back to the
    // system between (each page handed back is faulted in and zeroed again).
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    const IngestOptions options = ingest_options(config);
    SpanLog log(config.max_trace_spans);
    InputStats input = ingest(config.inputs, options, log);
    const Nanos read_time = since(started);
    const auto analysis_started = std::chrono::steady_clock::now();
    const std::size_t threads = input.one_thread ? 1 : config.threads;
    const Analysis analysis = analyze(log, config, threads);
    add_refused(input, analysis.refused, config.max_trace_spans, options.max_kept_rejections);
    for (std::string& note : analysis.joins.lines()) input.note(std::move(note));
    const Nanos analysis_time = since(analysis_started);
    report_problems(input, analysis, config);
    count_unanalysed(input, analysis.memory);  // after the warnings: the error above names them
    Output out(STDOUT_FILENO), err(STDERR_FILENO, Output::OnError::kDrop, Output::Controls::kAllEscaped);
    const std::unique_ptr<Writer> writer = make_writer(config, Delivery::kHeld, input.files, out, err);
    for (const ShownTrace& t : analysis.shown) writer->trace(t, Emit::kEnd);
    writer->summary(ReportInput{config, input, analysis, since(started), read_time, analysis_time, nullptr, false, {}});
    const int code = static_cast<int>(exit_code(input, analysis, config));
#if !defined(__SANITIZE_ADDRESS__)
    // The report is written (summary() flushed it, and would have thrown on
    // a write error): the process ends here, without freeing what the run
    // holds piece by piece in this scope (a fleet's hundreds of thousands of
    // caller -> callee pairs, 10-15 ms of a run), which ending gives back at
    // once. std::exit, not _Exit: what is registered to run at exit still
    // runs (stdio's flush; the profile-guided build's training writes its
    // counts then). The sanitizer build returns, so its leak check runs.
    out.flush();
    err.flush();
    std::exit(code);
#endif
    return code;
  } catch (const BrokenPipe&) {
    return static_cast<int>(ExitCode::kOk);  // the reader (`| head`) has all it wanted
  } catch (const OutputError& e) {
    print_error(fmt::format("cannot write the report to stdout: {}", std::strerror(e.error)));
    return static_cast<int>(ExitCode::kUsage);
  } catch (const std::bad_alloc&) {
    // In any thread: a thread's exception is rethrown here (util/thread_group.h).
    print_error(config.follow ? "out of memory; lower --max-open-traces or --window, which bound what --follow holds"
                              : "out of memory; set --max-memory below the memory free, so that the run stops in "
                                "time and reports what it read, or split the input");
    return static_cast<int>(ExitCode::kUsage);
  } catch (const std::system_error& e) {
    print_error(fmt::format("cannot start a thread: {}; try --threads 1", e.what()));
    return static_cast<int>(ExitCode::kUsage);
  }
}
