// The trace-assemble command of the default (portable) build: the program is
// built twice, for any x86-64 and for x86-64-v3 (AVX2, BMI, LZCNT; with
// PCLMUL), because simdjson's On-Demand parser and the line scanners choose
// their SIMD code when they are compiled; this front runs the build the CPU
// can run, from the folder it is in. Two programs, not two code paths in
// one: inline library code compiled for two CPUs must not meet in one link.
//
// TA_CPU=x86-64 runs the baseline build on any CPU (tests compare the two).
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

bool can_run_v3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v3") && __builtin_cpu_supports("pclmul");
}

// This program's folder, with a trailing '/'.
std::string own_folder(const char* argv0) {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  std::string self = n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string(argv0 ? argv0 : "");
  const std::size_t slash = self.rfind('/');
  return slash == std::string::npos ? std::string("./") : self.substr(0, slash + 1);
}

}  // namespace

int main(int, char** argv) {
  const char* forced = std::getenv("TA_CPU");
  const bool baseline = (forced && std::strcmp(forced, "x86-64") == 0) || !can_run_v3();
  const std::string program = own_folder(argv[0]) + (baseline ? "trace-assemble-x86-64" : "trace-assemble-x86-64-v3");
  execv(program.c_str(), argv);
  std::fprintf(stderr, "trace-assemble: error: cannot run %s: %s (it is built beside this program)\n", program.c_str(),
               std::strerror(errno));
  return 2;
}
