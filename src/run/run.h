// Glue between the pipeline stages that main() calls one by one.
#pragma once

#include "analyze/summary.h"
#include "cli/options.h"
#include "read/ingest.h"
#include "util/exit_code.h"

namespace ta {

Environment detect_environment();
IngestOptions ingest_options(const Config& config);
// Rejected lines and read errors on stderr: the first config.max_warnings.
void report_problems(const InputStats& input, const Analysis& analysis, const Config& config);
// Non-empty input that gave no span at all: not a success (exit 1), and
// the reason says what the input looked like and why nothing was read.
bool nothing_read(const InputStats& input);
std::string nothing_read_reason(const InputStats& input);
ExitCode exit_code(const InputStats& input, const Analysis& analysis, const Config& config);

}  // namespace ta
