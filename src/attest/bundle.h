// The attestation bundle (DESIGN section 4): everything a node publishes so that anyone (every chain
// validator, every client) can verify, offline and deterministically, that its keys live in an approved
// TEE bound to this chain, epoch, participant and node. Format and binding: docs/attestation-bundle.md.
//
// Bundle JSON v1 (one object; every key required, no other key allowed, no duplicate key; at most
// kMaxBundleJson bytes; canonical form = keys sorted, no whitespace, exactly what SerializeBundle writes):
//
//   { "version": 1,
//     "platform": "tdx" | "snp" | "sim-tdx" | "sim-snp",
//     "cpu_evidence": base64( TDX quote v4/v5 | SNP ATTESTATION_REPORT ),      <= kMaxCpuEvidence bytes
//     "cpu_certs": PEM ( SNP: the VCEK or VLEK certificate; TDX: "" ),         <= kMaxCpuCertsText
//     "gpus": [ { "platform": "nvidia-cc" | "sim-gpu",                         <= kMaxBundleGpus entries
//                 "evidence": base64( SPDM GET_MEASUREMENTS request ‖ response ),
//                 "cert_chain": PEM device chain, leaf first } ],
//     "binding": { "chain_id": 1..64 chars, "epoch": u64 number, "epoch_nonce": 64 hex,
//                  "participant": 1..128 chars, "node_id": 1..128 chars },
//     "ohttp_key_config": hex( RFC 9458 key config, KEM X25519 ),             <= kMaxOhttpKeyConfig bytes
//     "sign_pk": 64 hex (Ed25519), "model_id": 1..128 chars, "model_digest": 64 hex (SHA-256 of weights),
//     "release_id": 1..128 chars }
// Identifiers (chain_id, participant, node_id, model_id, release_id) are printable ASCII without spaces.
// Hex is lowercase only and base64 canonical (common/bytes.h), so every byte string has one encoding.
//
// Report data (what the CPU evidence's 64-byte REPORTDATA / REPORT_DATA must equal):
//   SHA-512( F("gonka/cmln/report-data/v1") ‖ F(chain_id) ‖ F(u64be epoch) ‖ F(epoch_nonce) ‖ F(participant) ‖
//            F(node_id) ‖ F(ohttp_key_config) ‖ F(sign_pk) ‖ F(model_digest) ‖ F(gpu_list_digest) )
//   with F(x) = u32be(len(x)) ‖ x, and gpu_list_digest = nvidia::GpuEvidenceListDigest of the bundle's GPUs
//   taken as {arch = the entry's platform, certificate = cert_chain, evidence, nonce = GpuNonce(hpke_pk,
//   sign_pk, epoch_nonce)} (an empty list has a digest too). model_id and release_id are NOT bound: they
//   are claims that the verifier's caller checks against the release registry (measurements, digest).
//
// Thread safety: pure functions; values are plain data.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "attest/gpu_evidence.h"
#include "attest/nvidia_rim.h"
#include "attest/sim_gpu.h"
#include "attest/sim_pki.h"
#include "attest/sim_snp.h"
#include "attest/sim_tdx.h"
#include "attest/snp_verify.h"
#include "attest/tdx_collateral.h"
#include "attest/verdict.h"
#include "attest/x509.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

inline constexpr uint32_t kBundleVersion = 1;
inline constexpr size_t kMaxBundleJson = 1024 * 1024;
inline constexpr size_t kMaxCpuEvidence = 64 * 1024;
inline constexpr size_t kMaxCpuCertsText = 16 * 1024;
inline constexpr size_t kMaxBundleGpus = 16;
inline constexpr size_t kMaxGpuEvidenceBytes = 64 * 1024;
inline constexpr size_t kMaxOhttpKeyConfig = 256;
inline constexpr size_t kMaxChainIdLength = 64;
inline constexpr size_t kMaxIdentifierLength = 128;
inline constexpr size_t kBundleNonceSize = 32;
inline constexpr size_t kBundleKeySize = 32;
inline constexpr size_t kBundleDigestSize = 32;
inline constexpr std::string_view kReportDataLabel = "gonka/cmln/report-data/v1";

inline constexpr std::string_view kPlatformTdx = "tdx";
inline constexpr std::string_view kPlatformSnp = "snp";
inline constexpr std::string_view kPlatformSimTdx = "sim-tdx";
inline constexpr std::string_view kPlatformSimSnp = "sim-snp";

struct BundleGpu {
  std::string platform;  // "nvidia-cc" or "sim-gpu"
  Bytes evidence;        // decoded SPDM bytes
  std::string cert_chain_pem;
  bool operator==(const BundleGpu&) const = default;
};

struct BundleBinding {
  std::string chain_id;
  uint64_t epoch = 0;
  Bytes epoch_nonce;  // 32 bytes
  std::string participant;
  std::string node_id;
  bool operator==(const BundleBinding&) const = default;
};

struct AttestationBundle {
  uint32_t version = kBundleVersion;
  std::string platform;
  Bytes cpu_evidence;
  std::string cpu_certs_pem;
  std::vector<BundleGpu> gpus;
  BundleBinding binding;
  Bytes ohttp_key_config;
  Bytes sign_pk;
  std::string model_id;
  Bytes model_digest;
  std::string release_id;
  bool operator==(const AttestationBundle&) const = default;
};

// Strict parse (see the grammar above). kLengthTooLarge beyond a cap, kBadEncoding for text that is not
// JSON / hex / base64, kMalformed for a missing, unknown, duplicate or mistyped key or a wrong size (the
// message names the key path, e.g. "bundle.gpus[1].evidence"), kUnsupported for another version or an
// OHTTP key config whose KEM is not X25519. Never throws.
Result<AttestationBundle> ParseBundle(std::string_view json_text);
// Canonical JSON text. kInvalidArgument if `bundle` would not parse back (wrong sizes, bad identifiers).
Result<std::string> SerializeBundle(const AttestationBundle& bundle);

// The HPKE public key of the bundle's OHTTP key config (32 bytes). Errors as ParseBundle.
Result<Bytes> BundleHpkePublicKey(const AttestationBundle& bundle);
// The GPU nonce every GPU report of the bundle must carry: nvidia::GpuNonce(hpke_pk, sign_pk, epoch_nonce).
Result<std::array<uint8_t, 32>> BundleGpuNonce(const AttestationBundle& bundle);
// The canonical GPU list the report data commits to (see above) and its digest.
Result<std::vector<nvidia::GpuEvidence>> BundleGpuList(const AttestationBundle& bundle);
// The 64-byte report data the bundle's CPU evidence must carry (see above).
Result<std::array<uint8_t, 64>> ComputeReportData(const AttestationBundle& bundle);

// Roots for one kind of CPU evidence: the vendors' (production) or a development PKI's (simulated).
struct CpuTrust {
  std::vector<Certificate> tdx_roots;  // Intel SGX root CA(s)
  snp::SnpTrustAnchors snp_anchors;    // ARK per product
};

// The AMD intermediate chain (ASK or ASVK, then ARK, PEM) and CRL for one product.
struct SnpChainCollateral {
  snp::SnpProduct product = snp::SnpProduct::kUnknown;
  std::string chain_pem;
  Bytes crl;  // DER or PEM; empty = revocation not checked
};

struct BundleTrust {
  CpuTrust production;  // for "tdx" / "snp": the pinned vendor roots (ProductionBundleTrust)
  CpuTrust simulated;   // for "sim-tdx" / "sim-snp": the development PKI (AddSimTrust)
  nvidia::GpuTrustAnchors nvidia_anchors;   // for "nvidia-cc" (NVIDIA Device Identity CA); empty = refused
  nvidia::GpuTrustAnchors sim_gpu_anchors;  // for "sim-gpu"
  // Simulated CPU or GPU evidence is refused (kSimulatedNotAllowed, A15) unless this is set.
  bool allow_simulated = false;
  // Debug guests are refused (kDebugEnabled, A8) unless this is set; tests of the flag only.
  bool allow_debug_for_testing = false;
  // Collateral for the bundle's platform. TDX: every QuoteCollateralV3 the caller holds (the one whose
  // FMSPC matches the quote's PCK certificate is used); SNP: the chain and CRL per product.
  std::vector<TdxCollateral> tdx_collateral;
  std::vector<SnpChainCollateral> snp_collateral;
};

// The pinned Intel and AMD roots (attest/pinned_roots.h) as `production`; nothing else.
Result<BundleTrust> ProductionBundleTrust();
// Adds the development PKI as `simulated` and its collateral (TDX collateral and SNP chain + CRL).
// Does not set allow_simulated.
void AddSimTrust(BundleTrust& trust, const SimTrust& sim);

// Collateral as one self-authenticating document per record (what MsgSubmitCollateral carries):
//   TDX / sim-tdx: kind "tdx_collateral_v3", id = FMSPC (12 uppercase hex), the QuoteCollateralV3 JSON text;
//   SNP / sim-snp: kind "snp_chain", id = product ("Milan", "Genoa", "Turin"), the JSON text
//                  {"product": id, "cert_chain": PEM ASK-or-ASVK then ARK, "crl": PEM CRL issued by the ARK}.
inline constexpr std::string_view kCollateralKindTdx = "tdx_collateral_v3";
inline constexpr std::string_view kCollateralKindSnpChain = "snp_chain";
inline constexpr size_t kMaxSnpCollateralJson = 64 * 1024;

struct CollateralValidity {
  std::string kind;
  std::string id;
  int64_t issue_time = 0;   // unix seconds: TCB info issueDate / CRL thisUpdate
  int64_t next_update = 0;  // the earliest nextUpdate of every signed part
};

// Parses one collateral document of `platform` and adds it to `trust` (no signature checked here).
// kMalformed / kBadEncoding / kLengthTooLarge for bytes that do not parse, kInvalidArgument for an
// unknown platform.
Status AddCollateral(BundleTrust& trust, std::string_view platform, ByteView collateral);
// Verifies one collateral document at `now` against the roots `trust` holds for `platform` (simulated
// platforms: kSimulatedNotAllowed unless allow_simulated). TDX: TCB info and QE identity issuer chains
// to the root with the root CA CRL, their ECDSA signatures over the exact texts, the PCK CRL issuer chain,
// every date window (kCollateralExpired / kCollateralNotYetValid, CRL codes). SNP: the ASK/ASVK chains to
// the pinned ARK of the product, the CRL is signed by that ARK, valid at `now` and does not list the ASK.
Result<CollateralValidity> VerifyPlatformCollateral(std::string_view platform, ByteView collateral,
                                                    const BundleTrust& trust, int64_t now);

// A bundle whose every cryptographic claim verified. Policy on releases and measurements is the caller's.
struct VerifiedBundle {
  AttestationBundle bundle;
  std::string platform;  // = bundle.platform
  bool simulated = false;  // simulated CPU platform or any sim-gpu
  TcbStatus tcb_status = TcbStatus::kUnknown;
  std::vector<std::string> advisory_ids;
  // TDX: "MRTD", "RTMR0".."RTMR3", "MRCONFIGID", "MROWNER", "MROWNERCONFIG"; SNP: "MEASUREMENT", "HOST_DATA".
  std::map<std::string, Bytes> measurements;
  bool debug = false;  // true only with allow_debug_for_testing
  bool report_data_matches = false;  // always true on success (kept explicit for verdict output)
  std::array<uint8_t, 64> report_data{};
  std::vector<nvidia::GpuVerdict> gpus;  // in bundle order, all accepted
  Bytes hpke_pk;
  Bytes sign_pk;
};

// Verifies a bundle at `now` (unix seconds), in this order, returning the first failure:
//   1. simulated platform or any sim-gpu while !allow_simulated   -> kSimulatedNotAllowed (A15)
//   2. the OHTTP key config decodes (X25519)                       -> kMalformed / kUnsupported
//   3. CPU evidence: TDX VerifyTdxQuote (signatures, PCK chain + CRLs, TCB info, QE identity, TDX module;
//      no collateral -> kNotFound, none for the quote's FMSPC -> kCollateralMismatch); SNP VerifySnpReport
//      with cpu_certs as VCEK/VLEK and the product's chain + CRL (none -> kNotFound). Codes of tdx_verify.h
//      / snp_verify.h. Simulated platforms use trust.simulated, real ones trust.production, so simulated
//      evidence declared "tdx"/"snp" fails kChainUntrusted.
//   4. debug guest                                                 -> kDebugEnabled (A8)
//   5. REPORTDATA == ComputeReportData(bundle) (constant time)     -> kBindingMismatch (A10, A11, A12)
//   6. every GPU: VerifyGpuReport with GpuNonce(...) under the anchors of its platform (codes of
//      nvidia_verify.h; wrong nonce kBindingMismatch, A13). Reference measurements (RIMs) are not compared.
// TCB status: TDX from the collateral; SNP has no status collateral, so a verified VCEK whose TCB equals
// the report's REPORTED_TCB yields UpToDate (per-release SNP minimum TCBs are not expressed yet).
Result<VerifiedBundle> VerifyBundle(const AttestationBundle& bundle, const BundleTrust& trust, int64_t now);
Result<VerifiedBundle> VerifyBundle(std::string_view json_text, const BundleTrust& trust, int64_t now);

// Development evidence for a node (DESIGN section 5): what the node knows at boot, and the simulated
// measurements to report. BuildSimBundle fills cpu_evidence/cpu_certs/gpus so that VerifyBundle accepts
// the result under AddSimTrust(pki) (+ the SimGpus' anchors) with allow_simulated.
struct SimBundleSpec {
  std::string platform = std::string(kPlatformSimTdx);  // "sim-tdx" or "sim-snp"
  BundleBinding binding;
  Bytes ohttp_key_config;
  Bytes sign_pk;
  std::string model_id;
  Bytes model_digest;
  std::string release_id;
  SimTdxQuoteSpec tdx;  // measurements / debug of the quote (report_data is overwritten)
  SimSnpReportSpec snp;  // the same for SNP
  std::vector<const nvidia::SimGpu*> gpus;  // each contributes one sim-gpu entry (not owned)
};
Result<AttestationBundle> BuildSimBundle(const SimPki& pki, const SimBundleSpec& spec);

}  // namespace cmln::attest
