// Real AMD SEV-SNP evidence from tests/data/attestation/MANIFEST.json (cases S1 and S3) with the
// verdicts the manifest states, plus the derived negatives the manifest asks for. `now` is pinned
// inside (or, for the expiry case, just past) each case's window.
#include <gtest/gtest.h>

#include <string>

#include "attest/snp_policy.h"
#include "attest/snp_report.h"
#include "attest/snp_verify.h"
#include "attest/x509.h"
#include "testing/test_util.h"

namespace cmln::attest::snp {
namespace {

using testing::DataPath;
using testing::ReadFileOrDie;

std::string Att(const std::string& rel) { return ReadFileOrDie(DataPath("attestation/" + rel)); }
Bytes AttBytes(const std::string& rel) { return ToBytes(Att(rel)); }

nlohmann::json SnpCase(const std::string& id) {
  const auto manifest = testing::ReadJsonOrDie(DataPath("attestation/MANIFEST.json"));
  for (const auto& c : manifest.at("snp")) {
    if (c.at("id") == id) return c;
  }
  ADD_FAILURE() << "no SNP case " << id << " in MANIFEST.json";
  return {};
}

int64_t Unix(const std::string& rfc3339) {
  auto t = ParseRfc3339Utc(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : 0;
}

// The pinned ARKs, one per product, from the manifest's trust anchors.
SnpTrustAnchors Anchors() {
  const auto manifest = testing::ReadJsonOrDie(DataPath("attestation/MANIFEST.json"));
  const auto& amd = manifest.at("trust_anchors").at("amd_ark_ask");
  SnpTrustAnchors a;
  EXPECT_TRUE(a.AddArkFromPem(SnpProduct::kMilan, Att(amd.at("milan"))).ok());
  EXPECT_TRUE(a.AddArkFromPem(SnpProduct::kGenoa, Att(amd.at("genoa"))).ok());
  EXPECT_TRUE(a.AddArkFromPem(SnpProduct::kTurin, Att(amd.at("turin"))).ok());
  return a;
}

struct Case {
  Bytes report;
  SnpCollateral collateral;
  int64_t window_start = 0;
  int64_t window_end = 0;
};

Case LoadS1() {
  const auto c = SnpCase("S1");
  Case out;
  out.report = AttBytes(c.at("report"));
  out.collateral.endorsement_cert = AttBytes(c.at("vcek"));
  out.collateral.chain_pem = Att(c.at("chain"));
  out.window_start = Unix(c.at("now_window")[0]);
  out.window_end = Unix(c.at("now_window")[1]);
  return out;
}

Case LoadS3() {
  const auto c = SnpCase("S3");
  Case out;
  out.report = AttBytes(c.at("report"));
  out.collateral.endorsement_cert = AttBytes(c.at("vlek"));
  out.collateral.chain_pem = Att(c.at("chain"));
  out.window_start = Unix(c.at("now_window")[0]);
  out.window_end = Unix(c.at("now_window")[1]);
  return out;
}

// The manifest windows end at the certificate's notAfter. OpenSSL (X509_cmp_time) counts the notAfter
// second itself as expired, although RFC 5280 makes it inclusive, so the last instant we pin is one
// second earlier.
int64_t LastValid(const Case& c) { return c.window_end - 1; }

int64_t Inside(const Case& c) { return c.window_start + (c.window_end - c.window_start) / 2; }

TEST(SnpVectors, S1_SignatureAndChainValid) {
  const Case s1 = LoadS1();
  for (int64_t now : {s1.window_start, Inside(s1), LastValid(s1)}) {
    auto v = VerifySnpReport(s1.report, s1.collateral, Anchors(), now);
    ASSERT_TRUE(v.ok()) << "now=" << now << ": " << v.error().ToString();
    EXPECT_EQ(v->product, SnpProduct::kMilan);
    EXPECT_EQ(v->signer, SigningKey::kVcek);
    EXPECT_EQ(v->report.version, 2u);
    EXPECT_EQ(v->endorsement.product_name, "Milan-B0");
    EXPECT_EQ(v->report.reported_tcb.boot_loader, 2);
    EXPECT_EQ(v->report.reported_tcb.snp, 5);
    EXPECT_EQ(v->report.reported_tcb.microcode, 0x44);
    EXPECT_EQ(HexEncode(v->endorsement.hwid), HexEncode(v->report.chip_id));
  }
}

TEST(SnpVectors, S1_A8_DefaultPolicyRejectsDebugGuest) {
  const Case s1 = LoadS1();
  auto v = VerifySnpReport(s1.report, s1.collateral, Anchors(), Inside(s1));
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_TRUE(v->report.debug());
  const Verdict verdict = ValidateSnpReport(*v, DefaultSnpPolicy());
  EXPECT_FALSE(verdict.accepted);
  ASSERT_EQ(verdict.reasons.size(), 1u);
  EXPECT_EQ(verdict.reasons[0].code, "debug_enabled");
  EXPECT_EQ(verdict.platform, "snp");
  EXPECT_EQ(verdict.ToJson().at("verdict"), "rejected");
  // The test-only switch is the only way to accept it.
  SnpPolicy testing_policy = DefaultSnpPolicy();
  testing_policy.allow_debug_for_testing = true;
  EXPECT_TRUE(ValidateSnpReport(*v, testing_policy).accepted);
}

TEST(SnpVectors, S1_OutsideWindowIsNotYetValidOrExpired) {
  const Case s1 = LoadS1();
  auto early = VerifySnpReport(s1.report, s1.collateral, Anchors(), s1.window_start - 1);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code(), ErrorCode::kCertNotYetValid) << early.error().ToString();
  auto late = VerifySnpReport(s1.report, s1.collateral, Anchors(), s1.window_end + 1);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code(), ErrorCode::kCertExpired) << late.error().ToString();
}

TEST(SnpVectors, S3_VlekReportV3Valid) {
  const Case s3 = LoadS3();
  for (int64_t now : {s3.window_start, Inside(s3), LastValid(s3)}) {
    auto v = VerifySnpReport(s3.report, s3.collateral, Anchors(), now);
    ASSERT_TRUE(v.ok()) << "now=" << now << ": " << v.error().ToString();
    EXPECT_EQ(v->report.version, 3u);
    EXPECT_EQ(v->signer, SigningKey::kVlek);
    EXPECT_EQ(v->product, SnpProduct::kMilan);
    EXPECT_EQ(v->report.vmpl, 1u);
    EXPECT_EQ(v->report.cpuid_family, 0x19);
    EXPECT_EQ(v->endorsement.csp_id, "CN=cc-us-east-2.amazonaws.com");
    EXPECT_TRUE(v->endorsement.hwid.empty());
    EXPECT_EQ(v->report.reported_tcb.microcode, 0xd9);  // a two-byte DER INTEGER in the VLEK
    // The default policy accepts it: not a debug guest, nothing else is checked by default.
    const Verdict verdict = ValidateSnpReport(*v, DefaultSnpPolicy());
    EXPECT_TRUE(verdict.accepted) << verdict.ToJson().dump();
  }
}

TEST(SnpVectors, S3_A4_AfterVlekNotAfterIsExpired) {
  const Case s3 = LoadS3();
  auto c = ParseCertificate(s3.collateral.endorsement_cert);
  ASSERT_TRUE(c.ok());
  auto v = VerifySnpReport(s3.report, s3.collateral, Anchors(), c->NotAfter() + 1);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kCertExpired) << v.error().ToString();
  EXPECT_EQ(MakeSnpVerdict(v, DefaultSnpPolicy()).reasons.at(0).code, "cert_expired");
}

// --- derived negatives on S1 ---------------------------------------------------------------------------

TEST(SnpVectors, A1_FlippedSignedByteAtEachNamedFieldIsBadSignature) {
  const Case s1 = LoadS1();
  const SnpTrustAnchors anchors = Anchors();
  auto prepared = PrepareSnpCollateral(s1.collateral);
  ASSERT_TRUE(prepared.ok());
  struct Field {
    const char* name;
    size_t offset;
  };
  const Field fields[] = {
      {"GUEST_SVN", kOffGuestSvn},         {"FAMILY_ID", kOffFamilyId},
      {"IMAGE_ID", kOffImageId},           {"VMPL", kOffVmpl},
      {"CURRENT_TCB", kOffCurrentTcb},     {"PLATFORM_INFO", kOffPlatformInfo},
      {"REPORT_DATA", kOffReportData},     {"MEASUREMENT", kOffMeasurement},
      {"HOST_DATA", kOffHostData},         {"ID_KEY_DIGEST", kOffIdKeyDigest},
      {"AUTHOR_KEY_DIGEST", kOffAuthorKeyDigest}, {"REPORT_ID", kOffReportId},
      {"REPORT_ID_MA", kOffReportIdMa},    {"REPORTED_TCB", kOffReportedTcb},
      {"CHIP_ID", kOffChipId},             {"COMMITTED_TCB", kOffCommittedTcb},
      {"CURRENT_BUILD", kOffCurrentBuild}, {"LAUNCH_TCB", kOffLaunchTcb},
  };
  // (Reserved bytes and VERSION are parse errors, covered in snp_test.cc.)
  for (const Field& f : fields) {
    Bytes forged = s1.report;
    forged[f.offset] ^= 0x01;
    auto v = VerifySnpReport(forged, *prepared, anchors, Inside(s1));
    ASSERT_FALSE(v.ok()) << f.name;
    EXPECT_EQ(v.error().code(), ErrorCode::kBadSignature) << f.name << ": " << v.error().ToString();
  }
  // Clearing the DEBUG bit to pass the policy is a forgery too.
  Bytes undebugged = s1.report;
  undebugged[kOffPolicy + 2] &= static_cast<uint8_t>(~(1u << (kPolicyBitDebug - 16)));
  auto v = VerifySnpReport(undebugged, *prepared, anchors, Inside(s1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kBadSignature);
}

TEST(SnpVectors, A1_FlippedSignatureBytesAreBadSignature) {
  const Case s1 = LoadS1();
  const SnpTrustAnchors anchors = Anchors();
  auto prepared = PrepareSnpCollateral(s1.collateral);
  ASSERT_TRUE(prepared.ok());
  // Low byte of r, high scalar byte of r, low byte of s, high scalar byte of s, and the zero pad of r.
  for (size_t off : {kOffSignatureR, kOffSignatureR + kP384ScalarSize - 1, kOffSignatureS,
                     kOffSignatureS + kP384ScalarSize - 1, kOffSignatureR + kP384ScalarSize}) {
    Bytes forged = s1.report;
    forged[off] ^= 0x80;
    auto v = VerifySnpReport(forged, *prepared, anchors, Inside(s1));
    ASSERT_FALSE(v.ok()) << "offset " << off;
    EXPECT_EQ(v.error().code(), ErrorCode::kBadSignature) << "offset " << off << ": " << v.error().ToString();
  }
}

TEST(SnpVectors, A2_MilanVcekWithGenoaChainIsChainFailure) {
  Case s1 = LoadS1();
  s1.collateral.chain_pem = Att("snp/gosev_ask_ark_genoa.pem");
  auto v = VerifySnpReport(s1.report, s1.collateral, Anchors(), Inside(s1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kChainUntrusted) << v.error().ToString();
}

TEST(SnpVectors, A2_MilanVcekWithGenoaArkPinnedAsMilanIsChainFailure) {
  // The look-alike root: the Milan chain is supplied, but the ARK pinned for Milan is Genoa's.
  const Case s1 = LoadS1();
  SnpTrustAnchors wrong;
  ASSERT_TRUE(wrong.AddArkFromPem(SnpProduct::kMilan, Att("snp/gosev_ask_ark_genoa.pem")).ok());
  auto v = VerifySnpReport(s1.report, s1.collateral, wrong, Inside(s1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kChainUntrusted) << v.error().ToString();
}

TEST(SnpVectors, A2_NoArkPinnedForProductIsChainFailure) {
  const Case s1 = LoadS1();
  SnpTrustAnchors genoa_only;
  ASSERT_TRUE(genoa_only.AddArkFromPem(SnpProduct::kGenoa, Att("snp/gosev_ask_ark_genoa.pem")).ok());
  auto v = VerifySnpReport(s1.report, s1.collateral, genoa_only, Inside(s1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kChainUntrusted);
}

TEST(SnpVectors, A2_MissingAskIsChainFailure) {
  Case s1 = LoadS1();
  // Keep only the ARK (the second certificate of the chain).
  const std::string& pem = s1.collateral.chain_pem;
  s1.collateral.chain_pem = pem.substr(pem.find("-----BEGIN", 1));
  auto v = VerifySnpReport(s1.report, s1.collateral, Anchors(), Inside(s1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kChainUntrusted) << v.error().ToString();
}

TEST(SnpVectors, A2_VlekWithVcekChainIsChainFailure) {
  // The VLEK is issued by the ASVK (SEV-VLEK-Milan); the VCEK chain's ASK cannot vouch for it.
  Case s3 = LoadS3();
  s3.collateral.chain_pem = Att("snp/gosev_ask_ark_milan.pem");
  auto v = VerifySnpReport(s3.report, s3.collateral, Anchors(), Inside(s3));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kChainUntrusted) << v.error().ToString();
}

TEST(SnpVectors, A6_ReportWithAnotherKindOfCertificateIsCollateralMismatch) {
  // The VLEK-signed report (S3) with S1's VCEK, and the VCEK-signed report (S1) with S3's VLEK.
  const Case s1 = LoadS1();
  const Case s3 = LoadS3();
  auto a = VerifySnpReport(s3.report, s1.collateral, Anchors(), Inside(s3));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code(), ErrorCode::kCollateralMismatch) << a.error().ToString();
  auto b = VerifySnpReport(s1.report, s3.collateral, Anchors(), Inside(s3));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kCollateralMismatch) << b.error().ToString();
}

TEST(SnpVectors, A16_EveryTruncationIsAParseErrorWithoutCrash) {
  const Case s1 = LoadS1();
  auto prepared = PrepareSnpCollateral(s1.collateral);
  ASSERT_TRUE(prepared.ok());
  const SnpTrustAnchors anchors = Anchors();
  for (size_t len = 0; len < s1.report.size(); ++len) {
    const ByteView cut(s1.report.data(), len);
    auto parsed = ParseSnpReport(cut);
    ASSERT_FALSE(parsed.ok()) << len;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kTruncated) << len << ": " << parsed.error().ToString();
    auto v = VerifySnpReport(cut, *prepared, anchors, Inside(s1));
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code(), ErrorCode::kTruncated) << len;
  }
  Bytes longer = s1.report;
  longer.push_back(0);
  auto v = VerifySnpReport(longer, *prepared, anchors, Inside(s1));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kTrailingData);
}

TEST(SnpVectors, A9_WrongMeasurementListsFieldSeenAndWanted) {
  const Case s3 = LoadS3();
  auto v = VerifySnpReport(s3.report, s3.collateral, Anchors(), Inside(s3));
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  SnpPolicy policy = DefaultSnpPolicy();
  const Bytes wanted(kMeasurementSize, 0xAB);
  policy.allowed_measurements = {wanted};
  policy.allowed_host_data = {Bytes(kHostDataSize, 0xCD)};
  policy.expected_report_data = Bytes(kReportDataSize, 0x00);
  policy.required_vmpl = 0;
  policy.minimum_tcb = SnpMinimumTcb{.boot_loader = 5, .tee = 0, .snp = 0x18, .microcode = 0xd9};
  const Verdict verdict = ValidateSnpReport(*v, policy);
  EXPECT_FALSE(verdict.accepted);
  // Every mismatch at once, in the documented order.
  ASSERT_EQ(verdict.reasons.size(), 5u) << verdict.ToJson().dump();
  EXPECT_EQ(verdict.reasons[0].code, "measurement_not_approved");
  EXPECT_NE(verdict.reasons[0].message.find("MEASUREMENT is " + HexEncode(v->report.measurement)),
            std::string::npos);
  EXPECT_NE(verdict.reasons[0].message.find("wanted one of " + HexEncode(wanted)), std::string::npos);
  EXPECT_EQ(verdict.reasons[1].code, "measurement_not_approved");
  EXPECT_NE(verdict.reasons[1].message.find("HOST_DATA"), std::string::npos);
  EXPECT_EQ(verdict.reasons[2].code, "tcb_below_minimum");
  EXPECT_NE(verdict.reasons[2].message.find("boot_loader is 0x04, wanted at least 0x05"), std::string::npos);
  EXPECT_EQ(verdict.reasons[3].code, "binding_mismatch");
  EXPECT_EQ(verdict.reasons[4].code, "vmpl_not_allowed");
  EXPECT_EQ(verdict.tcb_status, TcbStatus::kOutOfDate);
  EXPECT_EQ(verdict.measurements.at("measurement"), HexEncode(v->report.measurement));

  // The same policy with the report's own values accepts it and says UpToDate.
  SnpPolicy exact = DefaultSnpPolicy();
  exact.allowed_measurements = {ToBytes(ByteView(v->report.measurement))};
  exact.allowed_host_data = {ToBytes(ByteView(v->report.host_data))};
  exact.expected_report_data = ToBytes(ByteView(v->report.report_data));
  exact.required_vmpl = 1;
  exact.minimum_tcb = SnpMinimumTcb{.boot_loader = 4, .tee = 0, .snp = 0x18, .microcode = 0xd9};
  const Verdict ok = ValidateSnpReport(*v, exact);
  EXPECT_TRUE(ok.accepted) << ok.ToJson().dump();
  EXPECT_EQ(ok.tcb_status, TcbStatus::kUpToDate);
}

}  // namespace
}  // namespace cmln::attest::snp
