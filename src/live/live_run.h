// --follow: read until the input ends (or SIGINT/SIGTERM), writing each trace
// as it finishes, then the summary: on stdout in text, on stderr in JSON so
// that stdout stays one JSON object per line.
#pragma once

#include <chrono>

#include "cli/options.h"
#include "util/exit_code.h"

namespace ta {

ExitCode run_live(const Config& config, std::chrono::steady_clock::time_point started);

}  // namespace ta
