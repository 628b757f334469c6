// OCSP (RFC 6960) revocation as collateral: an OCSP response snapshot, fetched by whoever has network access
// and passed in as bytes, checked for the certificates of an already verified chain at a caller-given `now`.
// NVIDIA revokes GPU device certificates through OCSP only (no CRLs), so this is the revocation step of the
// GPU verifier (nvidia_verify.h). Nothing here touches the network or the clock.
//
// Input grammar (DER, parsed by OpenSSL after the size cap kMaxOcspResponseDer, no trailing bytes):
//   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
//                               responseType id-pkix-ocsp-basic, response OCTET STRING (BasicOCSPResponse) } }
//   BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING,
//                                    certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
//   tbsResponseData carries responderID, producedAt and SingleResponse { certID, certStatus, thisUpdate,
//   nextUpdate }.
//
// What CheckOcspRevocation accepts, for each response (every one given is checked, even if it covers no
// certificate of this chain, so a bad file is never silently ignored):
//   1. it parses (kLengthTooLarge, kBadEncoding, kTrailingData) and responseStatus is successful with a
//      basic response (kMalformed otherwise, the status is named);
//   2. the signer certificate (found by responderID among the response's certs and the chain) signs the
//      response (kCollateralBadSignature) and chains to one of the pinned roots at `now`, the chain's own
//      certificates serving as intermediates (kCollateralBadSignature, with the chain error in the message).
// Then for every certificate path[i], first_index <= i < path.size() - 1, with issuer path[i + 1]:
//   3. some response has a SingleResponse whose certID (SHA-1, SHA-256, SHA-384 or SHA-512) names it
//      (kCollateralMismatch: the snapshot is of other certificates);
//   4. that response's signer is authorized for it: the issuer path[i + 1] itself, or a certificate carrying
//      the extended key usage id-kp-OCSPSigning (kCollateralBadSignature otherwise — a device key that
//      chains to the root must not vouch for itself);
//   5. thisUpdate <= now (kCollateralNotYetValid) and nextUpdate is present and >= now
//      (kCollateralExpired: a stale snapshot, or one without nextUpdate whose freshness cannot be judged);
//   6. certStatus is good: revoked is kCertRevoked (message names the subject, reason and date), unknown
//      is kCollateralMismatch.
// No OCSP nonce is checked: a snapshot is by nature not an answer to our request; freshness is (5).
// Like NVIDIA's verifier, RFC 6960's rule that a delegated responder is issued by the checked certificate's
// own issuer is not enforced (the responder only has to chain to the pinned root and carry the OCSP EKU).
//
// Thread safety: pure functions; MintOcspResponse draws ECDSA nonces from OpenSSL's DRBG.
#pragma once

#include <cstdint>
#include <vector>

#include "attest/x509.h"
#include "attest/x509_builder.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

inline constexpr size_t kMaxOcspResponseDer = 64 * 1024;
inline constexpr size_t kMaxOcspResponses = 64;
// NVIDIA's OCSP responder covers the device chain from the device identity certificate up; the leaf is the
// attestation certificate the GPU firmware itself mints, which no responder knows. NVIDIA's verifier starts
// its OCSP checks at index 1 of the GPU chain for that reason.
inline constexpr size_t kGpuChainOcspFirstIndex = 1;

struct OcspCheck {
  // How many certificates of the path had a good status; 0 when `responses` was empty or the range
  // [first_index, path.size() - 1) was empty ("not checked").
  size_t certificates_checked = 0;
};

// `path` is a verified chain, leaf first, ending with the pinned root (VerifyChain's result). See the top
// of this file for the checks and error codes. More than kMaxOcspResponses responses: kLengthTooLarge.
Result<OcspCheck> CheckOcspRevocation(const std::vector<Certificate>& path, size_t first_index,
                                      const std::vector<Bytes>& responses, const std::vector<Certificate>& roots,
                                      int64_t now);

// --- issuing side: tests and development PKIs only (never used to verify production evidence) ------------

enum class OcspCertStatus { kGood, kRevoked, kUnknown };

struct OcspSingleSpec {
  Certificate subject;
  Certificate issuer;
  OcspCertStatus status = OcspCertStatus::kGood;
  int64_t revocation_time = 0;  // kRevoked only
  int revocation_reason = -1;   // CRLReason code, -1 for none
  int64_t this_update = 0;
  int64_t next_update = 0;  // 0: absent
};

struct OcspResponseSpec {
  std::vector<OcspSingleSpec> entries;
  HashAlg cert_id_hash = HashAlg::kSha384;  // NVIDIA's verifier builds SHA-384 certIDs
  std::vector<Certificate> extra_certs;     // sent after the responder certificate
  bool include_responder_cert = true;
};

// A successful OCSPResponse (DER) with a basic response signed by `responder_key` (ECDSA-SHA384 or
// RSA-SHA384), responderID byName of `responder`.
Result<Bytes> MintOcspResponse(const OcspResponseSpec& spec, const Certificate& responder,
                               const PrivateKey& responder_key);

}  // namespace cmln::attest
