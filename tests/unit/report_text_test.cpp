// Markdown table cells (report/table.h).
#include <doctest/doctest.h>

#include <string>

#include "report/table.h"

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
