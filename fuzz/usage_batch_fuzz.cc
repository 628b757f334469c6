// Fuzzes the usage batch codec (src/chain/usage_batch.h, layout version 2), the bytes the chain settles
// on a TEE key's signature. Every accepted input must be the one encoding of what it decodes to: the
// decoder zeroes the per-entry key hashes (they are folded into requesters_digest), so re-encoding the
// decoded batch must reproduce the input except the 32 digest bytes. Any crash, sanitizer report or
// failed check is a bug; refusals (kTruncated, kMalformed, kLengthTooLarge, ...) are expected.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "chain/usage_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cmln;
  ByteView in(data, size);
  auto decoded = chain::DecodeUsageBatch(in);
  if (!decoded.ok()) return 0;
  if (size > chain::kMaxUsageBatchSize) abort();
  auto again = chain::EncodeUsageBatch(*decoded);
  if (!again.ok() || again->size() != size) abort();
  const size_t digest_at = 1 + 2 + decoded->chain_id.size() + 2 + decoded->node_id.size() + 8;
  if (!std::equal(again->begin(), again->begin() + static_cast<std::ptrdiff_t>(digest_at), in.begin())) abort();
  if (!std::equal(again->begin() + static_cast<std::ptrdiff_t>(digest_at + 32), again->end(),
                  in.begin() + static_cast<std::ptrdiff_t>(digest_at + 32))) {
    abort();
  }
  if (!std::equal(decoded->requesters_digest.begin(), decoded->requesters_digest.end(),
                  in.begin() + static_cast<std::ptrdiff_t>(digest_at))) {
    abort();
  }
  return 0;
}
