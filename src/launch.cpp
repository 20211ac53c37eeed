// The portable build (the default) makes the program twice: for x86-64-v3
// (AVX2, BMI, LZCNT; with PCLMUL) as `trace-assemble`, and for any x86-64 as
// `trace-assemble-x86-64` beside it, because simdjson's On-Demand parser and
// the line scanners choose their SIMD code when they are compiled. This file,
// compiled for any x86-64, is linked into the first: before anything else
// of it runs, a CPU without x86-64-v3 (or TA_CPU=x86-64) continues in the
// second. Two programs, not two code paths in one: inline library code
// compiled for two CPUs must not meet in one link.
//
// Nothing here may use the C++ library: it runs before the program's own
// initialisers, and its inline code would come from the x86-64-v3 objects.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool can_run_v3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v3") && __builtin_cpu_supports("pclmul");
}

// glibc hands initialisers of an executable its arguments and environment.
[[gnu::constructor(101)]] void run_baseline_if_needed(int, char** argv, char**) {
  const char* forced = std::getenv("TA_CPU");
  if (!(forced && std::strcmp(forced, "x86-64") == 0) && can_run_v3()) return;
  // This program's folder, then the other build's name.
  static char path[PATH_MAX + 64];
  const char* const name = "trace-assemble-x86-64";
  ssize_t n = readlink("/proc/self/exe", path, PATH_MAX);
  if (n <= 0) {
    const char* self = argv && argv[0] ? argv[0] : "";
    n = static_cast<ssize_t>(std::strlen(self) < PATH_MAX ? std::strlen(self) : 0);
    std::memcpy(path, self, static_cast<std::size_t>(n));
  }
  ssize_t slash = n - 1;
  while (slash >= 0 && path[slash] != '/') --slash;
  if (slash < 0)
    std::snprintf(path, sizeof path, "./%s", name);
  else
    std::snprintf(path + slash + 1, sizeof path - static_cast<std::size_t>(slash) - 1, "%s", name);
  execv(path, argv);
  std::fprintf(stderr, "trace-assemble: error: cannot run the build for any x86-64, %s: %s (it is built beside this one)\n",
               path, std::strerror(errno));
  std::_Exit(2);
}

}  // namespace
