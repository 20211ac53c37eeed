#include "util/format.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <cstdlib>

namespace ta {
namespace {

// Formats compiled (FMT_COMPILE): a live run writes a duration on every
// trace's line, and a format parsed at run time costs more than the number.
std::string three_digits(double v, const char* unit) {
  if (v >= 100) return fmt::format(FMT_COMPILE("{:.0f}{}"), v, unit);
  if (v >= 10) return fmt::format(FMT_COMPILE("{:.1f}{}"), v, unit);
  return fmt::format(FMT_COMPILE("{:.2f}{}"), v, unit);
}

}  // namespace

std::string human_duration(Nanos ns) {
  if (ns < 0) return "-" + human_duration(-ns);
  const double v = static_cast<double>(ns);
  if (ns == 0) return "0";
  if (ns < 1'000) return fmt::format(FMT_COMPILE("{}ns"), ns);
  if (ns < 1'000'000) return three_digits(v / 1e3, "µs");
  if (ns < 1'000'000'000) return three_digits(v / 1e6, "ms");
  if (ns < 60'000'000'000) return three_digits(v / 1e9, "s");
  const std::int64_t s = ns / 1'000'000'000;
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
}

std::string plural(std::uint64_t n, std::string_view noun) {
  return fmt::format(FMT_COMPILE("{} {}{}"), n, noun, n == 1 ? "" : "s");
}

std::string human_bytes(std::uint64_t b) {
  if (b < 1024) return fmt::format("{}B", b);
  const double v = static_cast<double>(b);
  if (b < (1u << 20)) return fmt::format("{:.1f}KiB", v / 1024);
  if (b < (1u << 30)) return fmt::format("{:.1f}MiB", v / (1 << 20));
  return fmt::format("{:.2f}GiB", v / (1 << 30));
}

}  // namespace ta
