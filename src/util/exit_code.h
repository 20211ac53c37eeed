#pragma once

namespace ta {

enum class ExitCode : int {
  kOk = 0,           // report written
  kCheckFailed = 1,  // report written, but --strict found a problem
  kUsage = 2,        // bad flag, or an input that cannot be opened or read
};

}  // namespace ta
