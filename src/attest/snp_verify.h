// AMD SEV-SNP verification: the cryptographic step between parse (snp_report.h) and policy
// (snp_policy.h). One pure entry point, VerifySnpReport(report, collateral, anchors, now): no I/O, no
// clock, no policy. Fetching the VCEK/VLEK, the ASK/ASVK + ARK chain and the CRL from AMD's KDS is the
// caller's job; they are plain bytes here.
//
// What a success means (every item is checked, in this order):
//   1. the report parses (snp_report.h) and is signed (SIGNING_KEY is VCEK or VLEK);
//   2. the endorsement key certificate (VCEK or VLEK, DER or PEM) carries the AMD KDS extensions
//      (pub. 57230): productName 1.3.6.1.4.1.3704.1.2, blSPL .3.1, teeSPL .3.2, snpSPL .3.3, ucodeSPL .3.8,
//      for Turin fmcSPL .3.9; a VCEK has hwID .4 and no cspId, a VLEK has cspId .5 and no hwID, and the
//      kind matches the report's SIGNING_KEY;
//   3. the product (from productName, cross-checked with the report's CPUID family on v3+ reports)
//      selects the pinned ARK; VCEK/VLEK -> ASK/ASVK -> that ARK verifies (RSA-PSS SHA-384) with every
//      certificate valid at `now`;
//   4. when a CRL is given: it is signed by the pinned ARK, thisUpdate <= `now` and (no nextUpdate or
//      `now` <= nextUpdate), and the ASK/ASVK's serial is not on it. AMD's ARK CRL lists revoked
//      ASKs/ASVKs. The VCEK/VLEK is looked up too, but OpenSSL matches a (non-indirect) CRL entry only
//      for a certificate whose issuer is the CRL's issuer (the ARK), and the VCEK/VLEK is issued by the
//      ASK/ASVK: a VCEK/VLEK serial on the ARK CRL is not found, so VCEK/VLEK revocation is not checked;
//   5. the ECDSA P-384 / SHA-384 signature (r, s little-endian) over bytes 0x000..0x29F verifies with
//      the certificate's public key;
//   6. REPORTED_TCB equals the TCB in the certificate's SPL extensions, and for a VCEK (unless
//      MASK_CHIP_KEY is set) CHIP_ID equals hwID.
// The signature (5) is checked before the report-versus-certificate comparisons (6), so any change to
// a signed byte reads as kBadSignature (threat A1).
//
// Errors (stable codes, common/status.h):
//   kTruncated / kTrailingData / kMalformed / kUnsupported  report bytes (see ParseSnpReport) or an
//                                                           unsigned report (SIGNING_KEY none)
//   kBadEncoding / kMalformed / kNotFound                    certificate or KDS extension unreadable/absent
//   kChainUntrusted                                          chain does not reach the pinned ARK of the
//                                                           product, or no ARK is pinned for it
//   kCertExpired / kCertNotYetValid                          a chain certificate outside its window at `now`
//   kCertRevoked, kCrlExpired, kCrlNotYetValid, kCrlBadSignature   CRL checks
//   kBadSignature                                            report signature
//   kCollateralMismatch                                      certificate of another chip, product, TCB or
//                                                           key kind than the report
//
// Thread safety: all functions are pure; SnpTrustAnchors and PreparedSnpCollateral are immutable after
// construction and may be shared by threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attest/snp_report.h"
#include "attest/x509.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest::snp {

// --- AMD KDS certificate extensions (pub. 57230) -----------------------------------------------------
inline constexpr std::string_view kOidStructVersion = "1.3.6.1.4.1.3704.1.1";
inline constexpr std::string_view kOidProductName = "1.3.6.1.4.1.3704.1.2";
inline constexpr std::string_view kOidBlSpl = "1.3.6.1.4.1.3704.1.3.1";
inline constexpr std::string_view kOidTeeSpl = "1.3.6.1.4.1.3704.1.3.2";
inline constexpr std::string_view kOidSnpSpl = "1.3.6.1.4.1.3704.1.3.3";
inline constexpr std::string_view kOidSpl4 = "1.3.6.1.4.1.3704.1.3.4";
inline constexpr std::string_view kOidSpl5 = "1.3.6.1.4.1.3704.1.3.5";
inline constexpr std::string_view kOidSpl6 = "1.3.6.1.4.1.3704.1.3.6";
inline constexpr std::string_view kOidSpl7 = "1.3.6.1.4.1.3704.1.3.7";
inline constexpr std::string_view kOidUcodeSpl = "1.3.6.1.4.1.3704.1.3.8";
inline constexpr std::string_view kOidFmcSpl = "1.3.6.1.4.1.3704.1.3.9";
inline constexpr std::string_view kOidHwid = "1.3.6.1.4.1.3704.1.4";
inline constexpr std::string_view kOidCspId = "1.3.6.1.4.1.3704.1.5";

inline constexpr size_t kMaxKdsStringLength = 256;
inline constexpr size_t kTurinHwidSize = 8;  // Turin KDS identifies chips by the first 8 CHIP_ID bytes

// The KDS extensions of a VCEK or VLEK certificate, decoded.
struct EndorsementExtensions {
  SigningKey kind = SigningKey::kVcek;  // kVcek iff hwID is present, kVlek iff cspId is present
  std::string product_name;             // "Milan-B0", "Genoa", "Turin-B0", "Milan" (VLEK), ...
  SnpProduct product = SnpProduct::kUnknown;  // from the text before '-'
  uint8_t bl_spl = 0, tee_spl = 0, snp_spl = 0, ucode_spl = 0;
  std::optional<uint8_t> fmc_spl;  // Turin
  uint8_t spl4 = 0, spl5 = 0, spl6 = 0, spl7 = 0;  // reserved SPLs (0 when absent)
  Bytes hwid;          // VCEK only: 64 bytes (or 8 for Turin)
  std::string csp_id;  // VLEK only

  // The TCB_VERSION these extensions certify, composed in `layout`.
  TcbVersion Tcb(TcbLayout layout) const;
};

// Pure decoders of one extension value (the DER inside extnValue), exposed for the fuzzer and tests.
// SPLs are a DER INTEGER 0..255 (minimal encoding); productName and cspId a DER IA5String of at most
// kMaxKdsStringLength; hwID is the raw 64 (or 8) bytes, or the same wrapped in an OCTET STRING.
// kMalformed / kTruncated / kTrailingData / kLengthTooLarge otherwise; the message names `field`.
Result<uint8_t> ParseKdsSpl(ByteView value, std::string_view field);
Result<std::string> ParseKdsIa5String(ByteView value, std::string_view field);
Result<Bytes> ParseKdsHwid(ByteView value);

// Reads every KDS extension of `cert`. kNotFound when a required one is missing, kMalformed for a
// certificate with both or neither of hwID and cspId, or an unknown product name.
Result<EndorsementExtensions> ParseEndorsementExtensions(const Certificate& cert);

// The product named by a KDS productName ("Milan-B0" -> kMilan); kUnknown if not recognised.
SnpProduct ProductFromName(std::string_view product_name);

// Step 6 on parsed values: REPORTED_TCB against the certificate's SPLs (byte by byte, including the
// reserved bytes, in the report's layout) and, for a VCEK, CHIP_ID against hwID (skipped when
// MASK_CHIP_KEY is set, since the chip id is then zero). kCollateralMismatch naming the component,
// the value seen and the value wanted.
Status CheckReportMatchesEndorsement(const SnpReport& report, const EndorsementExtensions& ext);

// --- trust anchors and collateral ---------------------------------------------------------------------
// The ARK pinned for each product (the caller ships them; e.g. AMD's published ark.pem per product).
// A product without a pinned ARK cannot verify (kChainUntrusted).
struct SnpTrustAnchors {
  std::map<SnpProduct, Certificate> arks;

  // Adds the ARK found in `pem` (the last self-signed certificate of an AMD cert_chain, or a lone
  // ARK) for `product`. kBadEncoding if nothing parses, kInvalidArgument if no certificate in it is
  // self-issued.
  Status AddArkFromPem(SnpProduct product, std::string_view pem);
};

// Collateral as plain bytes (serializable; exactly what KDS serves).
struct SnpCollateral {
  Bytes endorsement_cert;  // VCEK or VLEK, DER or PEM
  std::string chain_pem;   // ASK (or ASVK) then ARK, as KDS /cert_chain serves it
  Bytes crl;               // optional: KDS /crl (DER or PEM); empty = revocation not checked
};

// The same collateral parsed once (for verifying many reports against one VCEK and chain).
struct PreparedSnpCollateral {
  Certificate endorsement_cert;
  EndorsementExtensions extensions;
  PublicKey endorsement_key;
  std::vector<Certificate> chain;  // ASK/ASVK, ARK
  std::optional<Crl> crl;
};
// Parse errors only (kBadEncoding, kMalformed, kNotFound, kLengthTooLarge); no signature is checked.
Result<PreparedSnpCollateral> PrepareSnpCollateral(const SnpCollateral& collateral);

// --- the verifier ---------------------------------------------------------------------------------------
struct VerifiedSnpReport {
  SnpReport report;
  SnpProduct product = SnpProduct::kUnknown;
  SigningKey signer = SigningKey::kVcek;
  EndorsementExtensions endorsement;
};

// `now` is unix seconds. See the top of this file for what success means and the error codes.
Result<VerifiedSnpReport> VerifySnpReport(ByteView report, const PreparedSnpCollateral& collateral,
                                          const SnpTrustAnchors& anchors, int64_t now);
// Convenience: PrepareSnpCollateral then the above.
Result<VerifiedSnpReport> VerifySnpReport(ByteView report, const SnpCollateral& collateral,
                                          const SnpTrustAnchors& anchors, int64_t now);

}  // namespace cmln::attest::snp
