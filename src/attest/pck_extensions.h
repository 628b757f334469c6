// The Intel SGX PCK certificate extension (OID 1.2.840.113741.1.13.1), which carries the platform's
// FMSPC, PCE id and the TCB (16 SGX component SVNs, PCESVN, CPUSVN) the PCK key was issued for.
//
// Grammar (DER; Intel "SGX PCK Certificate and CRL Profile", section "Intel SGX Extensions"):
//
//   SGXExtensions ::= SEQUENCE OF SEQUENCE { oid OBJECT IDENTIFIER, value ANY }
//     1.2.840.113741.1.13.1.1  PPID             OCTET STRING (16)
//     1.2.840.113741.1.13.1.2  TCB              SEQUENCE OF SEQUENCE { oid, value }
//         .2.1 .. .2.16        SGX TCB comp SVN INTEGER (0..255)
//         .2.17                PCESVN           INTEGER (0..65535)
//         .2.18                CPUSVN           OCTET STRING (16)
//     1.2.840.113741.1.13.1.3  PCE-ID           OCTET STRING (2)
//     1.2.840.113741.1.13.1.4  FMSPC            OCTET STRING (6)
//     1.2.840.113741.1.13.1.5  SGX Type         ENUMERATED
//     (.6 PlatformInstanceID, .7 Configuration: optional, skipped)
//
// The parser is the bounded DER reader of x509.h (der::ReadTlv on ByteReader: single-byte tags only,
// definite lengths of at most four bytes, every length checked against what is left), with a fixed
// nesting depth (no recursion).
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>

#include "attest/x509.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

inline constexpr char kSgxExtensionsOid[] = "1.2.840.113741.1.13.1";
// The same OID's DER body (no tag or length), as CheckLeafUnder (x509.h) takes it.
inline constexpr std::array<uint8_t, 9> kSgxExtensionsOidDer = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
inline constexpr size_t kMaxPckExtensionSize = 4096;

struct PckExtensions {
  std::array<uint8_t, 16> ppid{};
  std::array<uint8_t, 16> sgx_tcb_components{};  // components 1..16 as SVNs (index 0 = component 1)
  uint16_t pcesvn = 0;
  std::array<uint8_t, 16> cpusvn{};
  std::array<uint8_t, 2> pce_id{};
  std::array<uint8_t, 6> fmspc{};
  uint32_t sgx_type = 0;
};

// Parses the extnValue DER of the SGX extensions. kMalformed / kTruncated / kLengthTooLarge on bad DER;
// kMalformed when a required field (PPID, TCB with all 18 entries, PCE-ID, FMSPC) is missing, repeated or
// of the wrong size.
Result<PckExtensions> ParsePckExtensions(ByteView der);

// Reads and parses the extension of a PCK certificate (kNotFound if the certificate has none).
Result<PckExtensions> PckExtensionsOf(const Certificate& pck_leaf);

}  // namespace cmln::attest
