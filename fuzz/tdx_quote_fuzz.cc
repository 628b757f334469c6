// Parses arbitrary bytes as a TDX quote; with a parse, also tries the signature checks (which must fail
// cleanly, never crash) and the PCK chain text.
#include <cstddef>
#include <cstdint>

#include "attest/tdx_quote.h"
#include "attest/tdx_verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cmln::ByteView in(data, size);
  auto q = cmln::attest::ParseTdxQuote(in);
  if (q.ok()) {
    (void)cmln::attest::ParsePemChain(q->pck_chain_pem).ok();
    static const std::vector<cmln::attest::Certificate> kNoRoots;
    (void)cmln::attest::VerifyTdxQuoteSignatures(in, kNoRoots, 1750000000).ok();
  }
  return 0;
}
