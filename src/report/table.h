// A plain table rendered as aligned text or as a GitHub-flavoured Markdown
// table; widths count characters, not bytes (µs, tree lines).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report/output.h"
#include "util/printable.h"

namespace ta {

class Table {
 public:
  enum Align { kLeft, kRight };
  struct Column {
    std::string title;
    Align align = kLeft;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }

  void write_text(Output& out, std::string_view indent = "") const;
  void write_markdown(Output& out) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// A Markdown table cell: printable, and no markup or HTML but a whole
// code span (`...`).
std::string markdown_cell(std::string_view raw);

// Characters in a UTF-8 string.
std::size_t display_width(std::string_view s);
// Cuts to at most `width` characters, marking the cut with "…".
std::string clip(std::string_view s, std::size_t width);
// Pads to `width` characters.
std::string pad(std::string_view s, std::size_t width, Table::Align align = Table::kLeft);

}  // namespace ta
