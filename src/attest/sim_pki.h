// The development PKI of the TEE simulator (DESIGN section 5, issue 3 point 4): an Intel-like DCAP
// hierarchy and an AMD-like KDS hierarchy, generated per devnet, under which the simulator signs
// `sim-tdx` quotes (sim_tdx.h) and `sim-snp` reports (sim_snp.h) in the real byte formats. The
// production verifiers (VerifyTdxQuote, snp::VerifySnpReport) check that evidence unchanged; they accept
// it only when handed this PKI's roots (LoadSimTrust), and every verdict reached that way must be
// labelled simulated (LabelSimulated). Production trust settings refuse it with chain_untrusted.
//
// Intel-like (all ECDSA P-256 / SHA-256, as Intel's):
//   root CA "CMLN Simulated SGX Root CA - NOT FOR PRODUCTION" (self-signed)
//     +- "CMLN Simulated SGX PCK Platform CA"  -> PCK leaf "CMLN Simulated SGX PCK Certificate" with the
//     |                                           SGX extension 1.2.840.113741.1.13.1 (PPID, TCB, PCE-ID,
//     |                                           FMSPC, SGX type), see pck_extensions.h
//     +- "CMLN Simulated SGX TCB Signing"      -> signs the TCB info and QE identity JSON texts
//   CRLs: root CA CRL (covers the platform CA and TCB signing certificates), PCK CRL (platform CA).
//   Collateral: QuoteCollateralV3 JSON (tdx_collateral.h) with TCB info v3 ("TDX", one UpToDate level
//   equal to the simulated platform, the tdxModule / TDX_01 identity) and QE identity v2 ("TD_QE").
// AMD-like:
//   ARK "CMLN Simulated ARK-<product> - NOT FOR PRODUCTION" (RSA, RSASSA-PSS SHA-384, self-signed)
//     -> ASK "CMLN Simulated SEV-<product>" (RSA, signed by the ARK) -> VCEK "CMLN Simulated SEV-VCEK"
//        (EC P-384, signed by the ASK) with the KDS extensions productName, blSPL, teeSPL, snpSPL,
//        spl4..7, ucodeSPL and hwID (64 raw bytes, as AMD encodes it), see snp_verify.h.
//   CRL: issued by the ARK, listing nothing.
//
// On-disk layout (WriteSimPki / LoadSimPki / LoadSimTrust), every file PEM or JSON text:
//   DIR/README.txt             says what this is
//   DIR/sim_pki.json           {"format":"cmln-sim-pki/1","created":RFC3339,"not_for_production":true,
//                               "tdx":{platform values},"snp":{platform values}}
//   DIR/tdx/root_ca.pem pck_platform_ca.pem pck.pem tcb_signing.pem      certificates
//   DIR/tdx/root_ca.key pck_platform_ca.key pck.key tcb_signing.key      private keys, mode 0600
//   DIR/tdx/root_ca_crl.pem pck_crl.pem                                   CRLs
//   DIR/tdx/collateral.json    QuoteCollateralV3 valid from creation for collateral_validity
//   DIR/snp/ark.pem ask.pem vcek.pem  cert_chain.pem (ASK then ARK, as KDS /cert_chain)  crl.pem
//   DIR/snp/ark.key ask.key vcek.key                                      private keys, mode 0600
// The private keys are development keys stored unencrypted; the directory is created mode 0700.
//
// Errors: kIoError (files), kAlreadyExists (WriteSimPki into a non-empty directory), kNotFound (a file
// missing), kMalformed / kBadEncoding (a file that does not parse), kInternal (OpenSSL).
// Thread safety: all functions are reentrant; SimPki and SimTrust are plain values, immutable once built.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/snp_report.h"
#include "attest/snp_verify.h"
#include "attest/tdx_collateral.h"
#include "attest/verdict.h"
#include "attest/x509.h"
#include "attest/x509_builder.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

inline constexpr char kSimPkiFormat[] = "cmln-sim-pki/1";
inline constexpr int64_t kSimDay = 86400;

// The simulated TDX platform: what the PCK certificate certifies, what the quotes carry, and what
// the TCB info / QE identity describe. The defaults are modelled on a real Sapphire Rapids quote.
struct SimTdxPlatform {
  std::array<uint8_t, 6> fmspc{0xC0, 0xDE, 0x51, 0x00, 0x00, 0x00};  // not an Intel FMSPC
  std::array<uint8_t, 2> pce_id{0x00, 0x00};
  std::array<uint8_t, 16> ppid{};  // random per PKI
  std::array<uint8_t, 16> sgx_tcb_components{3, 3, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
  uint16_t pcesvn = 13;
  std::array<uint8_t, 16> cpusvn{3, 3, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0};
  // TEE_TCB_SVN of the quotes: [0] module SVN, [1] module version (1 -> "TDX_01"), [2..] TDX components.
  std::array<uint8_t, 16> tee_tcb_svn{5, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  std::array<uint8_t, 48> mr_signer_seam{};  // Intel's TDX module signer is all zero
  std::array<uint8_t, 8> seam_attributes{};
  std::array<uint8_t, 48> mr_seam{};  // random per PKI (stands for the TDX module hash)
  std::array<uint8_t, 8> xfam{0xE7, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00};
  // The quoting enclave (QE report) and its identity.
  std::array<uint8_t, 32> qe_mr_signer{};   // random per PKI
  std::array<uint8_t, 32> qe_mr_enclave{};  // random per PKI
  uint16_t qe_isv_prod_id = 2;              // TD_QE
  uint16_t qe_isv_svn = 4;
  std::array<uint8_t, 16> qe_attributes{0x11, 0, 0, 0, 0, 0, 0, 0, 0xE7, 0, 0, 0, 0, 0, 0, 0};
  uint32_t qe_misc_select = 0;
  uint32_t tcb_evaluation_data_number = 17;
};

// The simulated SEV-SNP platform (a Milan, Genoa or Turin chip): the VCEK's KDS extensions and the
// values the reports carry (REPORTED_TCB equals the VCEK's SPLs, CHIP_ID equals its hwID).
struct SimSnpPlatform {
  snp::SnpProduct product = snp::SnpProduct::kMilan;
  uint8_t fmc_spl = 0;  // Turin only
  uint8_t bl_spl = 4;
  uint8_t tee_spl = 0;
  uint8_t snp_spl = 22;
  uint8_t ucode_spl = 213;
  std::array<uint8_t, snp::kChipIdSize> chip_id{};  // random per PKI (Turin: bytes 8..63 zero)
  uint8_t current_build = 21, current_minor = 55, current_major = 1;

  // "Milan-B0", "Genoa-B1" or "Turin-B0" (the VCEK's productName).
  std::string ProductName() const;
  // CPUID family/model/stepping the reports carry for the product.
  uint8_t CpuidFamily() const;
  uint8_t CpuidModel() const;
  // The TCB_VERSION of the reports (REPORTED_TCB, CURRENT_TCB, ...), in the product's layout.
  uint64_t TcbRaw() const;
};

struct SimPkiOptions {
  int64_t now = 0;  // unix seconds; certificates and collateral start one day earlier (clock skew)
  int64_t cert_validity = 10 * 365 * kSimDay;
  // TCB info, QE identity and CRL validity (Intel's are 30 days; a devnet lives longer).
  int64_t collateral_validity = 365 * kSimDay;
  // AMD's ARK and ASK are RSA-4096; generating two takes a few seconds. Tests may use 2048.
  int rsa_bits = 4096;
  snp::SnpProduct snp_product = snp::SnpProduct::kMilan;
  // For reproducible fixtures only: EC keys, PPID, chip id, serials and measurements of the platform are
  // derived from this seed (>= 16 bytes). RSA keys and ECDSA nonces stay random (OpenSSL 3.0 has no
  // seeded RSA generation), so certificates are not byte-identical between runs. The CLI never sets it.
  std::optional<Bytes> seed_for_testing;
};

// The PKI in memory, private keys included.
struct SimPki {
  int64_t created = 0;
  int64_t cert_validity = 0;
  int64_t collateral_validity = 0;
  std::optional<Bytes> seed_for_testing;  // kept so quotes can derive their attestation keys from it

  SimTdxPlatform tdx;
  PrivateKey intel_root_key, pck_ca_key, pck_key, tcb_signing_key;
  Certificate intel_root, pck_ca, pck, tcb_signing;

  SimSnpPlatform snp;
  PrivateKey ark_key, ask_key, vcek_key;
  Certificate ark, ask, vcek;
};

Result<SimPki> GenerateSimPki(const SimPkiOptions& options);

// Knobs for collateral minted after the PKI (e.g. fresh dates for a quote generated today, or a
// revocation for a test).
struct SimCollateralOptions {
  int64_t issue_time = 0;                  // issueDate / thisUpdate
  int64_t validity = 0;                    // nextUpdate = issue_time + validity
  std::vector<Bytes> revoked_pck_serials;  // put on the PCK CRL
  // Put on the root CA CRL (BuildSimTdxCollateral) or on the ARK's CRL (BuildSimSnpCrl).
  std::vector<Bytes> revoked_root_serials;
};

// The TDX collateral (QuoteCollateralV3 JSON text, exactly what ParseTdxCollateral reads): TCB info and
// QE identity signed by the TCB signing key over their exact JSON text, CRLs freshly minted.
Result<std::string> BuildSimTdxCollateral(const SimPki& pki, const SimCollateralOptions& options);
// The AMD-like CRL (PEM), signed by the ARK with RSA-PSS.
Result<std::string> BuildSimSnpCrl(const SimPki& pki, const SimCollateralOptions& options);
// The KDS /cert_chain text: ASK then ARK, PEM.
std::string SimSnpChainPem(const SimPki& pki);

// Writes the layout above into `dir` (created with mode 0700 if absent; kAlreadyExists if it is a
// non-empty directory). Keys 0600. Collateral and CRLs are issued at pki.created.
Status WriteSimPki(const SimPki& pki, const std::string& dir);
// Reads the whole PKI back, private keys included (for generating evidence).
Result<SimPki> LoadSimPki(const std::string& dir);

// What a verifier needs to accept simulated evidence: the development roots in place of the production
// ones, and the default collateral. Never contains a private key.
struct SimTrust {
  std::vector<Certificate> tdx_roots;  // the simulated SGX root CA: pass to VerifyTdxQuote as `roots`
  std::string tdx_collateral_json;     // DIR/tdx/collateral.json
  TdxCollateral tdx_collateral;        // the same, parsed
  snp::SnpTrustAnchors snp_anchors;    // the simulated ARK pinned for the simulated product
  snp::SnpCollateral snp_collateral;   // VCEK, ASK+ARK chain, CRL (PEM)
  // Always true: every verdict reached with these roots must say simulated (LabelSimulated).
  bool simulated = true;
};

// Reads only public files of `dir` (certificates, CRLs, collateral); private keys are never opened.
Result<SimTrust> LoadSimTrust(const std::string& dir);
// The same from an in-memory PKI (tests).
Result<SimTrust> SimTrustOf(const SimPki& pki);

// Marks a verdict reached under SimTrust: simulated = true, platform "tdx" -> "sim-tdx",
// "snp" -> "sim-snp" (any other platform keeps its name, with "sim-" prefixed unless already there).
void LabelSimulated(Verdict& verdict);

}  // namespace cmln::attest
