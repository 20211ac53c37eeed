// Critical path and self time, as defined in DESIGN.md (Analysis definitions).
#pragma once

#include <cstdint>
#include <vector>

#include "assemble/trace.h"

namespace ta {

struct PathSection {
  std::uint32_t span;
  Nanos start;
  Nanos end;
};

// Sections, in time order, that partition the root's interval exactly: they
// sum to the root's duration. Children are clipped to their parent; touching
// boundaries count. Iterative: no recursion on trace depth.
std::vector<PathSection> critical_path(const Trace& trace, std::uint32_t root);

// The paths of every root tree of the trace, root after root.
std::vector<PathSection> critical_path(const Trace& trace);
void critical_path(const Trace& trace, std::vector<PathSection>& out);  // reuses out

// Per span: its duration minus the union of its children clipped to it.
std::vector<Nanos> self_times(const Trace& trace);
void self_times(const Trace& trace, std::vector<Nanos>& out);  // reuses out

}  // namespace ta
