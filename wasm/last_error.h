// last_error.h: the message behind eb_last_error(), shared by every binding file.
#pragma once

#include <string>

namespace edgebert::wasm {

// The message of the last failed call; exported calls set it on failure and clear it on success.
std::string& LastError();

}  // namespace edgebert::wasm
