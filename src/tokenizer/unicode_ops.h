// unicode_ops.h: character operations over the generated tables (util/unicode_tables.h).
#pragma once

#include <cstdint>

#include "util/unicode_tables.h"

namespace edgebert::unicode {

// Canonical combining class (0 for starters), at the NFD table's Unicode version.
uint8_t CombiningClass(char32_t cp);

// Full canonical decomposition of cp into out[0..4); returns the count (1 = no decomposition).
int DecomposeCanonical(char32_t cp, char32_t out[4]);

// Rust's char::to_lowercase: 1..3 chars into out; returns the count.
int ToLowercase(char32_t cp, char32_t out[3]);

}  // namespace edgebert::unicode
