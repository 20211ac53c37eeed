// The report for people: header, summary tables, the slowest traces as trees
// with their critical path, then anomalies.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "report/common.h"
#include "report/report.h"
#include "store/span_details.h"
#include "util/format.h"

namespace ta {
namespace {

constexpr std::size_t kTimelineWidth = 24;
constexpr std::size_t kSpanColumn = 32;  // tree and id together, so a row fits 120 columns
constexpr std::uint32_t kMaxIndent = 12;  // deeper levels are drawn compressed
constexpr std::size_t kMaxTreeSpans = 60;  // per trace in the slowest list; --trace shows all

struct Style {
  bool on;
  std::string bold(std::string_view s) const { return on ? fmt::format("\x1b[1m{}\x1b[0m", s) : std::string(s); }
  std::string red(std::string_view s) const { return on ? fmt::format("\x1b[31m{}\x1b[0m", s) : std::string(s); }
  std::string yellow(std::string_view s) const { return on ? fmt::format("\x1b[33m{}\x1b[0m", s) : std::string(s); }
  std::string dim(std::string_view s) const { return on ? fmt::format("\x1b[2m{}\x1b[0m", s) : std::string(s); }
};

void write_header(const ReportInput& in, Output& out, const Style& st) {
  const InputStats& s = in.input;
  const Analysis& a = in.analysis;
  out.print("{} {}: {} {}, {} read in {}\n", st.bold("trace-assemble"), TA_VERSION, s.files.size(),
            s.files.size() == 1 ? "file" : "files", human_bytes(s.bytes), human_duration(in.elapsed));
  out.print("{} = {}", records_heading(s, "records ", "lines   "), line_accounting(s, a));
  if (s.blank_lines) out.print(" ({} blank skipped)", s.blank_lines);
  out.print("\n");
  const TraceTotals& t = a.traces;
  out.print("traces  {}: {} complete", t.count, t.complete);
  if (t.missing_root) out.print(", {} missing their root", t.missing_root);
  if (t.with_orphans) out.print(", {} with orphans", t.with_orphans);
  if (t.with_inferred) out.print(", {} with inferred spans ({})", t.with_inferred, plural(a.inferred, "span"));
  out.print("\n");
  if (t.count) {
    out.print("latency p50 {}  p90 {}  p99 {}  max {}   spans/trace p50 {}  max {}\n", dur(t.latency.p50),
              dur(t.latency.p90), dur(t.latency.p99), dur(t.latency.max), t.spans.p50, t.spans.max);
  }
  if (in.live) out.print("live    {}\n", live_summary(in));
}

// Writes s as printable() shows it; no copy when that is s.
void put_printable(Output& out, std::string_view s) {
  if (all_printable(s)) {
    out.write(s);
  } else {
    out.write(printable(s));
  }
}

void write_summary(const ReportInput& in, Output& out, const Style& st) {
  const Analysis& a = in.analysis;
  if (a.groups.empty()) return;
  out.print("\n{}\n", st.bold(fmt::format("By {}", printable(a.group_label))));
  group_table(a, kTableRows).write_text(out, "  ");
  if (a.groups.size() > kTableRows) out.print("  … {} more (see --format json)\n", a.groups.size() - kTableRows);
  if (!a.edges.empty()) {
    out.print("\n{}\n", st.bold("Calls"));
    edge_table(a, kTableRows).write_text(out, "  ");
    if (a.edges.size() > kTableRows) out.print("  … {} more (see --format json)\n", a.edges.size() - kTableRows);
  }
  if (!a.skew.empty()) {
    out.print("\n{}\n", st.bold("Clock skew (callee ran outside its caller's view; offset = callee start - subTimestamp)"));
    skew_table(a, kTableRows).write_text(out, "  ");
    if (a.skew.size() > kTableRows) out.print("  … {} more (see --format json)\n", a.skew.size() - kTableRows);
    if (a.adjustments)
      out.print("  --adjust-skew moved {} callee subtrees onto their callers' clocks\n", a.adjustments);
    else
      out.print("  times are shown as logged; --adjust-skew moves such callees into their callers' view\n");
  }
}

std::string timeline(const Trace& t, const Span& s) {
  const Nanos total = std::max<Nanos>(t.latency(), 1);
  auto col = [&](Nanos at) {
    return static_cast<std::size_t>(static_cast<long double>(at - t.start) * kTimelineWidth / total);
  };
  std::size_t from = std::min(col(s.start), kTimelineWidth - 1);
  std::size_t to = std::max(from + 1, std::min(col(s.end()) + (s.end() > s.start ? 0 : 1), kTimelineWidth));
  if (to > kTimelineWidth) to = kTimelineWidth;
  std::string bar = "|";
  const char* fill = (s.flags & kInferred) ? "░" : "█";
  for (std::size_t c = 0; c < kTimelineWidth; ++c) bar += (c >= from && c < to) ? fill : " ";
  return bar + "|";
}

// Tree prefixes in depth-first order: "├─ ", "│  └─ ", ...
std::vector<std::string> tree_prefixes(const Trace& t, std::size_t limit) {
  std::vector<bool> last(t.size(), false);
  if (!t.roots.empty()) last[t.roots.back()] = true;
  for (std::uint32_t i = 0; i < t.size(); ++i) {
    auto k = t.kids(i);
    if (k.size()) last[*(k.end() - 1)] = true;
  }
  std::vector<std::string> prefixes;
  std::vector<bool> open;  // per level: a later sibling still follows
  for (std::size_t n = 0; n < t.order.size() && n < limit; ++n) {
    const std::uint32_t u = t.order[n];
    const std::uint32_t d = t.depth[u];
    open.resize(d + 1);
    open[d] = !last[u];
    std::string p;
    if (d > 0) {
      const std::uint32_t shown = std::min(d, kMaxIndent);
      for (std::uint32_t level = 1; level < shown; ++level) p += open[level] ? "│  " : "   ";
      if (d > kMaxIndent) p += fmt::format("…{} ", d);
      p += last[u] ? "└─ " : "├─ ";
    }
    prefixes.push_back(std::move(p));
  }
  return prefixes;
}

// --trace ID: each span's kind, status, attributes, events and links, for
// the spans that have them.
void write_details(const ShownTrace& shown, Output& out) {
  const Trace& t = shown.trace;
  SpanDetails d;
  bool any = false;
  for (const std::uint32_t i : t.order) {
    const Span& s = t.spans[i];
    if (!s.kind && !s.status && !s.details.length) continue;
    decode_details(t.str(s.details), s.start - t.shift_of(i), d);
    if (!any) out.write("  details:\n");
    any = true;
    std::string head = fmt::format("    {} ({})", span_label(shown, i), t.span_id(i));
    if (s.kind) head += fmt::format("  {}", kind_name(s.kind));
    if (s.status) head += fmt::format("  status {}", status_name(s.status));
    if (!d.status_message.empty()) head += fmt::format(": {}", d.status_message);
    out.write(printable(head));
    out.write("\n");
    for (const AttributeRecord& a : d.attributes) out.write(printable(fmt::format("      {} = {}", a.key, a.value)) + "\n");
    for (const EventRecord& e : d.events) {
      std::string line = fmt::format("      event +{} {}", dur(e.time - t.start), e.name);
      for (std::uint32_t k = e.attributes_begin; k < e.attributes_begin + e.attributes_count; ++k)
        line += fmt::format("  {}={}", d.event_attributes[k].key, d.event_attributes[k].value);
      out.write(printable(line) + "\n");
    }
    for (const LinkRecord& l : d.links)
      out.write(printable(fmt::format("      {} trace {} span {}", link_name(l.type), l.trace_id, l.span_id)) + "\n");
  }
}

void write_trace(const ReportInput& in, const ShownTrace& shown, Output& out, const Style& st) {
  const Trace& t = shown.trace;
  std::size_t hosts = 0;
  {
    // Symbols are small dense numbers: one mark each, no sort of a million.
    std::vector<bool> seen;
    for (const Span& s : t.spans) {
      if (s.host == 0) continue;
      if (s.host >= seen.size()) seen.resize(s.host + 1);
      hosts += !seen[s.host];
      seen[s.host] = true;
    }
  }
  std::vector<std::string> notes;
  if (t.inferred_spans) notes.push_back(fmt::format("{} inferred", t.inferred_spans));
  if (t.duplicates) notes.push_back(plural(t.duplicates, "duplicate line"));
  if (!t.anomalies.empty()) notes.push_back(t.anomalies.size() == 1 ? "1 anomaly" : fmt::format("{} anomalies", t.anomalies.size()));
  out.print("\n{} {}  {}  {} on {}  {}{}\n", st.bold("trace"), st.bold(printable(t.trace_id)), st.bold(dur(t.latency())),
            plural(t.size(), "span"), plural(hosts, "host"), utc_time(t.start), notes.empty() ? "" : "  [" + fmt::format("{}", fmt::join(notes, ", ")) + "]");
  out.print("  critical path: {}\n", printable(path_leaders(shown, 4)));

  const bool all = !in.config.trace_ids.empty() || in.config.all_traces;
  const std::size_t limit = all ? t.order.size() : kMaxTreeSpans;
  const auto prefixes = tree_prefixes(t, limit);
  // Spans are named as people know them (span_label); the host gets a
  // column of its own only when some span is named by its service.
  bool named = false;
  for (const Span& s : t.spans) named = named || s.service != 0 || s.operation != 0;
  std::vector<Table::Column> columns{{"span"}, {"id"}};
  if (named) columns.push_back({"host"});
  for (Table::Column c : {Table::Column{"start", Table::kRight}, Table::Column{"duration", Table::kRight},
                          Table::Column{"self", Table::kRight}, Table::Column{"code", Table::kRight},
                          Table::Column{"on path", Table::kRight}, Table::Column{"flags"}, Table::Column{"timeline"}})
    columns.push_back(c);
  Table table(columns);
  for (std::size_t n = 0; n < prefixes.size(); ++n) {
    const std::uint32_t i = t.order[n];
    const Span& s = t.spans[i];
    const auto flags = flag_names(static_cast<std::uint16_t>(s.flags & ~kError));
    std::string code = s.http_code == kNoCode ? "-" : std::to_string(s.http_code);
    if (s.flags & kError) code = st.red(code);
    std::string path = shown.on_path[i] ? "● " + dur(shown.on_path[i]) : "";
    std::vector<std::string> row{
        prefixes[n] + clip(printable(span_label(shown, i)), std::max<std::size_t>(8, kSpanColumn - display_width(prefixes[n]))),
        clip(printable(t.span_id(i)), 18)};
    if (named) row.push_back(clip(printable(shown.symbols->text(s.host)), 20));
    for (std::string& cell : std::vector<std::string>{"+" + dur(s.start - t.start), dur(s.duration), dur(shown.self[i]),
                                                      code, path,
                                                      flags.empty() ? "" : st.yellow(fmt::format("{}", fmt::join(flags, ","))),
                                                      timeline(t, s)})
      row.push_back(std::move(cell));
    table.add(std::move(row));
  }
  table.write_text(out, "  ");
  if (!in.config.trace_ids.empty()) write_details(shown, out);
  for (const Adjustment& adj : t.adjustments)
    out.print("  adjusted: {} and its subtree moved {} onto its caller's clock (--adjust-skew)\n", printable(t.span_id(adj.span)),
              signed_dur(adj.shift));
  if (t.order.size() > limit)
    out.print("  … {} more spans (show them all with --trace {})\n", t.order.size() - limit, printable(t.trace_id));
}

void write_anomalies(const ReportInput& in, Output& out, const Style& st) {
  const Analysis& a = in.analysis;
  if (a.anomalies == 0) return;
  std::vector<std::string> counts;
  for (int k = 0; k < kAnomalyKinds; ++k)
    if (a.anomaly_counts[k]) counts.push_back(fmt::format("{} {}", a.anomaly_counts[k], anomaly_name(static_cast<AnomalyKind>(k))));
  out.print("\n{} {} ({})\n", st.bold("Anomalies"), a.anomalies, fmt::join(counts, ", "));
  Table table({{"kind"}, {"where"}, {"trace"}, {"span"}, {"detail"}});
  for (const AnomalyExample& e : a.anomaly_examples)
    table.add({std::string(anomaly_name(e.kind)), clip(printable(file_line(in.input, e.file, e.line)), 32),
               clip(printable(e.trace_id), 16), clip(printable(e.span_id), 12), clip(printable(e.detail), 56)});
  table.write_text(out, "  ");
}

// The anomalies of the shown traces (--trace), every one.
void write_trace_anomalies(const ReportInput& in, Output& out, const Style& st) {
  std::size_t count = 0;
  for (const ShownTrace* shown : in.traces) count += shown->trace.anomalies.size();
  if (count == 0) return;
  out.print("\n{} {}\n", st.bold("Anomalies"), count);
  Table table({{"kind"}, {"where"}, {"trace"}, {"span"}, {"detail"}});
  for (const ShownTrace* trace : in.traces) {
    const ShownTrace& shown = *trace;
    const Trace& t = shown.trace;
    for (const Anomaly& an : t.anomalies) {
      const Span& s = t.spans[an.span];
      table.add({std::string(anomaly_name(an.kind)), clip(printable(file_line(in.input, s.file, s.line)), 32),
                 clip(printable(t.trace_id), 16), clip(printable(span_label(shown, an.span)), 24),
                 clip(printable(an.detail), 56)});
    }
  }
  table.write_text(out, "  ");
}

}  // namespace

void write_text_trace_line(const ShownTrace& shown, Emit why, bool color, Output& out) {
  const Style st{color};
  const Trace& t = shown.trace;
  // "ID  120ms  14 spans  complete  api GET /x 50% · db query 33% · 2 more  [inferred]"
  if (color) out.write("\x1b[1m");
  put_printable(out, t.trace_id);
  if (color) out.write("\x1b[0m");
  // Written piece by piece, as below: a live run writes a line a trace.
  out.write("  ");
  out.write(dur(t.latency()));
  out.write("  ");
  out.write(plural(t.size(), "span"));
  out.write("  ");
  if (why == Emit::kComplete) {
    out.write(emit_name(why));
  } else {
    out.write(st.yellow(emit_name(why)));
  }
  // The three spans with most time on the critical path, most first.
  constexpr std::size_t kLeaders = 3;
  std::uint32_t top[kLeaders];
  std::size_t n = 0, on_path = 0;
  for (std::uint32_t i = 0; i < t.size(); ++i) {
    if (shown.on_path[i] <= 0) continue;
    ++on_path;
    std::size_t k = n < kLeaders ? n++ : kLeaders;
    while (k > 0 && shown.on_path[top[k - 1]] < shown.on_path[i]) {
      if (k < kLeaders) top[k] = top[k - 1];
      --k;
    }
    if (k < kLeaders) top[k] = i;
  }
  Nanos total = 0;
  for (const PathSection& p : shown.path) total += p.end - p.start;
  for (std::size_t k = 0; k < n; ++k) {
    const Span& s = t.spans[top[k]];
    const std::string_view who = shown.symbols->text(s.service != 0 ? s.service : s.host);
    const std::string_view op = shown.symbols->text(s.operation);
    out.write(k ? " · " : "  ");
    put_printable(out, who.empty() ? "?" : who);
    if (!op.empty()) {
      out.write(" ");
      put_printable(out, op);
    }
    // Whole percent: no decimals to format on every line.
    const Nanos on = shown.on_path[top[k]];
    const long long share = total > 0 ? std::llround(100.0 * static_cast<double>(on) / static_cast<double>(total)) : 100;
    out.write(" ");
    out.write(fmt::format_int(share).c_str());
    out.write("%");
  }
  if (on_path > n) {
    out.write(" · ");
    out.write(fmt::format_int(on_path - n).c_str());
    out.write(" more");
  }
  // The kinds of anomaly found, once each.
  std::uint32_t kinds = 0;
  for (const Anomaly& a : t.anomalies) kinds |= 1u << static_cast<int>(a.kind);
  if (kinds) {
    std::string names;
    for (int k = 0; k < kAnomalyKinds; ++k) {
      if (!(kinds & (1u << k))) continue;
      if (!names.empty()) names += ',';
      names += anomaly_name(static_cast<AnomalyKind>(k));
    }
    out.print("  [{}]", st.red(names));
  }
  out.write("\n");
}

void write_text_report(const ReportInput& in, Output& out) {
  const Style st{in.config.color};
  write_header(in, out, st);
  // --trace: the traces asked for and their anomalies, not the whole log's
  // summary (JSON keeps that, labelled).
  const bool picked = !in.config.trace_ids.empty();
  if (!picked) write_summary(in, out, st);
  const Analysis& a = in.analysis;
  if (!in.traces.empty()) {
    if (!picked) out.print("\n{}\n", st.bold(fmt::format("Slowest traces ({} of {})", in.traces.size(), a.traces.count)));
    for (const ShownTrace* s : in.traces) write_trace(in, *s, out, st);
  }
  if (picked) {
    write_trace_anomalies(in, out, st);
  } else {
    write_anomalies(in, out, st);
  }
}

}  // namespace ta
