// Real NVIDIA evidence from tests/data/attestation/MANIFEST.json ("nvidia": N1, Nneg, R, SW) with the
// verdicts the manifest states. The device chain never expires (notAfter 9999), so `now` is any time after
// the chain's notBefore; the RIM signer certificates expired on 2025-06-22, so the RIM cases pin `now`
// on both sides of that date.
#include <gtest/gtest.h>

#include <string>

#include "attest/gpu_evidence.h"
#include "attest/nvidia_rim.h"
#include "attest/nvidia_verify.h"
#include "attest/spdm.h"
#include "attest/x509.h"
#include "testing/test_util.h"

namespace cmln::attest::nvidia {
namespace {

using testing::DataPath;
using testing::ReadFileOrDie;

constexpr int64_t kNow = 1740000000;          // 2025-02-19: device chain and RIM signers valid
constexpr int64_t kAfterRimExpiry = 1760000000;  // 2025-10-09: RIM L4 signers past notAfter (2025-06-22)

std::string Att(const std::string& rel) { return ReadFileOrDie(DataPath("attestation/" + rel)); }

nlohmann::json Manifest() { return testing::ReadJsonOrDie(DataPath("attestation/MANIFEST.json")); }

nlohmann::json NvCase(const std::string& id) {
  const auto manifest = Manifest();
  for (const auto& c : manifest.at("nvidia")) {
    if (c.at("id") == id) return c;
  }
  ADD_FAILURE() << "no nvidia case " << id;
  return {};
}

Bytes ReportOf(const nlohmann::json& c) {
  std::string hex = Att(c.at("report_hex"));
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  return testing::Hex(hex);
}

GpuTrustAnchors DeviceAnchors() {
  auto a = ProductionGpuAnchors(Att(Manifest().at("trust_anchors").at("nvidia_device_identity_ca")));
  EXPECT_TRUE(a.ok());
  return a.ok() ? *a : GpuTrustAnchors{};
}

std::vector<Certificate> RimRoots() {
  auto r = ParsePemChain(Att(Manifest().at("trust_anchors").at("nvidia_rim_root")));
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::vector<Certificate>{};
}

ErrorCode CodeOf(const Result<VerifiedGpuReport>& r) { return r.ok() ? ErrorCode::kOk : r.error().code(); }

TEST(NvidiaVectors, N1_ParsesByStructure) {
  const auto c = NvCase("N1");
  auto parsed = spdm::ParseGpuAttestationReport(ReportOf(c));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->request.operation, spdm::kOperationAllMeasurements);
  EXPECT_EQ(HexEncode(ByteView(parsed->request.nonce)), c.at("nonce").get<std::string>());
  EXPECT_EQ(parsed->response.blocks.size(), 64u);
  EXPECT_EQ(parsed->nvidia.driver_version, "550.90.07");  // the manifest's note
  EXPECT_EQ(parsed->nvidia.vbios_version, "96.00.9F.00.01");
  EXPECT_EQ(parsed->nvidia.fwid.size(), 48u);
  EXPECT_EQ(parsed->nvidia.project, "1010");
  EXPECT_EQ(parsed->nvidia.project_sku, "0200");
  EXPECT_EQ(parsed->nvidia.chip_sku, "882");
  EXPECT_EQ(parsed->signed_bytes.size(), ReportOf(c).size() - spdm::kSignatureSize);
}

TEST(NvidiaVectors, N1_VerifiesWithItsNonce) {
  const auto c = NvCase("N1");
  GpuCollateral col{Att(c.at("chain")), {}};
  const Bytes nonce = testing::Hex(c.at("nonce").get<std::string>());
  auto v = VerifyGpuReport(ReportOf(c), col, nonce, DeviceAnchors(), kNow);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->path.size(), 5u);
  EXPECT_EQ(v->platform, "nvidia-cc");
  EXPECT_FALSE(v->simulated);
  EXPECT_EQ(v->leaf_fwid, v->report.nvidia.fwid);
  // "revocation (OCSP) cannot be checked offline"
  EXPECT_EQ(v->revocation, Revocation::kNotChecked);
  EXPECT_STREQ(RevocationName(v->revocation), "not_checked");
}

TEST(NvidiaVectors, N1_FailsWithAnyOtherNonce) {
  const auto c = NvCase("N1");
  GpuCollateral col{Att(c.at("chain")), {}};
  const Bytes nonce = testing::Hex(c.at("nonce").get<std::string>());
  for (size_t i = 0; i < nonce.size(); ++i) {
    Bytes other = nonce;
    other[i] ^= 0x01;
    EXPECT_EQ(CodeOf(VerifyGpuReport(ReportOf(c), col, other, DeviceAnchors(), kNow)), ErrorCode::kBindingMismatch);
  }
  EXPECT_EQ(CodeOf(VerifyGpuReport(ReportOf(c), col, Bytes(32, 0), DeviceAnchors(), kNow)),
            ErrorCode::kBindingMismatch);
  // The response nonce (the GPU's own) is not the binding nonce either.
  auto parsed = spdm::ParseGpuAttestationReport(ReportOf(c));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(CodeOf(VerifyGpuReport(ReportOf(c), col, ByteView(parsed->response.nonce), DeviceAnchors(), kNow)),
            ErrorCode::kBindingMismatch);
}

TEST(NvidiaVectors, N1_ChainBeforeNotBeforeIsNotYetValid) {
  const auto c = NvCase("N1");
  GpuCollateral col{Att(c.at("chain")), {}};
  const Bytes nonce = testing::Hex(c.at("nonce").get<std::string>());
  EXPECT_EQ(CodeOf(VerifyGpuReport(ReportOf(c), col, nonce, DeviceAnchors(), 1600000000)),
            ErrorCode::kCertNotYetValid);
}

TEST(NvidiaVectors, Nneg_ThreeChainsFailWithDistinctReasons) {
  const auto c = NvCase("Nneg");
  const auto n1 = NvCase("N1");
  const Bytes nonce = testing::Hex(n1.at("nonce").get<std::string>());
  const auto& chains = c.at("chains");
  ASSERT_EQ(chains.size(), 3u);
  std::vector<ErrorCode> codes;
  for (const auto& path : chains) {
    GpuCollateral col{Att(path), {}};
    auto v = VerifyGpuReport(ReportOf(c), col, nonce, DeviceAnchors(), kNow);
    ASSERT_FALSE(v.ok()) << path;
    codes.push_back(v.error().code());
  }
  EXPECT_EQ(codes[0], ErrorCode::kMalformed);        // case2: root only
  EXPECT_EQ(codes[1], ErrorCode::kChainUntrusted);   // case3: missing intermediate
  EXPECT_EQ(codes[2], ErrorCode::kNotFound);         // case4: missing leaf
}

TEST(NvidiaVectors, N1_ForeignRootIsUntrusted) {
  const auto c = NvCase("N1");
  GpuCollateral col{Att(c.at("chain")), {}};
  const Bytes nonce = testing::Hex(c.at("nonce").get<std::string>());
  GpuTrustAnchors rim_as_device{RimRoots(), false};
  EXPECT_EQ(CodeOf(VerifyGpuReport(ReportOf(c), col, nonce, rim_as_device, kNow)), ErrorCode::kChainUntrusted);
}

// --- R: RIM format samples ---------------------------------------------------------------------------------

TEST(NvidiaVectors, R_RimsParseAndVerifyBeforeSignerExpiry) {
  const auto c = NvCase("R");
  for (const auto& path : c.at("rims")) {
    auto parsed = ParseRim(Att(path));
    ASSERT_TRUE(parsed.ok()) << path << ": " << parsed.error().ToString();
    EXPECT_EQ(parsed->measurements.size(), 64u) << path;
    EXPECT_EQ(parsed->product, "GH100");
    auto verified = VerifyRim(Att(path), RimRoots(), kNow);
    ASSERT_TRUE(verified.ok()) << path << ": " << verified.error().ToString();
    EXPECT_EQ(verified->signer_chain.size(), 4u) << path;
  }
  auto vbios = ParseRim(Att(c.at("rims")[0]));
  ASSERT_TRUE(vbios.ok());
  EXPECT_EQ(vbios->version, "96.00.5E.00.01");
  EXPECT_EQ(vbios->kind, RimKind::kVbios);
  auto driver = ParseRim(Att(c.at("rims")[2]));
  ASSERT_TRUE(driver.ok());
  EXPECT_EQ(driver->version, "545.00");
  EXPECT_EQ(driver->kind, RimKind::kDriver);
  // index 35 of the driver RIM lists two alternatives.
  const RimMeasurement* m35 = driver->Find(35);
  ASSERT_NE(m35, nullptr);
  EXPECT_TRUE(m35->active);
  EXPECT_EQ(m35->alternatives.size(), 2u);
}

TEST(NvidiaVectors, R_RimSignersExpiredAfterJune2025) {
  const auto c = NvCase("R");
  for (const auto& path : c.at("rims")) {
    auto verified = VerifyRim(Att(path), RimRoots(), kAfterRimExpiry);
    ASSERT_FALSE(verified.ok()) << path;
    EXPECT_EQ(verified.error().code(), ErrorCode::kCertExpired) << path << ": " << verified.error().ToString();
  }
}

TEST(NvidiaVectors, R_RimAgainstForeignRootIsUntrusted) {
  const auto c = NvCase("R");
  auto verified = VerifyRim(Att(c.at("rims")[0]), DeviceAnchors().roots, kNow);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kChainUntrusted);
}

TEST(NvidiaVectors, R_TamperedRimFailsSignature) {
  const auto c = NvCase("R");
  std::string xml = Att(c.at("rims")[0]);
  const std::string from = "c3f65ef79a19c029868cd7ce54b10e44";
  const size_t at = xml.find(from);
  ASSERT_NE(at, std::string::npos);
  xml[at] = 'd';
  auto verified = VerifyRim(xml, RimRoots(), kNow);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code(), ErrorCode::kBadSignature);
}

TEST(NvidiaVectors, R_N1AgainstRimsReportsMeasurementMismatchNamingIndexes) {
  const auto n1 = NvCase("N1");
  const auto r = NvCase("R");
  const Bytes nonce = testing::Hex(n1.at("nonce").get<std::string>());
  auto v = VerifyGpuReport(ReportOf(n1), GpuCollateral{Att(n1.at("chain")), {}}, nonce, DeviceAnchors(), kNow);
  ASSERT_TRUE(v.ok());
  auto vbios = VerifyRim(Att(r.at("rims")[0]), RimRoots(), kNow);
  auto driver = VerifyRim(Att(r.at("rims")[2]), RimRoots(), kNow);
  ASSERT_TRUE(vbios.ok());
  ASSERT_TRUE(driver.ok());
  const std::vector<Reason> reasons = CompareWithRims(v->report, *driver, *vbios);
  ASSERT_FALSE(reasons.empty());
  std::vector<std::string> codes;
  bool mismatch_names_index = false;
  for (const auto& reason : reasons) {
    codes.push_back(reason.code);
    if (reason.code == "measurement_not_approved" && reason.message.find("index ") != std::string::npos) {
      mismatch_names_index = true;
    }
  }
  EXPECT_TRUE(mismatch_names_index);
  EXPECT_NE(std::find(codes.begin(), codes.end(), "driver_version_mismatch"), codes.end());
  EXPECT_NE(std::find(codes.begin(), codes.end(), "vbios_version_mismatch"), codes.end());
  // The PROD VBIOS RIM does match N1 at some indexes (3 and 4 equal N1's blocks 4 and 5), and not at 1.
  const std::string all = [&] {
    std::string s;
    for (const auto& reason : reasons) s += reason.message + "\n";
    return s;
  }();
  EXPECT_NE(all.find("index 1 "), std::string::npos) << all;
  EXPECT_EQ(all.find("index 3 "), std::string::npos) << all;

  // As a verdict: rejected, platform nvidia-cc, with the same reasons.
  GpuVerdict verdict = MakeGpuVerdict(v, &*driver, &*vbios);
  EXPECT_FALSE(verdict.verdict.accepted);
  EXPECT_EQ(verdict.verdict.platform, "nvidia-cc");
  EXPECT_EQ(verdict.ToJson().at("revocation"), "not_checked");
}

// --- SW: the NVSwitch evidence_list sample ------------------------------------------------------------------

TEST(NvidiaVectors, SW_SwitchEvidenceListParses) {
  const auto c = NvCase("SW");
  auto list = ParseGpuEvidenceList(Att(c.at("evidence_list")));
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  ASSERT_EQ(list->size(), 4u);
  for (const auto& e : *list) {
    EXPECT_EQ(e.arch, "LS10");
    auto report = spdm::ParseGpuAttestationReport(e.evidence);
    ASSERT_TRUE(report.ok()) << report.error().ToString();
    EXPECT_EQ(HexEncode(ByteView(report->request.nonce)), HexEncode(e.nonce));
    EXPECT_EQ(report->nvidia.vbios_version, "96.10.73.00.01");
    auto chain = ParsePemChain(e.certificate_pem);
    ASSERT_TRUE(chain.ok());
    EXPECT_EQ(chain->size(), 5u);
  }
  // Canonical digest: stable, and different when an entry changes.
  const auto d1 = GpuEvidenceListDigest(*list);
  auto changed = *list;
  changed[1].evidence.back() ^= 1;
  EXPECT_NE(d1, GpuEvidenceListDigest(changed));
  EXPECT_EQ(d1, GpuEvidenceListDigest(*list));
}

}  // namespace
}  // namespace cmln::attest::nvidia
