#pragma once

#include <stdexcept>

namespace yunity::core {

// A refusal at startup: printed as one line naming the culprit, then the process exits non-zero.
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace yunity::core
