// Offline verification of an Intel TDX DCAP quote (v4/v5) against QuoteCollateralV3 collateral and pinned
// Intel SGX root certificates at a caller-given time. One pure function: no I/O, no clock, no policy.
//
// What VerifyTdxQuote checks, in this order (the first failure is returned; `checks` lists what passed):
//   1. the quote parses (tdx_quote.h); trailing bytes are zero (or options allow any),
//   2. QE identity, then TCB info: issueDate <= now < nextUpdate (CRLs likewise, in step 4),
//   3. TCB info issuer chain and QE identity issuer chain -> pinned root, with the root CA CRL; the ECDSA
//      signature over the exact tcb_info / qe_identity text,
//   4. PCK CRL issuer chain -> pinned root; the PCK chain carried in the quote -> pinned root with the root CA
//      CRL and the PCK CRL (revocation, CRL validity at now, CRL signatures),
//   5. the PCK leaf's signature over the QE report,
//   6. QE report data == SHA-256(attestation key || QE auth data) || 32 zero bytes,
//   7. the attestation key's signature over header||body,
//   8. collateral belongs to this platform: FMSPC and PCE-ID of the PCK extension equal the TCB info's;
//      TCB info id "TDX" v3; QE identity id "TD_QE",
//   9. the QE report matches the QE identity (MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES),
//  10. the TDX module (MRSIGNERSEAM, SEAM attributes) matches tdxModule / tdxModuleIdentities["TDX_xx"].
// Then the TCB status is computed (not an error): the first TCB level, in collateral order, whose 16 SGX
// components and PCESVN are <= the PCK certificate's and whose TDX components are <= TEE_TCB_SVN (from
// index 2 when TEE_TCB_SVN[1] > 0, the module version being judged by its module identity instead); no
// level -> TcbNotSupported. The TDX module's and the QE's own levels can only lower the status
// (UpToDate -> OutOfDate etc., as Intel's QVL converges them). Advisory ids are the union, in order.
//
// Error codes (each a distinct reason; see common/status.h): kTruncated/kMalformed/kUnsupported/
// kLengthTooLarge/kBadEncoding (malformed quote or collateral), kTrailingData, kCollateralExpired,
// kCollateralNotYetValid, kCollateralBadSignature, kChainUntrusted, kCertExpired, kCertNotYetValid,
// kCertRevoked, kCrlExpired, kCrlNotYetValid, kCrlBadSignature, kQeReportBadSignature,
// kQeReportDataMismatch, kBadSignature (quote signature), kInvalidKey (attestation key not on P-256),
// kCollateralMismatch, kQeIdentityMismatch.
//
// Thread safety: pure; the inputs are only read.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attest/pck_extensions.h"
#include "attest/tdx_collateral.h"
#include "attest/tdx_quote.h"
#include "attest/verdict.h"
#include "attest/x509.h"

namespace cmln::attest {

enum class TrailingBytesPolicy {
  kRejectNonZero,  // zero padding (configfs-tsm buffers) is accepted and recorded; anything else is
                   // kTrailingData, because those bytes are not covered by any signature
  kIgnore,         // accept any trailing bytes (recorded, never exposed); e.g. go-tdx-guest's sample quote
};

struct TdxVerifyOptions {
  // Default kRejectNonZero.
  TrailingBytesPolicy trailing = TrailingBytesPolicy::kRejectNonZero;
  // Chain options for every chain (default: X509 strict on, CRL check on every certificate).
  ChainOptions chain = DefaultChainOptions();
};
TdxVerifyOptions DefaultTdxVerifyOptions();

struct VerifiedTdxReport {
  TdxQuote quote;  // parsed quote (body = the TD report)
  TcbStatus tcb_status = TcbStatus::kUnknown;  // converged status; kUnknown only from VerifyTdxQuoteSignatures
  std::vector<std::string> advisory_ids;
  TcbStatus platform_tcb_status = TcbStatus::kUnknown;
  TcbStatus tdx_module_tcb_status = TcbStatus::kUnknown;
  TcbStatus qe_tcb_status = TcbStatus::kUnknown;
  std::string tcb_date;  // of the matched platform level
  std::array<uint8_t, 6> fmspc{};
  PckExtensions pck;
  std::vector<std::string> checks;  // names of the checks that passed, in order
};

// Collateral checked once, for many quotes (a chain stores verified collateral, then checks quotes
// against it). Holds the parsed collateral, the verified issuer paths (leaf first, ending with the pinned
// root) and every validity window, so the per-quote VerifyTdxQuote below re-checks the dates against its
// own `now` with integer comparisons and the same codes, without re-verifying any collateral signature.
// Immutable after construction; may be shared between threads (the OpenSSL objects are reference-counted).
struct VerifiedTdxCollateral {
  TdxCollateral collateral;
  std::vector<Certificate> tcb_info_path;        // tcb_info issuer chain -> pinned root
  std::vector<Certificate> qe_identity_path;     // qe_identity issuer chain -> pinned root
  std::vector<Certificate> pck_crl_issuer_path;  // pck_crl issuer chain -> pinned root
  bool pck_crl_signature_verified = false;       // pck_crl names pck_crl_issuer_path[0] and it signed it
  // PEM text of collateral.pck_crl_issuer_chain: a quote's PCK chain ending with exactly this text is
  // issued by that CA: its leaf is checked under pck_issuer, or (without it, or on any doubt) the chain is
  // verified per quote reusing those parsed certificates.
  std::string pck_crl_issuer_chain_pem;
  // The PCK CRL's verified signer (pck_crl_issuer_path) and the PCK CRL, prepared once for the per-quote
  // leaf check (x509.h CheckLeafUnder); null when the PCK CRL is not that CA's or the CA/CRL use features
  // the fast check does not model. Depends only on the collateral and the roots.
  std::shared_ptr<const PreparedIssuer> pck_issuer;
  // Intersection of notBefore/notAfter over each path, as unix seconds (valid on [not_before, not_after)).
  struct PathWindow {
    int64_t not_before = 0;
    int64_t not_after = 0;
  };
  PathWindow tcb_info_window, qe_identity_window, pck_crl_issuer_window;
};

// Steps 2-4 of the file comment that do not depend on a quote: the TCB info / QE identity windows at `now`,
// both signing chains to one of `roots` with the root CA CRL, their ECDSA signatures over the exact JSON
// text, the PCK CRL issuer chain, and the PCK CRL's signature by that chain's leaf (kCrlBadSignature).
// Same codes as VerifyTdxQuote for the same defects.
Result<VerifiedTdxCollateral> VerifyTdxCollateral(const TdxCollateral& collateral,
                                                  const std::vector<Certificate>& roots, int64_t now,
                                                  const ChainOptions& chain = DefaultChainOptions());

// Per quote, against collateral verified once: every window of `collateral` again at `now` (expired
// collateral gives kCollateralExpired / kCertExpired / kCrlExpired as the one-call form does), then steps
// 4 (PCK chain from the quote, revocation against the stored CRLs) to 10 and the TCB status. A PCK chain
// whose CA is the PCK CRL's verified signer (collateral.pck_issuer) costs one leaf check: the CA's
// signature over the leaf, its dates, X509_STRICT shape and extensions, the PCK CRL window and the
// leaf's serial (x509.h CheckLeafUnder); the CA's own signature, chain to the root and root-CRL status
// were verified with the collateral and its dates are re-checked here. Any other chain, and anything
// that check declines (bad signature, expiry, revocation, an unusual certificate), takes the full
// OpenSSL path, so every code is the one-call code.
// `roots` must be the roots `collateral` was verified with.
Result<VerifiedTdxReport> VerifyTdxQuote(ByteView quote, const VerifiedTdxCollateral& collateral,
                                         const std::vector<Certificate>& roots, int64_t now,
                                         const TdxVerifyOptions& options = DefaultTdxVerifyOptions());

// Full verification (VerifyTdxCollateral, then the per-quote form); see the file comment. `roots` are the pinned Intel SGX root CA certificate(s);
// `now` is unix seconds.
Result<VerifiedTdxReport> VerifyTdxQuote(ByteView quote, const TdxCollateral& collateral,
                                         const std::vector<Certificate>& roots, int64_t now,
                                         const TdxVerifyOptions& options = DefaultTdxVerifyOptions());

// Signatures only, for evidence without collateral: steps 1, 4 (without CRLs), 5, 6 and 7. The TCB status
// stays kUnknown; never sufficient to accept a quote, but shows it is genuine Intel evidence.
Result<VerifiedTdxReport> VerifyTdxQuoteSignatures(ByteView quote, const std::vector<Certificate>& roots, int64_t now,
                                                   const TdxVerifyOptions& options = DefaultTdxVerifyOptions());

// A Verdict skeleton (platform "tdx", tcb status, advisories, measurements mrtd/rtmr0..3/mrconfigid/
// mrowner/mrownerconfig/mrseam, report data) for the CLI; `accepted` and `reasons` are left to policy.
Verdict TdxVerdictOf(const VerifiedTdxReport& report);

}  // namespace cmln::attest
