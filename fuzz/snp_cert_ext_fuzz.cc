// Fuzzes the AMD KDS certificate extension decoders (VCEK/VLEK). The first byte picks the target:
//   0: a whole certificate (DER or PEM) -> ParseEndorsementExtensions
//   1: an SPL INTEGER value   2: an IA5String value (productName, cspId)   3: a hwID value
#include <cstddef>
#include <cstdint>

#include "attest/snp_verify.h"
#include "attest/x509.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const cmln::ByteView rest(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto cert = cmln::attest::ParseCertificate(rest);
      if (cert.ok()) (void)cmln::attest::snp::ParseEndorsementExtensions(*cert);
      break;
    }
    case 1: (void)cmln::attest::snp::ParseKdsSpl(rest, "spl"); break;
    case 2: (void)cmln::attest::snp::ParseKdsIa5String(rest, "productName"); break;
    case 3: (void)cmln::attest::snp::ParseKdsHwid(rest); break;
  }
  return 0;
}
