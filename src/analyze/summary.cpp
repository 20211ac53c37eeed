#include "analyze/summary.h"

#include <algorithm>
#include <unordered_map>

namespace ta {

Distribution distribution(std::vector<Nanos>& v) {
  Distribution d;
  d.count = v.size();
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  auto rank = [&](std::size_t p) {
    const std::size_t k = (p * n + 99) / 100;  // ceil(p% of n), 1-based
    return v[std::max<std::size_t>(k, 1) - 1];
  };
  d.min = v.front();
  d.p50 = rank(50);
  d.p90 = rank(90);
  d.p99 = rank(99);
  d.max = v.back();
  return d;
}

namespace {

constexpr std::size_t kExamplesPerKind = 5;

struct GroupAcc {
  std::vector<Nanos> durations;
  std::uint64_t errors = 0;
  Nanos self = 0;
  Nanos critical = 0;
};

struct EdgeAcc {
  Symbol caller = 0, callee = 0;
  std::uint64_t errors = 0;
  std::vector<Nanos> client, gap;
};

Symbol group_of(const Span& s, const Config& c) {
  switch (c.group) {
    case GroupKey::kHost: return s.host;
    case GroupKey::kService: return s.service;
    case GroupKey::kOperation: return s.operation;
    case GroupKey::kField: return s.group;
    case GroupKey::kDefault: break;
  }
  return s.service != 0 ? s.service : s.host;
}

std::vector<Nanos> time_on_path(const Trace& t, const std::vector<PathSection>& path) {
  std::vector<Nanos> on(t.size(), 0);
  for (const PathSection& p : path) on[p.span] += p.end - p.start;
  return on;
}

bool wanted(const Config& c, std::string_view id) {
  return std::find(c.trace_ids.begin(), c.trace_ids.end(), id) != c.trace_ids.end();
}

}  // namespace

Analysis analyze(const SpanStore& store, const Config& config) {
  Analysis a;
  const SymbolTable& symbols = store.symbols();
  std::vector<GroupAcc> groups(symbols.size());
  std::unordered_map<std::uint64_t, EdgeAcc> edges;
  std::vector<Nanos> latencies, span_counts;
  std::vector<std::pair<Nanos, const TraceData*>> ranked;
  bool any_service = false;

  store.for_each_trace([&](const TraceData& data) {
    const Trace t = assemble(data);
    const auto path = critical_path(t);
    const auto self = self_times(t);
    const auto on_path = time_on_path(t, path);

    a.spans += t.logged_spans;
    a.inferred += t.inferred_spans;
    a.duplicates += t.duplicates;
    latencies.push_back(t.latency());
    span_counts.push_back(static_cast<Nanos>(t.size()));
    a.traces.latency_total += t.latency();

    bool orphans = false, no_root = false;
    for (const Anomaly& an : t.anomalies) {
      const auto k = static_cast<std::size_t>(an.kind);
      if (an.kind == AnomalyKind::kOrphan) orphans = true;
      if (an.kind == AnomalyKind::kNoRoot) no_root = true;
      if (a.anomaly_counts[k]++ < kExamplesPerKind) {
        const Span& s = t.spans[an.span];
        a.anomaly_examples.push_back(
            {an.kind, t.trace_id, std::string(t.span_id(an.span)), s.file, s.line, an.detail});
      }
      ++a.anomalies;
    }
    a.traces.missing_root += no_root;
    a.traces.with_orphans += orphans;
    a.traces.with_inferred += t.inferred_spans > 0;
    a.traces.complete += !no_root && !orphans && t.inferred_spans == 0;

    for (std::uint32_t i = 0; i < t.size(); ++i) {
      const Span& s = t.spans[i];
      any_service |= s.service != 0;
      GroupAcc& g = groups[group_of(s, config)];
      g.durations.push_back(s.duration);
      g.errors += (s.flags & kError) != 0;
      g.self += self[i];
      g.critical += on_path[i];
      const std::uint32_t c = t.client_call[i];
      if (c == kNone || t.parent[i] == kNone) continue;
      const Call& call = t.calls[c];
      const Symbol from = group_of(t.spans[t.parent[i]], config), to = group_of(s, config);
      EdgeAcc& e = edges[(static_cast<std::uint64_t>(from) << 32) | to];
      e.caller = from;
      e.callee = to;
      e.errors += call.http_code >= 500;
      e.client.push_back(call.duration);
      if (!(s.flags & kInferred)) e.gap.push_back(call.duration - s.duration);
    }

    if (config.trace_ids.empty() || wanted(config, t.trace_id)) ranked.emplace_back(t.latency(), &data);
  });

  // Traces to show: the slowest first (ties by traceId), or those asked for.
  auto slower = [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first > y.first : x.second->trace_id < y.second->trace_id;
  };
  std::size_t keep = ranked.size();
  if (config.trace_ids.empty() && !config.all_traces) keep = std::min(config.top, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep), ranked.end(), slower);
  ranked.resize(keep);
  if (!config.trace_ids.empty()) {
    // In the order asked for.
    std::vector<std::pair<Nanos, const TraceData*>> ordered;
    for (const std::string& id : config.trace_ids) {
      auto it = std::find_if(ranked.begin(), ranked.end(), [&](const auto& r) { return r.second->trace_id == id; });
      if (it == ranked.end()) {
        a.missing_trace_ids.push_back(id);
      } else {
        ordered.push_back(*it);
      }
    }
    ranked = std::move(ordered);
  }
  for (const auto& [latency, data] : ranked) {
    ShownTrace st;
    st.trace = assemble(*data);
    st.path = critical_path(st.trace);
    st.self = self_times(st.trace);
    st.on_path = time_on_path(st.trace, st.path);
    a.shown.push_back(std::move(st));
  }

  a.traces.count = latencies.size();
  a.traces.latency = distribution(latencies);
  a.traces.spans = distribution(span_counts);

  switch (config.group) {
    case GroupKey::kHost: a.group_label = "host"; break;
    case GroupKey::kService: a.group_label = "service"; break;
    case GroupKey::kOperation: a.group_label = "operation"; break;
    case GroupKey::kField: a.group_label = config.group_field; break;
    case GroupKey::kDefault: a.group_label = any_service ? "service" : "host"; break;
  }
  for (Symbol sym = 0; sym < groups.size(); ++sym) {
    GroupAcc& g = groups[sym];
    if (g.durations.empty()) continue;
    GroupSummary s;
    s.name = sym == 0 ? "(none)" : std::string(symbols.text(sym));
    s.spans = g.durations.size();
    s.errors = g.errors;
    s.duration = distribution(g.durations);
    s.self_total = g.self;
    s.critical_total = g.critical;
    s.critical_share = a.traces.latency_total > 0
                           ? static_cast<double>(g.critical) / static_cast<double>(a.traces.latency_total)
                           : 0.0;
    a.groups.push_back(std::move(s));
  }
  std::sort(a.groups.begin(), a.groups.end(), [](const GroupSummary& x, const GroupSummary& y) {
    if (x.critical_total != y.critical_total) return x.critical_total > y.critical_total;
    return x.name < y.name;
  });
  for (auto& [key, e] : edges) {
    EdgeSummary s;
    s.caller = e.caller == 0 ? "(none)" : std::string(symbols.text(e.caller));
    s.callee = e.callee == 0 ? "(none)" : std::string(symbols.text(e.callee));
    s.calls = e.client.size();
    s.errors = e.errors;
    s.client = distribution(e.client);
    s.gap = distribution(e.gap);
    a.edges.push_back(std::move(s));
  }
  std::sort(a.edges.begin(), a.edges.end(), [](const EdgeSummary& x, const EdgeSummary& y) {
    if (x.calls != y.calls) return x.calls > y.calls;
    if (x.caller != y.caller) return x.caller < y.caller;
    return x.callee < y.callee;
  });
  return a;
}

}  // namespace ta
