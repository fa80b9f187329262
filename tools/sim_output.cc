#include "sim_output.h"

#include <iostream>

namespace grapevine::tools {
namespace {
// Not thread_local: the static libraries are -fPIE, whose TLS model cannot go into the Python
// module. One capture at a time, process-wide; the bindings serialize their runs.
std::vector<nlohmann::json>* capture = nullptr;
}  // namespace

void emit_json_line(const nlohmann::json& j) {
  if (capture) {
    capture->push_back(j);
  } else {
    std::cout << j.dump() << "\n";
  }
}

JsonCapture::JsonCapture(std::vector<nlohmann::json>& rows) : previous_(capture) {
  capture = &rows;
}

JsonCapture::~JsonCapture() { capture = previous_; }

}  // namespace grapevine::tools
