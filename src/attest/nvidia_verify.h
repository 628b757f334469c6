// NVIDIA Hopper GPU (and NVSwitch) Confidential Computing evidence: the cryptographic step between parse
// (spdm.h) and validation against reference measurements (nvidia_rim.h). One pure entry point,
// VerifyGpuReport(report, collateral, expected_nonce, anchors, now): no I/O, no clock, no policy.
//
// What a success means (checked in this order; the first failure is returned):
//   1. the report parses (spdm.h);
//   2. the certificate chain (PEM, leaf first, as NVML's attestationCertChain and the evidence_list
//      `certificate` carry it) parses and starts with a device certificate, not a lone self-signed root
//      (kMalformed: "root only");
//   3. leaf -> intermediates -> one of the pinned roots (the NVIDIA Device Identity CA, or the development
//      root for sim-gpu) verifies at `now` (x509.h; kChainUntrusted: e.g. a missing intermediate,
//      kCertExpired / kCertNotYetValid);
//   4. the leaf carries the DICE FWID extension 2.23.133.5.4.1 (kNotFound otherwise: the chain lacks the
//      device attestation leaf, e.g. it starts at the GSP BROM CA) and it decodes (kMalformed);
//   5. the ECDSA P-384 / SHA-384 signature (r ‖ s) over request ‖ response-without-signature verifies with
//      the leaf key (kBadSignature);
//   6. the report's FWID opaque field equals the leaf's FWID (kCollateralMismatch: evidence of another GPU
//      or firmware than the certificate names);
//   7. the request nonce equals `expected_nonce` (kBindingMismatch: wrong node, epoch or replay — A13);
//   8. when OCSP snapshots are given (GpuCollateral::ocsp_responses), every certificate of the verified path
//      from index kGpuChainOcspFirstIndex up to (not including) the root has a good, fresh status signed by
//      an authorized responder that chains to the same pinned roots at `now` (ocsp.h: kCertRevoked,
//      kCollateralExpired, kCollateralNotYetValid, kCollateralBadSignature, kCollateralMismatch).
// The signature (5) is checked before the comparisons (6, 7), so any change to a signed byte reads as
// kBadSignature (threat A1).
//
// Revocation: NVIDIA publishes revocation of device certificates through OCSP only (no CRLs). The verifier
// makes no network calls: revocation is "good" when snapshots were given and step 8 passed, "not_checked"
// when none were given (policy decides), and a revoked certificate is the error kCertRevoked.
//
// FWID extension layouts accepted (both DER):
//   NVIDIA Hopper (DICE v0.x):  SEQUENCE { INTEGER version, SubjectPublicKeyInfo, FWID+ }
//   TCG DICE TcbInfo:           SEQUENCE { ... [6] IMPLICIT SEQUENCE OF FWID ... }
//   FWID ::= SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING }
// The SHA-384 digest (OID 2.16.840.1.101.3.4.2.2) is the FWID compared.
//
// Thread safety: all functions are pure; GpuTrustAnchors is immutable after construction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/ocsp.h"
#include "attest/spdm.h"
#include "attest/x509.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest::nvidia {

inline constexpr std::string_view kOidDiceTcbInfo = "2.23.133.5.4.1";
inline constexpr std::string_view kPlatformNvidiaCc = "nvidia-cc";
inline constexpr std::string_view kPlatformSimGpu = "sim-gpu";

// Pinned roots for device chains. `simulated` marks a development PKI (sim-gpu): verdicts say
// simulated: true and platform "sim-gpu". Production callers use ProductionGpuAnchors.
struct GpuTrustAnchors {
  std::vector<Certificate> roots;
  bool simulated = false;
};
// The NVIDIA Device Identity CA given as PEM. kBadEncoding if it does not parse.
Result<GpuTrustAnchors> ProductionGpuAnchors(std::string_view device_identity_ca_pem);

// Collateral as plain bytes.
struct GpuCollateral {
  std::string cert_chain_pem;  // leaf first, then intermediates, optionally the root
  std::vector<Bytes> ocsp_responses;  // optional DER OCSP snapshots (ocsp.h), checked in step 8
};

enum class Revocation { kNotChecked, kGood, kRevoked };
// "not_checked", "good", "revoked".
const char* RevocationName(Revocation r);

struct VerifiedGpuReport {
  spdm::GpuAttestationReport report;
  std::vector<Certificate> path;  // verified chain, leaf first, ending with the pinned root
  Bytes leaf_fwid;                // SHA-384 FWID from the leaf certificate
  Revocation revocation = Revocation::kNotChecked;
  bool simulated = false;
  std::string platform;  // "nvidia-cc" or "sim-gpu"
};

// Decodes the extnValue of the FWID extension (layouts above); returns the SHA-384 FWID digest.
// kMalformed / kTruncated / kTrailingData otherwise, kNotFound when no SHA-384 FWID is listed.
Result<Bytes> ParseDiceFwid(ByteView extension_value);

// `now` is unix seconds; `expected_nonce` is 32 bytes (kInvalidArgument otherwise). See the top of this
// file for what success means and the error codes.
Result<VerifiedGpuReport> VerifyGpuReport(ByteView report, const GpuCollateral& collateral,
                                          ByteView expected_nonce, const GpuTrustAnchors& anchors, int64_t now);

}  // namespace cmln::attest::nvidia
