// The document for machines: keys in camelCase, times in integer
// microseconds, layout documented in the README (schema version 2).
#include <fmt/format.h>

#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "report/common.h"
#include "report/report.h"
#include "store/span_details.h"
#include "util/json_number.h"
#include "util/printable.h"
#include "util/utf8.h"

namespace ta {
namespace {

constexpr int kSchemaVersion = 2;

std::int64_t us(Nanos ns) { return ns / 1000; }
// An instant in microseconds, rounded down; a trace's and a span's times
// are written as such instants and the differences of them, so that in
// the JSON a start plus its duration is its end, and a trace's critical
// path sections add up to its root's duration, whatever the nanoseconds.
std::int64_t at_us(Nanos ns) { return ns / 1000 - (ns % 1000 < 0 ? 1 : 0); }

// True when s goes into a JSON string as it is: printable ASCII (no DEL),
// no quote or backslash (ids, hosts and names nearly always).
bool plain_ascii(std::string_view s) {
  std::size_t i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Signed: bytes of 0x80 and up are negative, below 0x20 with the controls.
    const __m128i quote_or_backslash =
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    const __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                                  _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
                                     quote_or_backslash);
    if (_mm_movemask_epi8(bad) != 0) return false;
  }
#endif
  unsigned bad = 0;
  for (const char ch : s.substr(i)) {
    const auto c = static_cast<unsigned char>(ch);
    bad |= static_cast<unsigned>(c < 0x20) | static_cast<unsigned>(c >= 0x7f) | static_cast<unsigned>(c == '"') |
           static_cast<unsigned>(c == '\\');
  }
  return bad == 0;
}

// A JSON string of s. Bytes that are not UTF-8 (a file name may hold any)
// become U+FFFD each, so the document stays valid JSON. For a terminal, any
// other control (C1, DEL, bidirectional) is escaped too.
void put_string(Output& out, std::string_view s) {
  if (plain_ascii(s)) return out.write_quoted(s);
  const bool escape_all = out.controls() == Output::Controls::kAllEscaped;
  std::string e = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x7f) {
      const Utf8Char ch = utf8_char(s, i);
      if (ch.length == 0) {
        e += "\\ufffd";
      } else if (escape_all && terminal_control(ch.code_point)) {
        e += fmt::format("\\u{:04x}", ch.code_point);  // all of them are below U+10000
        i += ch.length - 1;
      } else {
        e.append(s.substr(i, ch.length));
        i += ch.length - 1;
      }
      continue;
    }
    switch (c) {
      case '"': e += "\\\""; break;
      case '\\': e += "\\\\"; break;
      case '\n': e += "\\n"; break;
      case '\r': e += "\\r"; break;
      case '\t': e += "\\t"; break;
      default:
        if (c < 0x20) {
          e += fmt::format("\\u{:04x}", c);
        } else {
          e += static_cast<char>(c);
        }
    }
  }
  e += '"';
  out.write(e);
}

// A key (its text with the quotes, colon and any comma before) and a whole
// number, as print("KEY{}", v) writes them.
template <typename Int>
void put_int(Output& out, std::string_view key, Int v) {
  out.write(key);
  out.write_int(v);
}

using Files = std::vector<std::string>;

// ,"file":"NAME","line":N
void put_location(const Files& files, Output& out, std::uint32_t file, std::uint64_t line) {
  out.write(",\"file\":");
  put_string(out, file < files.size() ? files[file] : "");
  put_int(out, ",\"line\":", line);
}

// Written piece by piece, as the hot parts of the document are: a fleet's
// list of pairs holds hundreds of thousands of these, and a format string
// read anew for each value costs several times the writing.
void put_distribution(Output& out, const Distribution& d) {
  put_int(out, "{\"count\":", d.count);
  put_int(out, ",\"minUs\":", us(d.min));
  put_int(out, ",\"p50Us\":", us(d.p50));
  put_int(out, ",\"p90Us\":", us(d.p90));
  put_int(out, ",\"p99Us\":", us(d.p99));
  put_int(out, ",\"maxUs\":", us(d.max));
  out.write("}");
}

void put_value(Output& out, const AttributeRecord& a) {
  switch (a.type) {
    case ValueType::kInt:
    case ValueType::kDouble:
      if (is_json_number(a.value)) return out.write(a.value);
      break;
    case ValueType::kBool:
      if (a.value == "true" || a.value == "false") return out.write(a.value);
      break;
    case ValueType::kJson:
      if (!a.value.empty()) return out.write(a.value);  // JSON text as the adapter read or built it
      break;
    case ValueType::kString: break;
  }
  put_string(out, a.value);
}

// {"key":value,...}
void put_attributes(Output& out, const AttributeRecord* a, std::size_t n) {
  out.write("{");
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out.write(",");
    put_string(out, a[i].key);
    out.write(":");
    put_value(out, a[i]);
  }
  out.write("}");
}

// ,"kind":..,"status":{..},"attributes":{..},"events":[..],"links":[..]
void put_details(Output& out, const Trace& t, const Span& s, SpanDetails& d) {
  decode_details(t.str(s.details), s.start - t.shift_of(static_cast<std::uint32_t>(&s - t.spans.data())), d);
  out.write(",\"kind\":");
  const std::string_view kind = kind_name(s.kind);
  if (kind.empty()) {
    out.write("null");
  } else {
    out.write_quoted(kind);
  }
  out.write(",\"status\":{\"code\":");
  out.write_quoted(status_name(s.status));
  out.write(",\"message\":");
  put_string(out, d.status_message);
  out.write("},\"attributes\":");
  put_attributes(out, d.attributes.data(), d.attributes.size());
  out.write(",\"events\":[");
  for (std::size_t k = 0; k < d.events.size(); ++k) {
    const EventRecord& e = d.events[k];
    out.print("{}{{\"timeUs\":{},\"name\":", k ? "," : "", us(e.time));
    put_string(out, e.name);
    out.write(",\"attributes\":");
    put_attributes(out, d.event_attributes.data() + e.attributes_begin, e.attributes_count);
    out.write("}");
  }
  out.write("],\"links\":[");
  for (std::size_t k = 0; k < d.links.size(); ++k) {
    out.write(k ? ",{\"traceId\":" : "{\"traceId\":");
    put_string(out, d.links[k].trace_id);
    out.write(",\"spanId\":");
    put_string(out, d.links[k].span_id);
    out.print(",\"type\":\"{}\"}}", link_name(d.links[k].type));
  }
  out.write("]");
}

void put_input(const ReportInput& in, Output& out) {
  const InputStats& s = in.input;
  const Analysis& a = in.analysis;
  out.write("\"input\":{\"files\":[");
  for (std::size_t i = 0; i < s.files.size(); ++i) {
    if (i) out.write(",");
    put_string(out, s.files[i]);
  }
  out.print(
      "],\"bytes\":{},\"records\":{},\"lines\":{},\"blankLines\":{},\"documents\":{},\"spans\":{},"
      "\"duplicates\":{},\"merged\":{},\"rejected\":{},\"inferredSpans\":{},\"traces\":{},\"elapsedUs\":{},"
      "\"readUs\":{},\"analysisUs\":{},\"notes\":[",
      s.bytes, s.records(), s.lines, s.blank_lines, s.documents, a.spans, a.duplicates + s.merged, s.merged,
      s.rejected, a.inferred, a.traces.count, us(in.elapsed), us(in.read_time), us(in.analysis_time));
  for (std::size_t i = 0; i < s.notes.size(); ++i) {
    if (i) out.write(",");
    put_string(out, s.notes[i]);
  }
  out.write("]}");
}

// What live mode wrote as it went.
void put_live(const ReportInput& in, Output& out) {
  const LiveCounts& c = *in.live;
  out.print(
      ",\n\"live\":{{\"tracesWritten\":{},\"complete\":{},\"window\":{},\"evicted\":{},\"end\":{},"
      "\"lateSpans\":{},\"openPeak\":{},\"windowUs\":{},\"maxOpenTraces\":{},\"maxLabels\":{},"
      "\"labelsOverLimit\":{},\"labelPairsOverLimit\":{},\"readCpuUs\":{},\"parseCpuUs\":{},"
      "\"assembleCpuUs\":{},\"writeCpuUs\":{},\"stopped\":{}}}",
      c.emitted[0] + c.emitted[1] + c.emitted[2] + c.emitted[3], c.emitted[0], c.emitted[1], c.emitted[2],
      c.emitted[3], c.late, c.open_peak, us(in.config.window), in.config.max_open_traces, in.config.max_labels,
      c.labels_over, c.pairs_over, us(c.read_cpu), us(c.parse_cpu), us(c.assemble_cpu), us(c.write_cpu),
      in.stopped ? "true" : "false");
}

// One trace; in live mode on one line, with why it was written.
void put_trace(const Files& files, const ShownTrace& st, Output& out, std::string_view emitted = {}) {
  const bool one_line = !emitted.empty();
  const char* nl = one_line ? "" : "\n";
  const Trace& t = st.trace;
  SpanDetails details;
  out.write("{\"traceId\":");
  put_string(out, t.trace_id);
  if (one_line) {
    out.write(",\"emitted\":");
    out.write_quoted(emitted);
  }
  // Written piece by piece (a trace line per trace in live mode: a format
  // string read anew for each value cost more than the rest of the run).
  put_int(out, ",\"startUs\":", at_us(t.start));
  put_int(out, ",\"durationUs\":", at_us(t.end) - at_us(t.start));
  put_int(out, ",\"spanCount\":", t.size());
  put_int(out, ",\"inferredSpans\":", t.inferred_spans);
  put_int(out, ",\"duplicates\":", t.duplicates);
  // A span's time on the critical path: its sections', as written.
  thread_local std::vector<std::int64_t> critical;  // kept: live mode writes a trace at a time
  critical.assign(t.size(), 0);
  for (const PathSection& p : st.path) critical[p.span] += at_us(p.end) - at_us(p.start);
  out.write(",\"spans\":[");
  for (std::size_t n = 0; n < t.order.size(); ++n) {
    const std::uint32_t i = t.order[n];
    const Span& s = t.spans[i];
    if (n) out.write(",");
    out.write(nl);
    out.write("{\"spanId\":");
    put_string(out, t.span_id(i));
    out.write(",\"parentSpanId\":");
    const std::string_view parent = shown_parent_id(t, i);
    if (parent.empty()) {
      out.write("null");
    } else {
      put_string(out, parent);
    }
    out.write(",\"host\":");
    put_string(out, st.symbols->text(s.host));
    out.write(",\"service\":");
    put_string(out, st.symbols->text(s.service));
    out.write(",\"operation\":");
    put_string(out, st.symbols->text(s.operation));
    put_int(out, ",\"startUs\":", at_us(s.start));
    put_int(out, ",\"durationUs\":", at_us(s.end()) - at_us(s.start));
    put_int(out, ",\"selfUs\":", us(st.self[i]));
    put_int(out, ",\"criticalUs\":", critical[i]);
    out.write(",\"httpCode\":");
    if (s.http_code == kNoCode) {
      out.write("null");
    } else {
      out.write_int(s.http_code);
    }
    put_int(out, ",\"depth\":", t.depth[i]);
    out.write((s.flags & kInferred) ? ",\"inferred\":true,\"flags\":[" : ",\"inferred\":false,\"flags\":[");
    const auto flags = flag_names(s.flags);
    for (std::size_t f = 0; f < flags.size(); ++f) {
      if (f) out.write(",");
      out.write_quoted(flags[f]);
    }
    out.write("]");
    put_details(out, t, s, details);
    put_location(files, out, s.file, s.line);
    out.write("}");
  }
  out.write("],");
  out.write(nl);
  out.write("\"criticalPath\":[");
  for (std::size_t k = 0; k < st.path.size(); ++k) {
    const PathSection& p = st.path[k];
    out.write(k ? ",{\"spanId\":" : "{\"spanId\":");
    put_string(out, t.span_id(p.span));
    put_int(out, ",\"startUs\":", at_us(p.start));
    put_int(out, ",\"endUs\":", at_us(p.end));
    out.write("}");
  }
  out.print("],{}\"adjustments\":[", nl);
  for (std::size_t k = 0; k < t.adjustments.size(); ++k) {
    out.write(k ? ",{\"spanId\":" : "{\"spanId\":");
    put_string(out, t.span_id(t.adjustments[k].span));
    out.print(",\"shiftUs\":{}}}", us(t.adjustments[k].shift));
  }
  out.print("],{}\"anomalies\":[", nl);
  for (std::size_t k = 0; k < t.anomalies.size(); ++k) {
    const Anomaly& an = t.anomalies[k];
    const Span& s = t.spans[an.span];
    out.print("{}{{\"kind\":\"{}\",\"spanId\":", k ? "," : "", anomaly_name(an.kind));
    put_string(out, t.span_id(an.span));
    put_location(files, out, s.file, s.line);
    out.write(",\"detail\":");
    put_string(out, an.detail);
    out.write("}");
  }
  out.write("]}");
}

void put_summary(const ReportInput& in, Output& out) {
  const Analysis& a = in.analysis;
  // Every row is listed: every row must have its distributions.
  if (a.distributed_rows != rows_shown(Format::kJson))
    throw std::logic_error("JSON report of an analysis made for another format");
  // The whole input's, also when --trace shows only some traces.
  out.write("\"summary\":{\"scope\":\"input\",\"groupBy\":");
  put_string(out, a.group_label);
  out.write(",\"groups\":[");
  for (std::size_t k = 0; k < a.groups.size(); ++k) {
    const GroupSummary& g = a.groups[k];
    out.write(k ? ",\n{\"name\":" : "\n{\"name\":");
    put_string(out, g.name);
    out.print(",\"spans\":{},\"errors\":{},\"duration\":", g.spans, g.errors);
    put_distribution(out, g.duration);
    out.print(",\"selfUs\":{},\"criticalUs\":{},\"criticalShare\":{:.6f}}}", total_us(g.self_total), total_us(g.critical_total),
              g.critical_share);
  }
  const TraceTotals& t = a.traces;
  out.print("],\n\"traces\":{{\"count\":{},\"complete\":{},\"missingRoot\":{},\"withOrphans\":{},\"withInferred\":{},",
            t.count, t.complete, t.missing_root, t.with_orphans, t.with_inferred);
  out.write("\"latency\":");
  put_distribution(out, t.latency);
  out.print(",\"spansPerTrace\":{{\"min\":{},\"p50\":{},\"p90\":{},\"p99\":{},\"max\":{}}}}},\n\"edges\":[",
            t.spans.min, t.spans.p50, t.spans.p90, t.spans.p99, t.spans.max);
  for (std::size_t k = 0; k < a.edges.size(); ++k) {
    const EdgeSummary& e = a.edges[k];
    out.write(k ? ",\n{\"caller\":" : "\n{\"caller\":");
    put_string(out, e.caller);
    out.write(",\"callee\":");
    put_string(out, e.callee);
    put_int(out, ",\"calls\":", e.calls);
    put_int(out, ",\"errors\":", e.errors);
    out.write(",\"client\":");
    put_distribution(out, e.client);
    out.write(",\"gap\":");
    put_distribution(out, e.gap);
    out.write("}");
  }
  out.write("],\n\"skew\":[");
  for (std::size_t k = 0; k < a.skew.size(); ++k) {
    const SkewSummary& s = a.skew[k];
    out.write(k ? ",\n{\"callerHost\":" : "\n{\"callerHost\":");
    put_string(out, s.caller_host);
    out.write(",\"calleeHost\":");
    put_string(out, s.callee_host);
    put_int(out, ",\"calls\":", s.calls);
    put_int(out, ",\"outside\":", s.outside);
    out.write(",\"offset\":");
    put_distribution(out, s.offset);
    out.write("}");
  }
  out.print("],\n\"adjustments\":{},\n\"anomalies\":{{\"total\":{},\"byKind\":{{", a.adjustments, a.anomalies);
  for (int k = 0; k < kAnomalyKinds; ++k)
    out.print("{}\"{}\":{}", k ? "," : "", anomaly_name(static_cast<AnomalyKind>(k)), a.anomaly_counts[k]);
  out.write("},\"examples\":[");
  for (std::size_t k = 0; k < a.anomaly_examples.size(); ++k) {
    const AnomalyExample& e = a.anomaly_examples[k];
    out.print("{}\n{{\"kind\":\"{}\",\"traceId\":", k ? "," : "", anomaly_name(e.kind));
    put_string(out, e.trace_id);
    out.write(",\"spanId\":");
    put_string(out, e.span_id);
    put_location(in.input.files, out, e.file, e.line);
    out.write(",\"detail\":");
    put_string(out, e.detail);
    out.write("}");
  }
  out.write("]}}");
}

void put_diagnostics(const ReportInput& in, Output& out) {
  out.write("\"diagnostics\":[");
  const auto& r = in.input.rejections;
  for (std::size_t k = 0; k < r.size(); ++k) {
    out.write(k ? ",\n{\"file\":" : "\n{\"file\":");
    put_string(out, r[k].file < in.input.files.size() ? in.input.files[r[k].file] : "");
    out.print(",\"line\":{},\"reason\":", r[k].line);
    put_string(out, r[k].reason);
    out.write("}");
  }
  out.print("],\n\"diagnosticsOmitted\":{},\n\"readErrors\":[", in.input.rejected - r.size());
  for (std::size_t k = 0; k < in.input.read_errors.size(); ++k) {
    if (k) out.write(",");
    put_string(out, in.input.read_errors[k]);
  }
  out.write("]");
}

}  // namespace

void write_json_trace_line(const std::vector<std::string>& files, const ShownTrace& trace, Emit why, Output& out) {
  put_trace(files, trace, out, emit_name(why));
  out.write("\n");
}

void write_json_report(const ReportInput& in, Output& out) {
  out.print("{{\"version\":{},\"tool\":\"trace-assemble {}\",\n", kSchemaVersion, TA_VERSION);
  put_input(in, out);
  if (in.live) put_live(in, out);
  out.write(",\n\"traces\":[");
  for (std::size_t k = 0; k < in.traces.size(); ++k) {
    if (k) out.write(",\n");
    put_trace(in.input.files, *in.traces[k], out);
  }
  out.write("],\n");
  put_summary(in, out);
  out.write(",\n");
  put_diagnostics(in, out);
  out.write("}\n");
}

}  // namespace ta
