#pragma once

#include <stdexcept>

namespace npusim {

// A trace the timing model cannot accept: the simulation stops with this message.
struct TraceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace npusim
