// Text from the input as the terminal is given it (report/table.h).
#include <doctest/doctest.h>

#include <string>

#include "report/table.h"

using ta::all_printable;
using ta::printable;

TEST_CASE("printable: text that shows as itself is kept, byte for byte") {
  for (const std::string s : {"", "web GET /users", "café ✓ 東京", "emoji 🙂", "tab-free ~!@#$%^&*()"}) {
    CHECK(all_printable(s));
    CHECK(printable(s) == s);
  }
}

TEST_CASE("printable: C0, DEL and C1 controls are named, not sent") {
  CHECK(printable("a\x1b[2Jb") == "a\\x1b[2Jb");
  CHECK(printable("line\nbreak\r") == "line\\x0abreak\\x0d");
  CHECK(printable("del\x7f") == "del\\x7f");
  // C1: U+009B is a CSI on terminals that read 8-bit controls.
  CHECK(printable("x\xc2\x9b" "2Jy") == "x\\u{009b}2Jy");
  CHECK(printable("\xc2\x85") == "\\u{0085}");
  CHECK_FALSE(all_printable("x\xc2\x9b"));
}

TEST_CASE("printable: bidirectional controls cannot reorder what follows") {
  // U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LEFT-TO-RIGHT ISOLATE, U+200F RLM.
  CHECK(printable("admin\xe2\x80\xae" "cod.exe") == "admin\\u{202e}cod.exe");
  CHECK(printable("\xe2\x81\xa6x\xe2\x81\xa9") == "\\u{2066}x\\u{2069}");
  CHECK(printable("\xe2\x80\x8f") == "\\u{200f}");
  CHECK(printable("\xd8\x9c") == "\\u{061c}");
  CHECK(printable("\xe2\x80\x8b") == "\xe2\x80\x8b");  // a zero-width space reorders nothing
}

TEST_CASE("printable: bytes that are not UTF-8 are shown by value") {
  CHECK(printable("a\xff" "b") == "a\\xffb");
  CHECK(printable("\xc3") == "\\xc3");                  // cut short
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");         // overlong '/'
  CHECK(printable("\xed\xa0\x80") == "\\u{d800}");      // a surrogate: whole, but no character
  CHECK(printable("\xe0\x80\xaf") == "\\u{002f}");      // overlong, three bytes
  CHECK_FALSE(all_printable("\xff"));
}

TEST_CASE("printable: colour codes are kept only when asked") {
  CHECK(printable("\x1b[31mred\x1b[0m", true) == "\x1b[31mred\x1b[0m");
  CHECK(printable("\x1b[31mred\x1b[0m", false) == "\\x1b[31mred\\x1b[0m");
  CHECK(printable("\x1b[31;1x", true) == "\\x1b[31;1x");
}

TEST_CASE("markdown_cell: data is text, never markup or HTML") {
  using ta::markdown_cell;
  CHECK(markdown_cell("<img src=x onerror=alert(1)>") == "\\<img src=x onerror=alert(1)\\>");
  CHECK(markdown_cell("[click](javascript:alert(1))") == "\\[click\\](javascript:alert(1))");
  CHECK(markdown_cell("a|b") == "a\\|b");
  CHECK(markdown_cell("&lt; *b* _i_ ~s~ `c") == "\\&lt; \\*b\\* \\_i\\_ \\~s\\~ \\`c");
  CHECK(markdown_cell("50.0ms") == "50.0ms");
  // A code span as the reports write ids shows its text as it is, but for |.
  CHECK(markdown_cell("`<b>|x`") == "`<b>\\|x`");
  CHECK(markdown_cell("`a`b`") == "\\`a\\`b\\`");  // not one code span
  CHECK(markdown_cell("x\xe2\x80\xaey") == "x\\\\u{202e}y");
}
