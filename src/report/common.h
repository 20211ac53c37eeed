// Pieces the text and Markdown reports share.
#pragma once

#include <string>

#include "report/report.h"
#include "report/table.h"

namespace ta {

// At most `limit` rows, in the Analysis order.
Table group_table(const Analysis& a, std::size_t limit);
Table edge_table(const Analysis& a, std::size_t limit);
Table skew_table(const Analysis& a, std::size_t limit);
// "+5.00ms" / "-120µs"
std::string signed_dur(Nanos ns);
// "12.5ms" for durations; "-" when there were no values.
std::string dur(Nanos ns);
// A sum of durations in whole microseconds (JSON), and in nanoseconds to
// show (past 2^63 ns, 292 years, the largest).
std::int64_t total_us(Total ns);
Nanos shown_total(Total ns);
std::string percent(double share);
// "2024-01-01 00:00:00.000 UTC"
std::string utc_time(Nanos epoch_ns);
// What people call a span: "service operation" (either alone when the
// other is missing), else its host, else its id.
std::string span_label(const ShownTrace& st, std::uint32_t span);
// The spans holding most of the critical path: "04 60.0ms 60% · 03 40.0ms 40%".
std::string path_leaders(const ShownTrace& st, std::size_t count);
// "398 spans + 6 duplicates + 8 rejected"
std::string line_accounting(const InputStats& in, const Analysis& a);
// "lines   4" for native lines (a record each), else "records 12":
// the words given with their padding.
std::string records_heading(const InputStats& in, std::string_view records_word, std::string_view lines_word);
// Live mode: what was written as it went, and why ("3 traces written as
// they finished: 2 complete, ...").
std::string live_summary(const ReportInput& in);
std::string file_line(const InputStats& in, std::uint32_t file, std::uint64_t line);

}  // namespace ta
