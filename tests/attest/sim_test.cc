// The TEE simulator (sim_pki, sim_tdx, sim_snp): simulated evidence goes through the SAME verifiers as
// real evidence (VerifyTdxQuote, snp::VerifySnpReport and the policies) and is accepted only under the
// development trust (LoadSimTrust / SimTrustOf), labelled simulated; the production roots refuse it
// (THREATS A15); signed-byte flips, truncations, revocation, stale collateral and debug are refused
// exactly as for real evidence (A1, A3, A4, A5, A8).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "attest/pck_extensions.h"
#include "attest/sim_pki.h"
#include "attest/sim_snp.h"
#include "attest/sim_tdx.h"
#include "attest/snp_policy.h"
#include "attest/tdx_policy.h"
#include "attest/tdx_verify.h"
#include "testing/test_util.h"

namespace cmln::attest {
namespace {

namespace fs = std::filesystem;
using testing::DataPath;
using testing::ReadFileOrDie;

constexpr int64_t kCreated = 1750377600;  // 2025-06-20T00:00:00Z, inside T1's collateral window
constexpr int64_t kNow = kCreated + 3600;

template <size_t N>
std::array<uint8_t, N> Filled(uint8_t v) {
  std::array<uint8_t, N> a;
  a.fill(v);
  return a;
}

ErrorCode CodeOf(const Status& s) { return s.ok() ? ErrorCode::kOk : s.error().code(); }
template <typename T>
ErrorCode CodeOf(const Result<T>& r) {
  return r.ok() ? ErrorCode::kOk : r.error().code();
}

bool HasReason(const Verdict& v, const std::string& code) {
  for (const auto& r : v.reasons) {
    if (r.code == code) return true;
  }
  return false;
}

SimPkiOptions SeededOptions(uint8_t seed_byte, snp::SnpProduct product = snp::SnpProduct::kMilan, int rsa_bits = 4096) {
  SimPkiOptions o;
  o.now = kCreated;
  o.rsa_bits = rsa_bits;
  o.snp_product = product;
  o.seed_for_testing = Bytes(32, seed_byte);
  return o;
}

class SimEvidence : public ::testing::Test {
 protected:
  // One PKI for the suite. RSA-2048 keeps ctest (one process per test) fast; the CLI's default RSA-4096 is
  // checked by attest_sim_e2e_test.
  static void SetUpTestSuite() {
    auto pki = GenerateSimPki(SeededOptions(0x5e, snp::SnpProduct::kMilan, 2048));
    ASSERT_TRUE(pki.ok()) << pki.error().ToString();
    pki_ = new SimPki(std::move(pki).value());
    auto trust = SimTrustOf(*pki_);
    ASSERT_TRUE(trust.ok()) << trust.error().ToString();
    trust_ = new SimTrust(std::move(trust).value());
  }
  static void TearDownTestSuite() {
    delete trust_;
    delete pki_;
    trust_ = nullptr;
    pki_ = nullptr;
  }

  static SimTdxQuoteSpec TdxSpec() {
    SimTdxQuoteSpec s;
    s.mr_td = Filled<48>(0x11);
    for (size_t i = 0; i < 4; ++i) s.rtmr[i] = Filled<48>(static_cast<uint8_t>(0x20 + i));
    s.mr_config_id = Filled<48>(0x33);
    s.report_data = Filled<64>(0x44);
    return s;
  }
  static SimSnpReportSpec SnpSpec() {
    SimSnpReportSpec s;
    s.measurement = Filled<48>(0x55);
    s.host_data = Filled<32>(0x66);
    s.report_data = Filled<64>(0x77);
    s.vmpl = 1;
    return s;
  }
  static Bytes Quote(const SimTdxQuoteSpec& spec = TdxSpec()) {
    auto q = GenerateSimTdxQuote(*pki_, spec);
    EXPECT_TRUE(q.ok()) << q.error().ToString();
    return q.ok() ? *q : Bytes{};
  }
  static Bytes Report(const SimSnpReportSpec& spec = SnpSpec()) {
    auto r = GenerateSimSnpReport(*pki_, spec);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : Bytes{};
  }
  static Result<VerifiedTdxReport> VerifyTdx(ByteView quote, int64_t now = kNow) {
    return VerifyTdxQuote(quote, trust_->tdx_collateral, trust_->tdx_roots, now);
  }
  static Result<snp::VerifiedSnpReport> VerifySnp(ByteView report, int64_t now = kNow) {
    return snp::VerifySnpReport(report, trust_->snp_collateral, trust_->snp_anchors, now);
  }
  static std::vector<Certificate> IntelRoots() {
    auto root = ParseCertificate(AsBytes(ReadFileOrDie(DataPath("attestation/tdx/dcapqvl_TrustedRootCA.der"))));
    EXPECT_TRUE(root.ok());
    return {*root};
  }
  static snp::SnpTrustAnchors AmdAnchors() {
    snp::SnpTrustAnchors a;
    EXPECT_TRUE(
        a.AddArkFromPem(snp::SnpProduct::kMilan, ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_milan.pem")))
            .ok());
    EXPECT_TRUE(
        a.AddArkFromPem(snp::SnpProduct::kGenoa, ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_genoa.pem")))
            .ok());
    return a;
  }

  static SimPki* pki_;
  static SimTrust* trust_;
};
SimPki* SimEvidence::pki_ = nullptr;
SimTrust* SimEvidence::trust_ = nullptr;

// --- TDX ------------------------------------------------------------------------------------------------

TEST_F(SimEvidence, TdxQuoteRoundTripsThroughTheProductionVerifier) {
  const SimTdxQuoteSpec spec = TdxSpec();
  const Bytes quote = Quote(spec);
  auto v = VerifyTdx(quote);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->tcb_status, TcbStatus::kUpToDate);
  EXPECT_TRUE(v->advisory_ids.empty());
  EXPECT_EQ(v->quote.version, kQuoteVersion4);
  EXPECT_EQ(v->quote.quote_size, quote.size());
  EXPECT_EQ(v->quote.trailing_bytes, 0u);
  EXPECT_EQ(v->quote.body.mr_td, spec.mr_td);
  EXPECT_EQ(v->quote.body.rtmr, spec.rtmr);
  EXPECT_EQ(v->quote.body.mr_config_id, spec.mr_config_id);
  EXPECT_EQ(v->quote.body.report_data, spec.report_data);
  EXPECT_FALSE(v->quote.body.debug());
  EXPECT_EQ(v->fmspc, pki_->tdx.fmspc);
  EXPECT_EQ(v->pck.sgx_tcb_components, pki_->tdx.sgx_tcb_components);
  EXPECT_EQ(v->pck.pcesvn, pki_->tdx.pcesvn);
  EXPECT_EQ(v->pck.cpusvn, pki_->tdx.cpusvn);
  EXPECT_EQ(v->pck.ppid, pki_->tdx.ppid);
  EXPECT_EQ(v->checks.back(), "tcb_status");

  TdxPolicy policy = DefaultTdxPolicy();
  policy.allowed_mrtd = {spec.mr_td};
  for (size_t i = 0; i < 4; ++i) policy.allowed_rtmr[i] = {spec.rtmr[i]};
  policy.allowed_mrconfigid = {spec.mr_config_id};
  policy.expected_report_data = spec.report_data;
  Verdict verdict = TdxVerdict(*v, policy);
  EXPECT_TRUE(verdict.accepted);
  EXPECT_EQ(verdict.platform, "tdx");
  EXPECT_FALSE(verdict.simulated);
  LabelSimulated(verdict);
  EXPECT_EQ(verdict.platform, "sim-tdx");
  EXPECT_TRUE(verdict.simulated);
  const auto json = verdict.ToJson();
  EXPECT_EQ(json["verdict"], "accepted");
  EXPECT_EQ(json["simulated"], true);
  EXPECT_EQ(json["platform"], "sim-tdx");
  EXPECT_EQ(json["measurements"]["mrtd"], HexEncode(spec.mr_td));
  EXPECT_EQ(json["report_data"], HexEncode(spec.report_data));
  LabelSimulated(verdict);  // idempotent
  EXPECT_EQ(verdict.platform, "sim-tdx");
}

TEST_F(SimEvidence, TdxLowerTeeTcbSvnIsOutOfDateAndPolicyRefusesIt) {
  SimTdxQuoteSpec spec = TdxSpec();
  auto svn = pki_->tdx.tee_tcb_svn;
  svn[2] = 0;  // below the UpToDate level's TDX component 3
  spec.tee_tcb_svn = svn;
  auto v = VerifyTdx(Quote(spec));
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->tcb_status, TcbStatus::kOutOfDate);
  EXPECT_EQ(v->advisory_ids, std::vector<std::string>{"CMLN-SIM-SA-00001"});
  const Verdict verdict = TdxVerdict(*v, DefaultTdxPolicy());
  EXPECT_FALSE(verdict.accepted);
  EXPECT_TRUE(HasReason(verdict, kReasonTcbStatusNotAccepted));
}

TEST_F(SimEvidence, A8_TdxDebugQuoteVerifiesButPolicyRefusesIt) {
  SimTdxQuoteSpec spec = TdxSpec();
  spec.debug = true;
  auto v = VerifyTdx(Quote(spec));
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_TRUE(v->quote.body.debug());
  const Verdict refused = TdxVerdict(*v, DefaultTdxPolicy());
  EXPECT_FALSE(refused.accepted);
  ASSERT_EQ(refused.reasons.size(), 1u);
  EXPECT_EQ(refused.reasons[0].code, kReasonDebugEnabled);
  TdxPolicy lenient = DefaultTdxPolicy();
  lenient.allow_debug_for_testing = true;
  EXPECT_TRUE(TdxVerdict(*v, lenient).accepted);
}

TEST_F(SimEvidence, A15_ProductionIntelRootRefusesSimulatedTdx) {
  const Bytes quote = Quote();
  const auto intel = IntelRoots();
  // Simulated collateral under the production root: its issuer chain does not reach Intel's root.
  auto r = VerifyTdxQuote(quote, trust_->tdx_collateral, intel, kNow);
  EXPECT_EQ(CodeOf(r), ErrorCode::kChainUntrusted) << (r.ok() ? "" : r.error().message());
  // Signature-only verification: the PCK chain in the quote does not reach it either.
  EXPECT_EQ(CodeOf(VerifyTdxQuoteSignatures(quote, intel, kNow)), ErrorCode::kChainUntrusted);
  // Genuine Intel collateral (T1, valid at kNow) does not help a simulated PCK chain.
  auto t1 = ParseTdxCollateral(ReadFileOrDie(DataPath("attestation/tdx/dcapqvl_tdx_quote_collateral.json")));
  ASSERT_TRUE(t1.ok());
  auto with_real = VerifyTdxQuote(quote, *t1, intel, kNow);
  EXPECT_EQ(CodeOf(with_real), ErrorCode::kChainUntrusted) << (with_real.ok() ? "" : with_real.error().message());
  // And the development trust does not accept real Intel evidence.
  const Bytes real = ToBytes(ReadFileOrDie(DataPath("attestation/tdx/dcapqvl_tdx_quote")));
  EXPECT_EQ(CodeOf(VerifyTdx(real)), ErrorCode::kChainUntrusted);
}

TEST_F(SimEvidence, A1_TdxSignedByteFlipsAreRefusedLikeRealOnes) {
  const Bytes quote = Quote();
  auto parsed = ParseTdxQuote(quote);
  ASSERT_TRUE(parsed.ok());
  const TdxQuote& q = *parsed;
  auto flip = [&](size_t offset) {
    Bytes b = quote;
    b.at(offset) ^= 0x01;
    return CodeOf(VerifyTdx(b));
  };
  EXPECT_EQ(flip(kHdrUserData), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(kHdrQeVendorId), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(q.body_offset + kTdMrTd), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(q.body_offset + kTdRtmr0 + 48 * 3), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(q.body_offset + kTdReportData + 63), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(q.body_offset + kTdAttributes), ErrorCode::kBadSignature);                      // "turning debug on"
  EXPECT_EQ(flip(q.sig_data_offset + 5), ErrorCode::kBadSignature);                              // quote signature
  EXPECT_EQ(flip(q.sig_data_offset + kEcdsaP256SigSize + 7), ErrorCode::kQeReportDataMismatch);  // attestation key
  EXPECT_EQ(flip(q.qe_report_offset + kSgxIsvSvn), ErrorCode::kQeReportBadSignature);
  EXPECT_EQ(flip(q.qe_report_offset + kSgxReportData), ErrorCode::kQeReportBadSignature);
  EXPECT_EQ(flip(q.qe_report_offset + kSgxReportSize + 3), ErrorCode::kQeReportBadSignature);  // PCK signature
  EXPECT_EQ(flip(q.qe_auth_data_offset), ErrorCode::kQeReportDataMismatch);
  EXPECT_NE(flip(q.pck_chain_offset + 100), ErrorCode::kOk);  // inside the PCK leaf's PEM
}

TEST_F(SimEvidence, A16_TdxEveryTruncationIsRefused) {
  const Bytes quote = Quote();
  for (size_t n = 0; n < quote.size(); ++n) {
    const ErrorCode c = CodeOf(VerifyTdx(ByteView(quote).first(n)));
    // Cutting off only the NUL after the PEM chain leaves a complete quote whose sizes no longer add up.
    ASSERT_TRUE(c == ErrorCode::kTruncated) << "length " << n << ": " << ErrorCodeName(c);
  }
  Bytes longer = quote;
  longer.push_back(0x01);
  EXPECT_EQ(CodeOf(VerifyTdx(longer)), ErrorCode::kTrailingData);
}

TEST_F(SimEvidence, A4_A5_TdxCollateralDatesAndTamperingAreChecked) {
  const Bytes quote = Quote();
  const int64_t next_update = trust_->tdx_collateral.tcb_info.next_update;
  EXPECT_EQ(next_update, kCreated - kSimDay + 365 * kSimDay);
  EXPECT_EQ(CodeOf(VerifyTdx(quote, next_update - 1)), ErrorCode::kOk);
  EXPECT_EQ(CodeOf(VerifyTdx(quote, next_update)), ErrorCode::kCollateralExpired);
  EXPECT_EQ(CodeOf(VerifyTdx(quote, kCreated - 2 * kSimDay)), ErrorCode::kCollateralNotYetValid);

  auto doc = nlohmann::json::parse(trust_->tdx_collateral_json);
  std::string text = doc["tcb_info"];
  text.insert(text.size() - 1, " ");
  doc["tcb_info"] = text;
  auto tampered = ParseTdxCollateral(doc.dump());
  ASSERT_TRUE(tampered.ok()) << tampered.error().ToString();
  EXPECT_EQ(CodeOf(VerifyTdxQuote(quote, *tampered, trust_->tdx_roots, kNow)), ErrorCode::kCollateralBadSignature);
}

TEST_F(SimEvidence, A3_TdxRevokedPckIsRefused) {
  SimCollateralOptions o{kCreated, 30 * kSimDay, {pki_->pck.SerialNumber()}, {}};
  auto json = BuildSimTdxCollateral(*pki_, o);
  ASSERT_TRUE(json.ok()) << json.error().ToString();
  auto c = ParseTdxCollateral(*json);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(CodeOf(VerifyTdxQuote(Quote(), *c, trust_->tdx_roots, kNow)), ErrorCode::kCertRevoked);
  // The platform CA revoked on the root CA CRL.
  SimCollateralOptions root{kCreated, 30 * kSimDay, {}, {pki_->pck_ca.SerialNumber()}};
  auto c2 = ParseTdxCollateral(*BuildSimTdxCollateral(*pki_, root));
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(CodeOf(VerifyTdxQuote(Quote(), *c2, trust_->tdx_roots, kNow)), ErrorCode::kCertRevoked);
  // Fresh collateral without revocations verifies at its own dates.
  SimCollateralOptions fresh{kCreated + 100 * kSimDay, 30 * kSimDay, {}, {}};
  auto c3 = ParseTdxCollateral(*BuildSimTdxCollateral(*pki_, fresh));
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(CodeOf(VerifyTdxQuote(Quote(), *c3, trust_->tdx_roots, kCreated + 101 * kSimDay)), ErrorCode::kOk);
}

TEST_F(SimEvidence, PckCertificateCarriesTheSgxExtension) {
  auto ext = PckExtensionsOf(pki_->pck);
  ASSERT_TRUE(ext.ok()) << ext.error().ToString();
  EXPECT_EQ(ext->fmspc, pki_->tdx.fmspc);
  EXPECT_EQ(ext->pce_id, pki_->tdx.pce_id);
  EXPECT_EQ(ext->sgx_tcb_components, pki_->tdx.sgx_tcb_components);
  EXPECT_EQ(ext->pcesvn, pki_->tdx.pcesvn);
  EXPECT_EQ(ext->cpusvn, pki_->tdx.cpusvn);
  EXPECT_EQ(ext->sgx_type, 1u);
  EXPECT_NE(pki_->intel_root.Subject().find("NOT FOR PRODUCTION"), std::string::npos) << pki_->intel_root.Subject();
  EXPECT_NE(pki_->ark.Subject().find("NOT FOR PRODUCTION"), std::string::npos) << pki_->ark.Subject();
  EXPECT_EQ(EVP_PKEY_get_bits(pki_->ark_key.get()), 2048);
}

// --- SNP ------------------------------------------------------------------------------------------------

TEST_F(SimEvidence, SnpReportRoundTripsThroughTheProductionVerifier) {
  const SimSnpReportSpec spec = SnpSpec();
  const Bytes report = Report(spec);
  ASSERT_EQ(report.size(), snp::kReportSize);
  auto v = VerifySnp(report);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->product, snp::SnpProduct::kMilan);
  EXPECT_EQ(v->signer, snp::SigningKey::kVcek);
  EXPECT_EQ(v->report.version, 3u);
  EXPECT_EQ(v->report.measurement, spec.measurement);
  EXPECT_EQ(v->report.host_data, spec.host_data);
  EXPECT_EQ(v->report.report_data, spec.report_data);
  EXPECT_EQ(v->report.vmpl, 1u);
  EXPECT_FALSE(v->report.debug());
  EXPECT_EQ(v->report.chip_id, pki_->snp.chip_id);
  EXPECT_EQ(v->report.reported_tcb.raw, pki_->snp.TcbRaw());
  EXPECT_EQ(v->report.reported_tcb.snp, pki_->snp.snp_spl);
  EXPECT_EQ(v->report.reported_tcb.microcode, pki_->snp.ucode_spl);

  snp::SnpPolicy policy = snp::DefaultSnpPolicy();
  policy.allowed_measurements = {ToBytes(spec.measurement)};
  policy.allowed_host_data = {ToBytes(spec.host_data)};
  policy.expected_report_data = ToBytes(spec.report_data);
  policy.required_vmpl = 1;
  policy.minimum_tcb = snp::SnpMinimumTcb{pki_->snp.bl_spl, pki_->snp.tee_spl, pki_->snp.snp_spl, pki_->snp.ucode_spl};
  Verdict verdict = snp::MakeSnpVerdict(v, policy);
  EXPECT_TRUE(verdict.accepted) << (verdict.reasons.empty() ? "" : verdict.reasons[0].message);
  EXPECT_EQ(verdict.tcb_status, TcbStatus::kUpToDate);
  LabelSimulated(verdict);
  EXPECT_EQ(verdict.platform, "sim-snp");
  EXPECT_EQ(verdict.ToJson()["simulated"], true);
  EXPECT_EQ(verdict.ToJson()["measurements"]["measurement"], HexEncode(spec.measurement));

  // Version 2 reports (no CPUID bytes) verify too.
  SimSnpReportSpec v2 = spec;
  v2.version = 2;
  auto r2 = VerifySnp(Report(v2));
  ASSERT_TRUE(r2.ok()) << r2.error().ToString();
  EXPECT_EQ(r2->report.version, 2u);
  EXPECT_FALSE(r2->report.has_cpuid);
  // Bad specs are refused before anything is signed.
  SimSnpReportSpec bad = spec;
  bad.vmpl = 4;
  EXPECT_EQ(CodeOf(GenerateSimSnpReport(*pki_, bad)), ErrorCode::kInvalidArgument);
  bad = spec;
  bad.version = 5;
  EXPECT_EQ(CodeOf(GenerateSimSnpReport(*pki_, bad)), ErrorCode::kInvalidArgument);
}

TEST_F(SimEvidence, A8_SnpDebugReportVerifiesButPolicyRefusesIt) {
  SimSnpReportSpec spec = SnpSpec();
  spec.debug = true;
  auto v = VerifySnp(Report(spec));
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_TRUE(v->report.debug());
  const Verdict refused = snp::MakeSnpVerdict(v, snp::DefaultSnpPolicy());
  EXPECT_FALSE(refused.accepted);
  EXPECT_TRUE(HasReason(refused, "debug_enabled"));
  snp::SnpPolicy lenient = snp::DefaultSnpPolicy();
  lenient.allow_debug_for_testing = true;
  EXPECT_TRUE(snp::MakeSnpVerdict(v, lenient).accepted);
}

TEST_F(SimEvidence, A15_ProductionArksRefuseSimulatedSnp) {
  const Bytes report = Report();
  auto r = snp::VerifySnpReport(report, trust_->snp_collateral, AmdAnchors(), kNow);
  EXPECT_EQ(CodeOf(r), ErrorCode::kChainUntrusted) << (r.ok() ? "" : r.error().message());
  // With AMD's real ASK+ARK chain in place of the simulated one.
  snp::SnpCollateral mixed = trust_->snp_collateral;
  mixed.chain_pem = ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_milan.pem"));
  mixed.crl.clear();
  EXPECT_EQ(CodeOf(snp::VerifySnpReport(report, mixed, AmdAnchors(), kNow)), ErrorCode::kChainUntrusted);
  // And the development anchors do not accept AMD's real VCEK chain (S1).
  snp::SnpCollateral s1;
  s1.endorsement_cert = ToBytes(ReadFileOrDie(DataPath("attestation/snp/gosev_vcek.testcer")));
  s1.chain_pem = ReadFileOrDie(DataPath("attestation/snp/gosev_ask_ark_milan.pem"));
  const Bytes s1_report = ToBytes(ReadFileOrDie(DataPath("attestation/snp/gosev_attestation.bin")));
  EXPECT_EQ(CodeOf(snp::VerifySnpReport(s1_report, s1, trust_->snp_anchors, 1700000000)), ErrorCode::kChainUntrusted);
}

TEST_F(SimEvidence, A1_SnpSignedByteFlipsAreRefusedLikeRealOnes) {
  const Bytes report = Report();
  auto flip = [&](size_t offset, uint8_t mask = 0x01) {
    Bytes b = report;
    b.at(offset) ^= mask;
    return CodeOf(VerifySnp(b));
  };
  EXPECT_EQ(flip(snp::kOffGuestSvn), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffPolicy + 2, 0x08), ErrorCode::kBadSignature);  // setting DEBUG (bit 19)
  EXPECT_EQ(flip(snp::kOffVmpl), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffReportData + 10), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffMeasurement + 47), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffHostData), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffReportedTcb + 6), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffChipId + 5), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffLaunchTcb), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffSignatureR), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffSignatureS + 47), ErrorCode::kBadSignature);
  EXPECT_EQ(flip(snp::kOffSignatureR + 60), ErrorCode::kBadSignature);  // the zero pad
}

TEST_F(SimEvidence, A16_SnpEveryTruncationIsRefused) {
  const Bytes report = Report();
  for (size_t n = 0; n < report.size(); ++n) {
    ASSERT_EQ(CodeOf(VerifySnp(ByteView(report).first(n))), ErrorCode::kTruncated) << "length " << n;
  }
  Bytes longer = report;
  longer.push_back(0);
  EXPECT_EQ(CodeOf(VerifySnp(longer)), ErrorCode::kTrailingData);
}

TEST_F(SimEvidence, A3_SnpRevokedAskAndStaleCrlAreRefused) {
  const Bytes report = Report();
  EXPECT_EQ(CodeOf(VerifySnp(report)), ErrorCode::kOk);  // with the (empty) CRL
  snp::SnpCollateral c = trust_->snp_collateral;
  // AMD's CRL is issued by the ARK, so it revokes what the ARK issued: the ASK.
  auto crl = BuildSimSnpCrl(*pki_, SimCollateralOptions{kCreated, 30 * kSimDay, {}, {pki_->ask.SerialNumber()}});
  ASSERT_TRUE(crl.ok()) << crl.error().ToString();
  c.crl = ToBytes(*crl);
  EXPECT_EQ(CodeOf(snp::VerifySnpReport(report, c, trust_->snp_anchors, kNow)), ErrorCode::kCertRevoked);
  c.crl = ToBytes(*BuildSimSnpCrl(*pki_, SimCollateralOptions{kCreated - 60 * kSimDay, 30 * kSimDay, {}, {}}));
  EXPECT_EQ(CodeOf(snp::VerifySnpReport(report, c, trust_->snp_anchors, kNow)), ErrorCode::kCrlExpired);
  c.crl = ToBytes(*BuildSimSnpCrl(*pki_, SimCollateralOptions{kNow + kSimDay, 30 * kSimDay, {}, {}}));
  EXPECT_EQ(CodeOf(snp::VerifySnpReport(report, c, trust_->snp_anchors, kNow)), ErrorCode::kCrlNotYetValid);
}

// --- files and determinism --------------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cmln-sim-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

TEST_F(SimEvidence, WrittenPkiLoadsBackAndVerifies) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.path() + "/pki";
  ASSERT_EQ(CodeOf(WriteSimPki(*pki_, dir)), ErrorCode::kOk);
  EXPECT_EQ(ModeOf(dir), 0700u);
  for (const char* key : {"tdx/root_ca.key", "tdx/pck_platform_ca.key", "tdx/pck.key", "tdx/tcb_signing.key",
                          "snp/ark.key", "snp/ask.key", "snp/vcek.key"}) {
    EXPECT_EQ(ModeOf(dir + "/" + key), 0600u) << key;
  }
  EXPECT_EQ(CodeOf(WriteSimPki(*pki_, dir)), ErrorCode::kAlreadyExists);

  // The full PKI (keys included) generates evidence the loaded trust accepts.
  auto loaded = LoadSimPki(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(loaded->tdx.ppid, pki_->tdx.ppid);
  EXPECT_EQ(loaded->tdx.mr_seam, pki_->tdx.mr_seam);
  EXPECT_EQ(loaded->snp.chip_id, pki_->snp.chip_id);
  EXPECT_EQ(loaded->created, pki_->created);
  auto quote = GenerateSimTdxQuote(*loaded, TdxSpec());
  auto report = GenerateSimSnpReport(*loaded, SnpSpec());
  ASSERT_TRUE(quote.ok() && report.ok());

  // The trust needs no private key: remove them all first.
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() == ".key") fs::remove(entry.path());
  }
  EXPECT_EQ(CodeOf(LoadSimPki(dir)), ErrorCode::kNotFound);
  auto trust = LoadSimTrust(dir);
  ASSERT_TRUE(trust.ok()) << trust.error().ToString();
  EXPECT_TRUE(trust->simulated);
  auto tv = VerifyTdxQuote(*quote, trust->tdx_collateral, trust->tdx_roots, kNow);
  EXPECT_TRUE(tv.ok()) << tv.error().ToString();
  auto sv = snp::VerifySnpReport(*report, trust->snp_collateral, trust->snp_anchors, kNow);
  EXPECT_TRUE(sv.ok()) << sv.error().ToString();
  // Evidence from the in-memory original verifies under the loaded trust as well (same keys).
  EXPECT_EQ(CodeOf(VerifyTdxQuote(Quote(), trust->tdx_collateral, trust->tdx_roots, kNow)), ErrorCode::kOk);

  EXPECT_EQ(CodeOf(LoadSimTrust(tmp.path() + "/missing")), ErrorCode::kNotFound);
}

TEST(SimPki, SeedDerivesTheSameEcKeysAndPlatformValues) {
  auto a = GenerateSimPki(SeededOptions(1, snp::SnpProduct::kMilan, 2048));
  auto b = GenerateSimPki(SeededOptions(1, snp::SnpProduct::kMilan, 2048));
  auto c = GenerateSimPki(SeededOptions(2, snp::SnpProduct::kMilan, 2048));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a->pck_key.RawEcPublicKey(), *b->pck_key.RawEcPublicKey());
  EXPECT_EQ(*a->vcek_key.RawEcPublicKey(), *b->vcek_key.RawEcPublicKey());
  EXPECT_EQ(a->pck.SerialNumber(), b->pck.SerialNumber());
  EXPECT_EQ(a->tdx.ppid, b->tdx.ppid);
  EXPECT_EQ(a->snp.chip_id, b->snp.chip_id);
  EXPECT_NE(*a->pck_key.RawEcPublicKey(), *c->pck_key.RawEcPublicKey());
  EXPECT_NE(a->tdx.ppid, c->tdx.ppid);
  EXPECT_NE(a->snp.chip_id, c->snp.chip_id);
  // Without a seed two PKIs share nothing.
  SimPkiOptions fresh = SeededOptions(0, snp::SnpProduct::kMilan, 2048);
  fresh.seed_for_testing.reset();
  auto d = GenerateSimPki(fresh);
  auto e = GenerateSimPki(fresh);
  ASSERT_TRUE(d.ok() && e.ok());
  EXPECT_NE(*d->pck_key.RawEcPublicKey(), *e->pck_key.RawEcPublicKey());
  EXPECT_NE(d->tdx.ppid, e->tdx.ppid);
  // Bad options.
  SimPkiOptions bad = fresh;
  bad.now = 0;
  EXPECT_EQ(CodeOf(GenerateSimPki(bad)), ErrorCode::kInvalidArgument);
  bad = fresh;
  bad.rsa_bits = 1024;
  EXPECT_EQ(CodeOf(GenerateSimPki(bad)), ErrorCode::kInvalidArgument);
}

TEST(SimPki, GenoaAndTurinReportsVerify) {
  for (snp::SnpProduct product : {snp::SnpProduct::kGenoa, snp::SnpProduct::kTurin}) {
    SCOPED_TRACE(snp::SnpProductName(product));
    auto pki = GenerateSimPki(SeededOptions(3, product, 2048));
    ASSERT_TRUE(pki.ok()) << pki.error().ToString();
    auto trust = SimTrustOf(*pki);
    ASSERT_TRUE(trust.ok());
    SimSnpReportSpec spec;
    spec.report_data[0] = 0xAB;
    auto report = GenerateSimSnpReport(*pki, spec);
    ASSERT_TRUE(report.ok());
    auto v = snp::VerifySnpReport(*report, trust->snp_collateral, trust->snp_anchors, kNow);
    ASSERT_TRUE(v.ok()) << v.error().ToString();
    EXPECT_EQ(v->product, product);
    EXPECT_EQ(v->report.report_data[0], 0xAB);
    spec.version = 2;
    if (product == snp::SnpProduct::kTurin) {
      EXPECT_EQ(CodeOf(GenerateSimSnpReport(*pki, spec)), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(SimPki, BuilderKeysSignAndRoundTripThroughPem) {
  auto key = PrivateKey::GenerateEc("P-384");
  ASSERT_TRUE(key.ok());
  auto pem = key->ToPem();
  ASSERT_TRUE(pem.ok());
  auto back = PrivateKey::FromPem(AsChars(pem->view()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back->RawEcPublicKey(), *key->RawEcPublicKey());
  auto sig = SignEcdsaRaw(*back, HashAlg::kSha384, AsBytes("message"));
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 96u);
  auto pub = EcPublicKeyFromRaw("P-384", *key->RawEcPublicKey());
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(CodeOf(VerifyEcdsaRaw(*pub, HashAlg::kSha384, AsBytes("message"), *sig)), ErrorCode::kOk);
  EXPECT_EQ(CodeOf(VerifyEcdsaRaw(*pub, HashAlg::kSha384, AsBytes("messagE"), *sig)), ErrorCode::kBadSignature);
  EXPECT_EQ(CodeOf(PrivateKey::FromPem("not a key")), ErrorCode::kInvalidKey);
  EXPECT_EQ(CodeOf(PrivateKey::GenerateEc("P-521")), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(PrivateKey::DeriveEc("P-256", Bytes(8, 1), "x")), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::attest
