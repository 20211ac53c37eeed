// Which format a JSON value is written in, judged from its content: the
// detector's list of adapters, in the order they are tried.
#pragma once

#include <optional>
#include <string_view>

#include "parse/json_tree.h"

namespace ta {

enum class InputFormat : std::uint8_t { kAuto, kNative, kZipkin, kJaeger, kOtlp, kRecorder };

std::string_view format_name(InputFormat format);  // "native", "zipkin", ...
// As --input-format spells it; nullopt for an unknown name.
std::optional<InputFormat> input_format_from_name(std::string_view name);
// The format of a whole value (an object, or an array of a format's
// objects); kAuto when no adapter recognises it.
InputFormat detect_format(json::Ref value);

}  // namespace ta
