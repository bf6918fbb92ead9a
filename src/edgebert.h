// edgebert.h: the public C++ API of edgebert (tokenizer, model, encoder, task heads).
//
// Everything a caller needs is reachable from here; headers under src/*/ are internal.
#pragma once

#include "util/status.h"

namespace edgebert {

// "0.1.0": the library version, also the version the wasm module reports to JS.
const char* Version();

}  // namespace edgebert
