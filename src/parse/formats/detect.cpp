#include "parse/formats/detect.h"

#include "parse/formats/jaeger.h"
#include "parse/formats/otlp.h"
#include "parse/formats/recorder.h"
#include "parse/formats/zipkin.h"

namespace ta {
namespace {

// A native span line's object, or a Filebeat event carrying one.
bool is_native(json::Ref v) {
  if (v.is_array() && v.size() > 0) v = *v.elements().begin();
  if (!v.is_object()) return false;
  return v["spanId"] || v["message"] || (v["json"].is_object() && v["json"]["spanId"]);
}

}  // namespace

std::string_view format_name(InputFormat format) {
  switch (format) {
    case InputFormat::kAuto: return "auto";
    case InputFormat::kNative: return "native";
    case InputFormat::kZipkin: return "zipkin";
    case InputFormat::kJaeger: return "jaeger";
    case InputFormat::kOtlp: return "otlp";
    case InputFormat::kRecorder: return "recorder";
  }
  return "auto";
}

std::optional<InputFormat> input_format_from_name(std::string_view name) {
  for (InputFormat f : {InputFormat::kAuto, InputFormat::kNative, InputFormat::kZipkin, InputFormat::kJaeger,
                        InputFormat::kOtlp, InputFormat::kRecorder})
    if (name == format_name(f)) return f;
  return std::nullopt;
}

InputFormat detect_format(json::Ref value) {
  if (is_otlp(value)) return InputFormat::kOtlp;
  if (is_jaeger(value)) return InputFormat::kJaeger;
  if (is_zipkin(value)) return InputFormat::kZipkin;
  if (is_recorder(value)) return InputFormat::kRecorder;
  if (is_native(value)) return InputFormat::kNative;
  return InputFormat::kAuto;
}

}  // namespace ta
