// The output seam. A run hands its writer each finished trace it shows, one
// at a time, then the summary once at the end. Batch and live runs drive the
// same writers; how a format lays the traces out is the writer's business:
// a report gathers them under the summary, a stream writes each as it
// comes. Adding an output format adds a writer here and nothing else.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "analyze/emit.h"
#include "analyze/summary.h"
#include "cli/options.h"
#include "report/output.h"
#include "report/report.h"

namespace ta {

class Writer {
 public:
  virtual ~Writer() = default;
  // A finished trace to show. It may be reused once this returns: a writer
  // that keeps it copies it, unless the run said traces outlive it.
  virtual void trace(const ShownTrace& t, Emit why) = 0;
  // The summary, once, after the last trace.
  virtual void summary(const ReportInput& in) = 0;
};

// How traces reach the writer.
enum class Delivery {
  kHeld,      // batch: the run keeps every trace it hands over until the summary
  kStreamed,  // live: each trace as it finishes, gone once handed over
};

// The writer for config.format. `out` is stdout; `err` takes the JSON
// summary of a live run (stdout stays one JSON trace per line). `files`
// names the inputs for the locations written with each trace.
std::unique_ptr<Writer> make_writer(const Config& config, Delivery delivery, const std::vector<std::string>& files,
                                    Output& out, Output& err);

}  // namespace ta
