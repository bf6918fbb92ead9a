// version.cc: the library version string.
#include "edgebert.h"

namespace edgebert {

const char* Version() { return "0.1.0"; }

}  // namespace edgebert
