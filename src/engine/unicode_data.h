// Unicode code point classes for the tokenizer's pre-tokenizer (generated tables in unicode_data.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cmln::engine {

struct CodepointRange {
  uint32_t first;
  uint32_t last;  // inclusive
};

// Sorted, disjoint ranges.
extern const CodepointRange kLetterRanges[];
extern const size_t kLetterRangeCount;
extern const CodepointRange kNumberRanges[];
extern const size_t kNumberRangeCount;

}  // namespace cmln::engine
