// One trace rebuilt as a forest: parent links, children, inferred callees and
// everything suspicious about it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/span.h"
#include "store/span_codec.h"

namespace ta {

enum class AnomalyKind : std::uint8_t {
  kOrphan,        // parentSpanId not in the trace
  kInferred,      // callee listed in requestStacks never logged
  kDuplicateId,   // two different lines with one spanId
  kCycle,         // parent links formed a loop, cut here
  kSkew,          // child outside its parent's interval
  kCodeMismatch,  // caller's subHttpCode differs from the callee's httpCode
  kNoRoot,        // no span without a parent: the root was lost
  kTruncated,     // spans over --max-trace-spans were not kept
  kMultiRoot,     // several real roots (spans with no parent that are not orphans)
};
inline constexpr int kAnomalyKinds = 9;
std::string_view anomaly_name(AnomalyKind kind);

// A callee subtree moved onto its caller's clock by --adjust-skew.
struct Adjustment {
  std::uint32_t span;  // the subtree's top
  Nanos shift;         // added to every start in the subtree
};

struct Anomaly {
  AnomalyKind kind;
  std::uint32_t span;  // index in Trace::spans
  std::string detail;
};

struct Trace {
  std::string trace_id;
  std::string text;
  std::vector<Span> spans;  // logged spans (duplicates dropped), then inferred ones
  std::vector<Call> calls;
  std::vector<std::uint32_t> parent;       // kNone for roots
  std::vector<std::uint32_t> client_call;  // the parent's requestStacks entry for it, or kNone
  std::vector<std::uint32_t> child_begin;  // children of i: children[child_begin[i] .. child_begin[i+1])
  std::vector<std::uint32_t> children;     // sorted by start
  std::vector<std::uint32_t> roots;        // sorted by start
  std::vector<std::uint32_t> order;        // depth-first, children in start order
  std::vector<std::uint32_t> depth;
  std::vector<Anomaly> anomalies;
  std::vector<Adjustment> adjustments;
  std::vector<Nanos> shift;  // per span, when adjustments were made: start = logged start + shift
  std::uint32_t logged_spans = 0;
  std::uint32_t inferred_spans = 0;
  std::uint32_t duplicates = 0;  // identical lines counted once
  std::uint32_t dropped = 0;     // spans not kept over --max-trace-spans
  Nanos start = 0;
  Nanos end = 0;

  std::string_view str(TextRef r) const { return {text.data() + r.offset, r.length}; }
  std::string_view span_id(std::uint32_t i) const { return str(spans[i].span_id); }
  Nanos latency() const { return end - start; }
  Nanos shift_of(std::uint32_t i) const { return shift.empty() ? 0 : shift[i]; }
  std::size_t size() const { return spans.size(); }
  auto kids(std::uint32_t i) const {
    struct Range {
      const std::uint32_t* b;
      const std::uint32_t* e;
      const std::uint32_t* begin() const { return b; }
      const std::uint32_t* end() const { return e; }
      std::size_t size() const { return static_cast<std::size_t>(e - b); }
    };
    return Range{children.data() + child_begin[i], children.data() + child_begin[i + 1]};
  }
};

// Applies the assembly rules of DESIGN.md. Iterative throughout: a trace a
// million spans deep needs no more stack than a flat one.
struct AssembleOptions {
  // Shift a callee subtree that ran outside its caller's view of the call
  // (requestStacks) so that it sits in the middle of that view.
  bool adjust_skew = false;
};

Trace assemble(const TraceData& data, const AssembleOptions& options = {});
// The same into an existing Trace, reusing its memory.
void assemble(const TraceData& data, Trace& out, const AssembleOptions& options = {});

}  // namespace ta
