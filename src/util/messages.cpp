#include "util/messages.h"

#include <fmt/format.h>

#include <cstdio>

namespace ta {
namespace {

// A message that cannot be written (stderr closed or full) is dropped: a
// diagnostic must never end the run.
void put(std::string_view text) {
  [[maybe_unused]] const std::size_t written = std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
  std::clearerr(stderr);
}

void say(std::string_view kind, std::string_view message) {
  fmt::memory_buffer line;
  fmt::format_to(std::back_inserter(line), "trace-assemble: {}: {}\n", kind, message);
  put(std::string_view(line.data(), line.size()));
}

}  // namespace

void print_raw(std::string_view text) { put(text); }
void print_error(std::string_view message) { say("error", message); }
void print_warning(std::string_view message) { say("warning", message); }
void print_note(std::string_view message) { say("note", message); }

}  // namespace ta
