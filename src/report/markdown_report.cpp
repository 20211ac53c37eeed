// The report as GitHub-flavoured Markdown, for CI job summaries and PR
// comments: the same content as text, without trees.
#include <fmt/format.h>

#include "report/common.h"
#include "report/report.h"
#include "util/format.h"

namespace ta {
namespace {

std::string code(std::string_view s) {
  std::string v(s);
  for (char& c : v)
    if (c == '`') c = '\'';
  return "`" + v + "`";
}

}  // namespace

void write_markdown_report(const ReportInput& in, Output& out) {
  const InputStats& s = in.input;
  const Analysis& a = in.analysis;
  const TraceTotals& t = a.traces;
  out.print("## trace-assemble report\n\n");
  const bool lines = s.documents == 0 && s.records() == s.lines;
  out.print("**{}** {} · {} · **{}** {} = {}\n\n", s.files.size(), s.files.size() == 1 ? "file" : "files",
            human_bytes(s.bytes), lines ? s.lines : s.records(), lines ? "lines" : "records",
            line_accounting(s, a));
  out.print("**{}** {}: {} complete", t.count, t.count == 1 ? "trace" : "traces", t.complete);
  if (t.missing_root) out.print(", {} missing their root", t.missing_root);
  if (t.with_orphans) out.print(", {} with orphans", t.with_orphans);
  if (t.with_inferred) out.print(", {} with inferred spans", t.with_inferred);
  out.print(" · latency p50 {} · p90 {} · p99 {} · max {}\n", dur(t.latency.p50), dur(t.latency.p90),
            dur(t.latency.p99), dur(t.latency.max));
  if (in.live) out.print("\n**live**: {}\n", live_summary(in));

  if (!in.traces.empty()) {
    out.print("\n### {}\n\n", in.config.trace_ids.empty() ? "Slowest traces" : "Traces");
    Table table({{"trace"}, {"latency", Table::kRight}, {"spans", Table::kRight}, {"critical path"}, {"anomalies"}});
    for (const ShownTrace* shown : in.traces) {
      const ShownTrace& st = *shown;
      std::vector<std::string> kinds;
      for (const Anomaly& an : st.trace.anomalies) {
        const std::string name(anomaly_name(an.kind));
        if (std::find(kinds.begin(), kinds.end(), name) == kinds.end()) kinds.push_back(name);
      }
      table.add({code(st.trace.trace_id), dur(st.trace.latency()), std::to_string(st.trace.size()),
                 path_leaders(st, 3), fmt::format("{}", fmt::join(kinds, ", "))});
    }
    table.write_markdown(out);
  }
  if (!in.config.trace_ids.empty()) {  // --trace: those traces' anomalies, not the whole log's summary
    Table examples({{"kind"}, {"where"}, {"trace"}, {"span"}, {"detail"}});
    for (const ShownTrace* shown : in.traces)
      for (const Anomaly& an : shown->trace.anomalies) {
        const ShownTrace& st = *shown;
        const Span& sp = st.trace.spans[an.span];
        examples.add({std::string(anomaly_name(an.kind)), code(file_line(s, sp.file, sp.line)), code(st.trace.trace_id),
                      code(span_label(st, an.span)), an.detail});
      }
    if (!examples.empty()) {
      out.print("\n### Anomalies\n\n");
      examples.write_markdown(out);
    }
    return;
  }
  if (!a.groups.empty()) {
    out.print("\n### By {}\n\n", markdown_cell(a.group_label));
    group_table(a, kTableRows).write_markdown(out);
    if (a.groups.size() > kTableRows) out.print("\n{} more in `--format json`.\n", a.groups.size() - kTableRows);
  }
  if (!a.edges.empty()) {
    out.print("\n### Calls\n\n");
    edge_table(a, kTableRows).write_markdown(out);
    if (a.edges.size() > kTableRows) out.print("\n{} more in `--format json`.\n", a.edges.size() - kTableRows);
  }
  if (!a.skew.empty()) {
    out.print("\n### Clock skew\n\nHost pairs where a callee ran outside its caller's view of the call "
              "(offset = callee start − subTimestamp).\n\n");
    skew_table(a, kTableRows).write_markdown(out);
  }
  if (a.anomalies) {
    out.print("\n### Anomalies ({})\n\n", a.anomalies);
    Table kinds({{"kind"}, {"count", Table::kRight}});
    for (int k = 0; k < kAnomalyKinds; ++k)
      if (a.anomaly_counts[k]) kinds.add({std::string(anomaly_name(static_cast<AnomalyKind>(k))), std::to_string(a.anomaly_counts[k])});
    kinds.write_markdown(out);
    out.print("\n");
    Table examples({{"kind"}, {"where"}, {"trace"}, {"span"}, {"detail"}});
    for (const AnomalyExample& e : a.anomaly_examples)
      examples.add({std::string(anomaly_name(e.kind)), code(file_line(s, e.file, e.line)), code(e.trace_id),
                    code(e.span_id), e.detail});
    examples.write_markdown(out);
  }
  if (s.rejected) {
    out.print("\n### Rejected lines ({})\n\n", s.rejected);
    Table rej({{"where"}, {"reason"}});
    for (std::size_t k = 0; k < s.rejections.size() && k < 20; ++k)
      rej.add({code(file_line(s, s.rejections[k].file, s.rejections[k].line)), s.rejections[k].reason});
    rej.write_markdown(out);
  }
}

}  // namespace ta
