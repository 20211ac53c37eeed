// The portable build (the default) makes the program once per CPU level,
// because simdjson's On-Demand parser and the line scanners choose their
// SIMD code when they are compiled:
//
//   trace-assemble            x86-64-v3 (AVX2, BMI, LZCNT; with PCLMUL)
//   trace-assemble-avx512     x86-64-v4 with VBMI and VBMI2 (Ice Lake, Zen 4)
//   trace-assemble-x86-64     any x86-64
//
// This file, compiled for any x86-64, is linked into the first: before
// anything else of it runs, it asks the CPU and continues in the best
// program the CPU can run, from the same folder. Going up (to AVX-512) is
// optional: without that program beside it the v3 one goes on. Going down is
// not: without the program the CPU needs, it is an error, exit 2.
// TA_CPU=<level> asks for one level (an error if the CPU cannot run it).
// (An x86-64-v2 level, simdjson's westmere kernel, ran 0.97-1.01x the
// baseline's time on native, Filebeat and OTLP lines: not built.)
// Programs, not code paths in one program: inline library code compiled
// for two CPUs must not meet in one link.
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

enum Level { kBase, kV3, kAvx512, kLevels };

struct LevelInfo {
  const char* name;     // as TA_CPU spells it
  const char* program;  // beside this one; nullptr: this program
  const char* needs;    // for the error when the CPU lacks it
};
constexpr LevelInfo kLevel[kLevels] = {
    {"x86-64", "trace-assemble-x86-64", "x86-64"},
    {"x86-64-v3", nullptr, "x86-64-v3 and PCLMUL"},
    {"avx512", "trace-assemble-avx512", "x86-64-v4, AVX512-VBMI, AVX512-VBMI2 and PCLMUL"},
};

// The best level this CPU runs.
Level cpu_level() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("x86-64-v3") || !__builtin_cpu_supports("pclmul")) return kBase;
  if (__builtin_cpu_supports("x86-64-v4") && __builtin_cpu_supports("avx512vbmi") &&
      __builtin_cpu_supports("avx512vbmi2"))
    return kAvx512;
  return kV3;
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "trace-assemble: error: %s\n", what);
  std::_Exit(2);
}

// Runs the program `name` from this program's folder with the same
// arguments; returns only if it cannot (errno says why), having put the
// path it tried in `path`.
void run_beside(const char* name, char** argv, char* path, std::size_t size) {
  ssize_t n = readlink("/proc/self/exe", path, size - 64);
  if (n <= 0) {
    const char* self = argv && argv[0] ? argv[0] : "";
    const std::size_t len = std::strlen(self);
    n = static_cast<ssize_t>(len < size - 64 ? len : 0);
    std::memcpy(path, self, static_cast<std::size_t>(n));
  }
  ssize_t slash = n - 1;
  while (slash >= 0 && path[slash] != '/') --slash;
  if (slash < 0)
    std::snprintf(path, size, "./%s", name);
  else
    std::snprintf(path + slash + 1, size - static_cast<std::size_t>(slash) - 1, "%s", name);
  execv(path, argv);
}

// glibc hands initialisers of an executable its arguments and environment.
[[gnu::constructor(101)]] void run_level(int, char** argv, char**) {
  static char path[PATH_MAX + 64];
  static char message[2 * PATH_MAX + 256];
  const Level can = cpu_level();
  Level want = can;
  const char* forced = std::getenv("TA_CPU");
  if (forced && *forced) {
    int i = 0;
    while (i < kLevels && std::strcmp(forced, kLevel[i].name) != 0) ++i;
    if (i == kLevels)
      fail("TA_CPU must be one of x86-64, x86-64-v3, avx512 (or unset: the best this CPU runs)");
    want = static_cast<Level>(i);
    if (want > can) {
      std::snprintf(message, sizeof message, "TA_CPU=%s: this CPU cannot run that build (it needs %s)", forced,
                    kLevel[want].needs);
      fail(message);
    }
  }
  if (want == kV3) return;
  const bool optional = want == kAvx512 && !forced;
  run_beside(kLevel[want].program, argv, path, sizeof path);
  if (optional) return;  // the x86-64-v3 build, this one, runs instead
  std::snprintf(message, sizeof message, "cannot run the build for %s, %s: %s (it is built beside this one)",
                want == kBase ? "any x86-64" : kLevel[want].name, path, std::strerror(errno));
  fail(message);
}

}  // namespace
