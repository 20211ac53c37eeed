// Messages on stderr: text from outside never reaches the terminal as
// controls (util/messages.h).
#include <doctest/doctest.h>

#include <string>

#include "util/messages.h"

using ta::message_line;

TEST_CASE("message_line: the shape of every message on stderr") {
  CHECK(message_line("error", "spans.jsonl: No such file or directory") ==
        "trace-assemble: error: spans.jsonl: No such file or directory\n");
  CHECK(message_line("note", "café → 東京 …") == "trace-assemble: note: café → 東京 …\n");
}

TEST_CASE("message_line: a file name and an excerpt are shown escaped, never raw") {
  // A file name with ESC and a bidi override, and an excerpt of a rejected
  // line with a C1 CSI, as the parser's reason quotes it (C0 already escaped).
  const std::string file = "a\x1b]0;x\x07" "b\xe2\x80\xae" "lmth.jsonl";
  const std::string reason = "not JSON: \"x \xc2\x9b" "2J \xe2\x80\xae \\x1b[2J\"";
  CHECK(message_line("warning", file + ":3: " + reason) ==
        "trace-assemble: warning: a\\x1b]0;x\\x07b\\u{202e}lmth.jsonl:3: not JSON: \"x \\u{009b}2J \\u{202e} "
        "\\x1b[2J\"\n");
  // Bytes that are not UTF-8 (a file name may hold any): the line stays UTF-8.
  CHECK(message_line("error", "caf\xe9.jsonl: Permission denied") ==
        "trace-assemble: error: caf\\xe9.jsonl: Permission denied\n");
  // A line break in a name cannot start a line that looks like another message.
  CHECK(message_line("error", "x\ntrace-assemble: note: y") == "trace-assemble: error: x\\x0atrace-assemble: note: y\n");
}
