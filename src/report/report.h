// The report writers: one file per format behind one function each.
#pragma once

#include "analyze/summary.h"
#include "cli/options.h"
#include "analyze/emit.h"
#include "read/ingest.h"
#include "report/output.h"
#include "store/symbols.h"

namespace ta {

struct ReportInput {
  const Config& config;
  const InputStats& input;
  const Analysis& analysis;
  Nanos elapsed = 0;        // start to report
  Nanos read_time = 0;      // reading and parsing every input
  Nanos analysis_time = 0;  // assembling and analysing every trace
  const LiveCounts* live = nullptr;  // live mode (--follow): what was written as it went
  bool stopped = false;              // live mode: ended by SIGINT/SIGTERM
  // The traces the report shows, in order: set by the writer (writer.h)
  // from those it was handed.
  std::vector<const ShownTrace*> traces;
};

void write_text_report(const ReportInput& in, Output& out);
void write_json_report(const ReportInput& in, Output& out);
void write_markdown_report(const ReportInput& in, Output& out);

// Live mode: one trace as one line, written as soon as it is finished.
void write_json_trace_line(const std::vector<std::string>& files, const ShownTrace& trace, Emit why, Output& out);
void write_text_trace_line(const ShownTrace& trace, Emit why, bool color, Output& out);

// Flag names as shown in every format, e.g. {"inferred", "skew"}.
std::vector<std::string_view> flag_names(std::uint16_t flags);

// The parent id to show: the resolved parent's id, or for a root the
// parentSpanId it logged (an orphan's lost parent), or "".
std::string_view shown_parent_id(const Trace& t, std::uint32_t span);

}  // namespace ta
