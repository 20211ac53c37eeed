#include "util/messages.h"

#include <fmt/format.h>

#include <cstdio>

#include "util/printable.h"

namespace ta {
namespace {

// A message that cannot be written (stderr closed or full) is dropped: a
// diagnostic must never end the run.
void put(std::string_view text) {
  [[maybe_unused]] const std::size_t written = std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
  std::clearerr(stderr);
}

void say(std::string_view kind, std::string_view message) { put(message_line(kind, message)); }

}  // namespace

std::string message_line(std::string_view kind, std::string_view message) {
  return fmt::format("trace-assemble: {}: {}\n", kind, printable(message));
}

void print_raw(std::string_view text) { put(text); }
void print_error(std::string_view message) { say("error", message); }
void print_warning(std::string_view message) { say("warning", message); }
void print_note(std::string_view message) { say("note", message); }

}  // namespace ta
