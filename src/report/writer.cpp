#include "report/writer.h"

#include <algorithm>

namespace ta {
namespace {

// The traces a report shows. Held traces are pointed at; streamed ones are
// copied, the slowest `keep` of them (all when --trace named them: the run
// hands over only those), in a heap whose top is the fastest kept.
class Shown {
 public:
  Shown(Delivery delivery, std::size_t keep) : delivery_(delivery), keep_(keep) {}

  void add(const ShownTrace& t) {
    if (delivery_ == Delivery::kHeld) {
      held_.push_back(&t);
      return;
    }
    if (keep_ == 0) return;
    if (kept_.size() < keep_) {
      kept_.push_back(t);
      std::push_heap(kept_.begin(), kept_.end(), slower_shown);
    } else if (slower_shown(t, kept_.front())) {
      std::pop_heap(kept_.begin(), kept_.end(), slower_shown);
      kept_.back() = t;
      std::push_heap(kept_.begin(), kept_.end(), slower_shown);
    }
  }

  // In the order shown: as handed over when held, else slowest first.
  std::vector<const ShownTrace*> list() {
    if (delivery_ == Delivery::kHeld) return held_;
    std::sort_heap(kept_.begin(), kept_.end(), slower_shown);
    std::vector<const ShownTrace*> out;
    for (const ShownTrace& t : kept_) out.push_back(&t);
    return out;
  }

 private:
  Delivery delivery_;
  std::size_t keep_;
  std::vector<const ShownTrace*> held_;
  std::vector<ShownTrace> kept_;
};

std::size_t keep_count(const Config& config) {
  return config.trace_ids.empty() && !config.all_traces ? config.top : SIZE_MAX;
}

// Text: a report; live, a line per trace as it finishes, then the summary
// below them.
class TextWriter final : public Writer {
 public:
  TextWriter(const Config& config, Delivery delivery, Output& out)
      : config_(config), delivery_(delivery), out_(out), shown_(delivery, 0) {}
  void trace(const ShownTrace& t, Emit why) override {
    if (delivery_ == Delivery::kHeld) return shown_.add(t);
    write_text_trace_line(t, why, config_.color, out_);
    ++lines_;
  }
  void summary(const ReportInput& in) override {
    ReportInput report = in;
    report.traces = shown_.list();
    if (lines_) out_.write("\n");  // a blank line between the traces and the summary
    write_text_report(report, out_);
    out_.flush();
  }

 private:
  const Config& config_;
  Delivery delivery_;
  Output& out_;
  Shown shown_;
  std::uint64_t lines_ = 0;
};

// JSON: one document; live, one JSON trace per line on stdout and the
// summary document on stderr, so that stdout stays JSON lines.
class JsonWriter final : public Writer {
 public:
  JsonWriter(Delivery delivery, const std::vector<std::string>& files, Output& out, Output& err)
      : delivery_(delivery), files_(files), out_(out), err_(err), shown_(delivery, 0) {}
  void trace(const ShownTrace& t, Emit why) override {
    if (delivery_ == Delivery::kHeld) return shown_.add(t);
    write_json_trace_line(files_, t, why, out_);
  }
  void summary(const ReportInput& in) override {
    ReportInput report = in;
    report.traces = shown_.list();
    Output& to = delivery_ == Delivery::kHeld ? out_ : err_;
    out_.flush();
    write_json_report(report, to);
    to.flush();
  }

 private:
  Delivery delivery_;
  const std::vector<std::string>& files_;
  Output& out_;
  Output& err_;
  Shown shown_;
};

// Markdown: a report at the end in both modes (a CI job summary has no use
// for a line per trace); live, it keeps the slowest traces it was handed.
class MarkdownWriter final : public Writer {
 public:
  MarkdownWriter(const Config& config, Delivery delivery, Output& out)
      : out_(out), shown_(delivery, keep_count(config)) {}
  void trace(const ShownTrace& t, Emit) override { shown_.add(t); }
  void summary(const ReportInput& in) override {
    ReportInput report = in;
    report.traces = shown_.list();
    write_markdown_report(report, out_);
    out_.flush();
  }

 private:
  Output& out_;
  Shown shown_;
};

}  // namespace

std::unique_ptr<Writer> make_writer(const Config& config, Delivery delivery, const std::vector<std::string>& files,
                                    Output& out, Output& err) {
  switch (config.format) {
    case Format::kText: return std::make_unique<TextWriter>(config, delivery, out);
    case Format::kJson: return std::make_unique<JsonWriter>(delivery, files, out, err);
    case Format::kMarkdown: return std::make_unique<MarkdownWriter>(config, delivery, out);
  }
  return nullptr;
}

}  // namespace ta
