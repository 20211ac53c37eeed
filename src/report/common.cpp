#include "report/common.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "util/format.h"

namespace ta {

std::vector<std::string_view> flag_names(std::uint16_t flags) {
  std::vector<std::string_view> names;
  if (flags & kInferred) names.push_back("inferred");
  if (flags & kOrphan) names.push_back("orphan");
  if (flags & kSkew) names.push_back("skew");
  if (flags & kDuplicateId) names.push_back("dup-id");
  if (flags & kCycle) names.push_back("cycle");
  if (flags & kCodeMismatch) names.push_back("code-mismatch");
  if (flags & kError) names.push_back("error");
  if (flags & kMultiRoot) names.push_back("multi-root");
  return names;
}

std::string_view shown_parent_id(const Trace& t, std::uint32_t span) {
  const std::uint32_t p = t.parent[span];
  if (p != kNone) return t.span_id(p);
  return t.str(t.spans[span].parent_id);
}

std::string dur(Nanos ns) { return human_duration(ns); }

std::string percent(double share) {
  if (share <= 0) return "0%";
  if (share < 0.001) return "<0.1%";
  return fmt::format("{:.1f}%", share * 100);
}

std::string utc_time(Nanos ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  const auto millis = (ns % 1'000'000'000) / 1'000'000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

std::string path_leaders(const ShownTrace& st, std::size_t count) {
  std::vector<std::uint32_t> spans;
  for (std::uint32_t i = 0; i < st.trace.size(); ++i)
    if (st.on_path[i] > 0) spans.push_back(i);
  // The `count` longest on the path, ties in span order; a million-span
  // path is not sorted whole for them.
  const auto shown = static_cast<std::ptrdiff_t>(std::min(count, spans.size()));
  std::partial_sort(spans.begin(), spans.begin() + shown, spans.end(), [&](std::uint32_t a, std::uint32_t b) {
    return st.on_path[a] != st.on_path[b] ? st.on_path[a] > st.on_path[b] : a < b;
  });
  Nanos total = 0;
  for (const PathSection& p : st.path) total += p.end - p.start;
  std::string out;
  for (std::size_t k = 0; k < spans.size() && k < count; ++k) {
    const std::uint32_t i = spans[k];
    if (!out.empty()) out += " · ";
    out += fmt::format("{} {} {}", span_label(st, i), dur(st.on_path[i]),
                       percent(total ? static_cast<double>(st.on_path[i]) / static_cast<double>(total) : 1.0));
  }
  if (spans.size() > count) out += fmt::format(" · {} more", spans.size() - count);
  return out;
}

std::string span_label(const ShownTrace& st, std::uint32_t i) {
  const Span& s = st.trace.spans[i];
  const std::string_view service = st.symbols->text(s.service), operation = st.symbols->text(s.operation);
  if (!service.empty() && !operation.empty()) return fmt::format("{} {}", service, operation);
  if (!service.empty()) return std::string(service);
  if (!operation.empty()) return std::string(operation);
  const std::string_view host = st.symbols->text(s.host);
  if (!host.empty()) return std::string(host);
  return std::string(st.trace.span_id(i));
}

std::string line_accounting(const InputStats& in, const Analysis& a) {
  std::string s =
      fmt::format("{} spans + {} duplicates + {} rejected", a.spans, a.duplicates + in.merged, in.rejected);
  if (in.late_spans) s += fmt::format(" + {} late", in.late_spans);
  return s;
}

std::string file_line(const InputStats& in, std::uint32_t file, std::uint64_t line) {
  return fmt::format("{}:{}", file < in.files.size() ? in.files[file] : "?", line);
}

Table group_table(const Analysis& a, std::size_t limit) {
  Table t({{a.group_label}, {"spans", Table::kRight}, {"errors", Table::kRight}, {"min", Table::kRight},
           {"p50", Table::kRight}, {"p90", Table::kRight}, {"p99", Table::kRight}, {"max", Table::kRight},
           {"self", Table::kRight}, {"critical", Table::kRight}, {"share", Table::kRight}});
  for (const GroupSummary& g : a.groups) {
    if (limit-- == 0) break;
    t.add({clip(printable(g.name), 32), std::to_string(g.spans), std::to_string(g.errors), dur(g.duration.min),
           dur(g.duration.p50), dur(g.duration.p90), dur(g.duration.p99), dur(g.duration.max), dur(shown_total(g.self_total)),
           dur(shown_total(g.critical_total)), percent(g.critical_share)});
  }
  return t;
}

std::int64_t total_us(Total ns) {
  const Total us = ns / 1000;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max(), kMin = std::numeric_limits<std::int64_t>::min();
  return us > kMax ? kMax : us < kMin ? kMin : static_cast<std::int64_t>(us);
}

Nanos shown_total(Total ns) {
  constexpr Nanos kMax = std::numeric_limits<Nanos>::max(), kMin = std::numeric_limits<Nanos>::min();
  return ns > kMax ? kMax : ns < kMin ? kMin : static_cast<Nanos>(ns);
}

std::string signed_dur(Nanos ns) { return (ns > 0 ? "+" : "") + dur(ns); }

Table skew_table(const Analysis& a, std::size_t limit) {
  Table t({{"caller host → callee host"}, {"calls", Table::kRight}, {"outside", Table::kRight},
           {"offset p50", Table::kRight}, {"min", Table::kRight}, {"max", Table::kRight}});
  for (const SkewSummary& s : a.skew) {
    if (limit-- == 0) break;
    t.add({clip(printable(s.caller_host), 24) + " → " + clip(printable(s.callee_host), 24), std::to_string(s.calls),
           std::to_string(s.outside), signed_dur(s.offset.p50), signed_dur(s.offset.min), signed_dur(s.offset.max)});
  }
  return t;
}

Table edge_table(const Analysis& a, std::size_t limit) {
  Table t({{"caller → callee"}, {"calls", Table::kRight}, {"errors", Table::kRight},
           {"client p50", Table::kRight}, {"client p99", Table::kRight}, {"gap p50", Table::kRight},
           {"gap p99", Table::kRight}});
  for (const EdgeSummary& e : a.edges) {
    if (limit-- == 0) break;
    const bool gap = e.gap.count > 0;
    t.add({clip(printable(e.caller), 24) + " → " + clip(printable(e.callee), 24), std::to_string(e.calls), std::to_string(e.errors),
           dur(e.client.p50), dur(e.client.p99), gap ? dur(e.gap.p50) : "-", gap ? dur(e.gap.p99) : "-"});
  }
  return t;
}

}  // namespace ta

namespace ta {

std::string records_heading(const InputStats& in, std::string_view records_word, std::string_view lines_word) {
  // Native lines are each one record: counted as lines, as always. Other
  // formats hold several records a line, or a document many.
  if (in.documents == 0 && in.records() == in.lines)
    return fmt::format("{}{}", lines_word, in.lines);
  return fmt::format("{}{}", records_word, in.records());
}

std::string live_summary(const ReportInput& in) {
  const LiveCounts& c = *in.live;
  std::string s = fmt::format(
      "{} written as they finished: {} complete, {} at the {} window, {} evicted, {} at the {}; {} late (not "
      "merged); at most {} open",
      plural(c.emitted[0] + c.emitted[1] + c.emitted[2] + c.emitted[3], "trace"), c.emitted[0], c.emitted[1],
      human_duration(in.config.window), c.emitted[2], c.emitted[3], in.stopped ? "stop" : "end of input",
      plural(c.late, "span"), c.open_peak);
  if (c.labels_over || c.pairs_over)
    s += fmt::format("; past --max-labels {}, shown as (other): {} met, {} tallied", in.config.max_labels,
                     plural(c.labels_over, "new label"), plural(c.pairs_over, "label pair"));
  return s;
}

}  // namespace ta
