#include "util/messages.h"

#include <fmt/format.h>

#include <cstdio>

namespace ta {

void print_error(std::string_view message) { fmt::print(stderr, "trace-assemble: error: {}\n", message); }
void print_warning(std::string_view message) { fmt::print(stderr, "trace-assemble: warning: {}\n", message); }
void print_note(std::string_view message) { fmt::print(stderr, "trace-assemble: note: {}\n", message); }

}  // namespace ta
