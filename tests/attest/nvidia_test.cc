// GPU evidence negatives (threats A1, A13, A14, A15, A16) on sim-gpu evidence, which uses NVIDIA's byte
// format and the production verifier, plus byte flips and truncations of the real N1 report.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "attest/gpu_evidence.h"
#include "attest/nvidia_rim.h"
#include "attest/nvidia_verify.h"
#include "attest/nvml_provider.h"
#include "attest/sim_gpu.h"
#include "attest/spdm.h"
#include "testing/test_util.h"

namespace cmln::attest::nvidia {
namespace {

using testing::DataPath;
using testing::ReadFileOrDie;

constexpr int64_t kNow = 1740000000;

Bytes Key32(uint8_t fill) { return Bytes(32, fill); }

Bytes NonceFor(uint8_t hpke, uint8_t sign, uint8_t epoch) {
  auto n = GpuNonce(Key32(hpke), Key32(sign), Key32(epoch));
  EXPECT_TRUE(n.ok());
  return n.ok() ? Bytes(n->begin(), n->end()) : Bytes{};
}

SimGpu MakeSim(const std::string& seed, SimGpuOptions o = SimGpuOptions{}) {
  o.seed = seed;
  auto g = SimGpu::Create(o);
  EXPECT_TRUE(g.ok());
  return std::move(*g);
}

ErrorCode CodeOf(const Result<VerifiedGpuReport>& r) { return r.ok() ? ErrorCode::kOk : r.error().code(); }

Bytes N1Report() {
  std::string hex = ReadFileOrDie(DataPath("attestation/nvidia/nvtrust_hopperAttestationReport.txt"));
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.pop_back();
  return testing::Hex(hex);
}
const char* kN1Nonce = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";

GpuTrustAnchors NvidiaAnchors() {
  auto a = ProductionGpuAnchors(ReadFileOrDie(DataPath("attestation/nvidia/nvtrust_verifier_device_root.pem")));
  EXPECT_TRUE(a.ok());
  return *a;
}

TEST(GpuNonceTest, IsSha256OfLabelAndKeys) {
  const Bytes n = NonceFor(1, 2, 3);
  ASSERT_EQ(n.size(), 32u);
  EXPECT_NE(n, NonceFor(1, 2, 4));
  EXPECT_NE(n, NonceFor(2, 1, 3));
  auto bad = GpuNonce(Bytes(31, 1), Key32(2), Key32(3));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

TEST(SimGpuTest, RoundTripVerifiesAndMatchesItsRims) {
  SimGpu gpu = MakeSim("gpu0");
  const Bytes nonce = NonceFor(1, 2, 3);
  auto report = gpu.AttestationReport(nonce);
  ASSERT_TRUE(report.ok());
  auto v = VerifyGpuReport(*report, GpuCollateral{gpu.CertChainPem(), {}}, nonce, gpu.Anchors(), kNow);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_TRUE(v->simulated);
  EXPECT_EQ(v->platform, "sim-gpu");
  EXPECT_EQ(v->report.nvidia.driver_version, "550.90.07");
  EXPECT_EQ(v->report.nvidia.vbios_version, "96.00.9F.00.01");
  const Rim driver = gpu.DriverRim(), vbios = gpu.VbiosRim();
  GpuVerdict verdict = MakeGpuVerdict(v, &driver, &vbios, "HOPPER");
  EXPECT_TRUE(verdict.verdict.accepted) << verdict.ToJson().dump();
  EXPECT_TRUE(verdict.rim_checked);
  const auto j = verdict.ToJson();
  EXPECT_EQ(j.at("platform"), "sim-gpu");
  EXPECT_EQ(j.at("simulated"), true);
  EXPECT_EQ(j.at("revocation"), "not_checked");
  EXPECT_EQ(j.at("report_data"), HexEncode(nonce));
  EXPECT_EQ(j.at("arch"), "HOPPER");
}

TEST(SimGpuTest, A15_ProductionTrustRejectsSimGpu) {
  SimGpu gpu = MakeSim("gpu0");
  const Bytes nonce = NonceFor(1, 2, 3);
  auto report = gpu.AttestationReport(nonce);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(CodeOf(VerifyGpuReport(*report, GpuCollateral{gpu.CertChainPem(), {}}, nonce, NvidiaAnchors(), kNow)),
            ErrorCode::kChainUntrusted);
  // And real evidence under the development root is untrusted too.
  EXPECT_EQ(CodeOf(VerifyGpuReport(N1Report(),
                                   GpuCollateral{ReadFileOrDie(DataPath("attestation/nvidia/nvtrust_hopperCertChain.txt")), {}},
                                   testing::Hex(kN1Nonce), gpu.Anchors(), kNow)),
            ErrorCode::kChainUntrusted);
}

TEST(SimGpuTest, A13_NonceSwappedIsBindingMismatch) {
  SimGpu gpu = MakeSim("gpu0");
  const Bytes nonce = NonceFor(1, 2, 3);
  auto report = gpu.AttestationReport(nonce);
  ASSERT_TRUE(report.ok());
  const GpuCollateral col{gpu.CertChainPem(), {}};
  EXPECT_EQ(CodeOf(VerifyGpuReport(*report, col, NonceFor(1, 2, 2), gpu.Anchors(), kNow)),
            ErrorCode::kBindingMismatch);  // older epoch
  EXPECT_EQ(CodeOf(VerifyGpuReport(*report, col, NonceFor(9, 2, 3), gpu.Anchors(), kNow)),
            ErrorCode::kBindingMismatch);  // another node's HPKE key
  EXPECT_EQ(CodeOf(VerifyGpuReport(*report, col, NonceFor(1, 9, 3), gpu.Anchors(), kNow)),
            ErrorCode::kBindingMismatch);  // another signing key
}

TEST(SimGpuTest, A13_EvidenceFromAnotherGpuFailsSignature) {
  SimGpu a = MakeSim("gpuA");
  SimGpu b = MakeSim("gpuB");
  const Bytes nonce = NonceFor(1, 2, 3);
  auto report_b = b.AttestationReport(nonce);
  ASSERT_TRUE(report_b.ok());
  GpuTrustAnchors both = a.Anchors();
  for (const auto& r : b.Anchors().roots) both.roots.push_back(r);
  // B's evidence presented with A's chain.
  EXPECT_EQ(CodeOf(VerifyGpuReport(*report_b, GpuCollateral{a.CertChainPem(), {}}, nonce, both, kNow)),
            ErrorCode::kBadSignature);
  // Same firmware (same seed) on another device: still another key.
  SimGpu a2 = MakeSim("gpuA");
  auto report_a2 = a2.AttestationReport(nonce);
  ASSERT_TRUE(report_a2.ok());
  for (const auto& r : a2.Anchors().roots) both.roots.push_back(r);
  EXPECT_EQ(CodeOf(VerifyGpuReport(*report_a2, GpuCollateral{a.CertChainPem(), {}}, nonce, both, kNow)),
            ErrorCode::kBadSignature);
}

TEST(SimGpuTest, ReportFwidDifferentFromLeafIsCollateralMismatch) {
  SimGpuOptions o;
  o.report_fwid_for_testing = Bytes(48, 0xAB);
  SimGpu gpu = MakeSim("gpu0", o);
  const Bytes nonce = NonceFor(1, 2, 3);
  auto report = gpu.AttestationReport(nonce);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(CodeOf(VerifyGpuReport(*report, GpuCollateral{gpu.CertChainPem(), {}}, nonce, gpu.Anchors(), kNow)),
            ErrorCode::kCollateralMismatch);
}

TEST(SimGpuTest, A14_FirmwareOrDriverNotMatchingRimsIsRefused) {
  SimGpu approved = MakeSim("approved");
  SimGpuOptions other_driver;
  other_driver.driver_version = "535.104.05";
  SimGpu gpu_driver = MakeSim("approved", other_driver);
  SimGpu gpu_firmware = MakeSim("tampered");
  const Bytes nonce = NonceFor(1, 2, 3);
  const Rim driver = approved.DriverRim(), vbios = approved.VbiosRim();

  auto check = [&](const SimGpu& g) {
    auto report = g.AttestationReport(nonce);
    EXPECT_TRUE(report.ok());
    auto v = VerifyGpuReport(*report, GpuCollateral{g.CertChainPem(), {}}, nonce, g.Anchors(), kNow);
    EXPECT_TRUE(v.ok());
    return MakeGpuVerdict(v, &driver, &vbios);
  };
  GpuVerdict d = check(gpu_driver);
  EXPECT_FALSE(d.verdict.accepted);
  ASSERT_EQ(d.verdict.reasons.size(), 1u);
  EXPECT_EQ(d.verdict.reasons[0].code, "driver_version_mismatch");

  GpuVerdict f = check(gpu_firmware);
  EXPECT_FALSE(f.verdict.accepted);
  ASSERT_EQ(f.verdict.reasons.size(), 16u);  // every block differs; all listed at once
  for (const auto& r : f.verdict.reasons) EXPECT_EQ(r.code, "measurement_not_approved");

  // RIMs swapped (driver RIM in the VBIOS slot) are named as such.
  auto report = approved.AttestationReport(nonce);
  ASSERT_TRUE(report.ok());
  auto v = VerifyGpuReport(*report, GpuCollateral{approved.CertChainPem(), {}}, nonce, approved.Anchors(), kNow);
  ASSERT_TRUE(v.ok());
  std::set<std::string> codes;
  for (const auto& r : CompareWithRims(v->report, vbios, driver)) codes.insert(r.code);
  EXPECT_TRUE(codes.count("rim_kind_mismatch"));
}

TEST(GpuEvidenceListTest, AllGpusCheckedAndSwapBetweenBundlesRejected) {
  SimGpu a = MakeSim("gpuA");
  SimGpu b = MakeSim("gpuB");
  GpuTrustAnchors anchors = a.Anchors();
  for (const auto& r : b.Anchors().roots) anchors.roots.push_back(r);
  const Bytes nonce1 = NonceFor(1, 2, 3);  // bundle 1: node keys (1, 2), epoch 3
  const Bytes nonce2 = NonceFor(4, 5, 3);  // bundle 2: another node, same epoch

  auto ea = a.Evidence(nonce1), eb = b.Evidence(nonce1);
  ASSERT_TRUE(ea.ok() && eb.ok());
  std::vector<GpuEvidence> bundle1 = {*ea, *eb};
  GpuListVerdict ok = VerifyGpuEvidenceList(bundle1, nonce1, anchors, kNow);
  EXPECT_TRUE(ok.accepted) << ok.ToJson().dump();
  EXPECT_EQ(ok.gpus.size(), 2u);

  // JSON round trip keeps the digest.
  auto reparsed = ParseGpuEvidenceList(GpuEvidenceListToJson(bundle1).dump());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(GpuEvidenceListDigest(*reparsed), GpuEvidenceListDigest(bundle1));
  auto wrapped = ParseGpuEvidenceList(nlohmann::json{{"evidence_list", GpuEvidenceListToJson(bundle1)}}.dump());
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->size(), 2u);

  // Bundle 2's GPU evidence placed in bundle 1 (swap): the nonce is bound to other keys.
  auto eb2 = b.Evidence(nonce2);
  ASSERT_TRUE(eb2.ok());
  std::vector<GpuEvidence> swapped = {*ea, *eb2};
  GpuListVerdict bad = VerifyGpuEvidenceList(swapped, nonce1, anchors, kNow);
  EXPECT_FALSE(bad.accepted);
  ASSERT_EQ(bad.gpus.size(), 2u);  // the second GPU is checked even though...
  EXPECT_TRUE(bad.gpus[0].verdict.accepted);
  EXPECT_FALSE(bad.gpus[1].verdict.accepted);
  EXPECT_EQ(bad.gpus[1].verdict.reasons.at(0).code, "binding_mismatch");
  EXPECT_NE(GpuEvidenceListDigest(swapped), GpuEvidenceListDigest(bundle1));

  // Replay from an older epoch.
  GpuListVerdict replay = VerifyGpuEvidenceList(bundle1, NonceFor(1, 2, 4), anchors, kNow);
  EXPECT_FALSE(replay.accepted);
  for (const auto& g : replay.gpus) EXPECT_EQ(g.verdict.reasons.at(0).code, "binding_mismatch");

  // An entry whose nonce member lies about its report.
  std::vector<GpuEvidence> lying = bundle1;
  lying[0].nonce = nonce2;
  EXPECT_FALSE(VerifyGpuEvidenceList(lying, nonce1, anchors, kNow).accepted);
  // An empty list is not accepted.
  EXPECT_FALSE(VerifyGpuEvidenceList({}, nonce1, anchors, kNow).accepted);
}

TEST(GpuEvidenceListTest, A16_MalformedListsHaveExactCodes) {
  auto code = [](const std::string& text) {
    auto r = ParseGpuEvidenceList(text);
    return r.ok() ? ErrorCode::kOk : r.error().code();
  };
  EXPECT_EQ(code("not json"), ErrorCode::kBadEncoding);
  EXPECT_EQ(code("{}"), ErrorCode::kMalformed);
  EXPECT_EQ(code("[1]"), ErrorCode::kMalformed);
  EXPECT_EQ(code(R"([{"arch":"HOPPER","certificate":"","evidence":""}])"), ErrorCode::kMalformed);
  EXPECT_EQ(code(R"([{"arch":"HOPPER","certificate":"!!","evidence":"","nonce":"00"}])"), ErrorCode::kBadEncoding);
  EXPECT_EQ(code(R"([{"arch":"HOPPER","certificate":"","evidence":"","nonce":"00"}])"), ErrorCode::kMalformed);
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 65; ++i) many.push_back(nlohmann::json::object());
  EXPECT_EQ(code(many.dump()), ErrorCode::kLengthTooLarge);
}

// --- A16: truncations and lying lengths; A1: byte flips --------------------------------------------------------

TEST(SpdmTest, A16_EveryTruncationOfN1IsTruncated) {
  const Bytes report = N1Report();
  for (size_t n = 0; n < report.size(); ++n) {
    auto r = spdm::ParseGpuAttestationReport(ByteView(report).first(n));
    ASSERT_FALSE(r.ok()) << n;
    ASSERT_EQ(r.error().code(), ErrorCode::kTruncated) << n << ": " << r.error().ToString();
  }
  Bytes longer = report;
  longer.push_back(0);
  auto r = spdm::ParseGpuAttestationReport(longer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTrailingData);
}

TEST(SpdmTest, A16_LyingLengthsAndFieldsHaveExactCodes) {
  const Bytes report = N1Report();
  auto code = [](const Bytes& b) {
    auto r = spdm::ParseGpuAttestationReport(b);
    return r.ok() ? ErrorCode::kOk : r.error().code();
  };
  const size_t rsp = spdm::kRequestSize;
  Bytes b = report;
  b[spdm::kReqOffVersion] = 0x12;
  EXPECT_EQ(code(b), ErrorCode::kMalformed);
  b = report;
  b[spdm::kReqOffCode] = 0x83;
  EXPECT_EQ(code(b), ErrorCode::kMalformed);
  b = report;
  b[spdm::kReqOffAttributes] = 0x00;  // no signature requested
  EXPECT_EQ(code(b), ErrorCode::kMalformed);
  b = report;
  b[rsp + spdm::kRspOffCode] = 0x7F;  // SPDM ERROR
  EXPECT_EQ(code(b), ErrorCode::kMalformed);
  b = report;
  b[rsp + spdm::kRspOffNumberOfBlocks] = 0;
  EXPECT_EQ(code(b), ErrorCode::kMalformed);
  b = report;
  b[rsp + spdm::kRspOffNumberOfBlocks] = 63;  // one block fewer than the record holds
  EXPECT_EQ(code(b), ErrorCode::kTrailingData);
  b = report;
  b[rsp + spdm::kRspOffRecordLength + 2] = 0xFF;  // record length far beyond the input
  EXPECT_EQ(code(b), ErrorCode::kTruncated);
  b = report;
  b[rsp + spdm::kRspOffRecord + 1] = 0x02;  // first block not DMTF
  EXPECT_EQ(code(b), ErrorCode::kMalformed);
  b = report;
  b[rsp + spdm::kRspOffRecord + 5] = 0x31;  // value size 49 in a 51-byte measurement
  EXPECT_EQ(code(b), ErrorCode::kMalformed);
  b = report;
  b[rsp + spdm::kRspOffRecord + 55] = 0x01;  // second block claims index 1 again
  EXPECT_EQ(code(b), ErrorCode::kMalformed);
  // OpaqueLength above the cap.
  const size_t opaque_len_at = rsp + spdm::kRspOffRecord + 0xdc0 + spdm::kNonceSize;
  b = report;
  b[opaque_len_at] = 0xFF;
  b[opaque_len_at + 1] = 0x04;
  EXPECT_EQ(code(b), ErrorCode::kLengthTooLarge);
}

TEST(SpdmTest, A1_ByteFlipsInSignedRegionsOfN1FailSignature) {
  const Bytes report = N1Report();
  const Bytes nonce = testing::Hex(kN1Nonce);
  const GpuCollateral col{ReadFileOrDie(DataPath("attestation/nvidia/nvtrust_hopperCertChain.txt")), {}};
  const GpuTrustAnchors anchors = NvidiaAnchors();
  const size_t rsp = spdm::kRequestSize;
  const size_t record_end = rsp + spdm::kRspOffRecord + 0xdc0;
  const size_t opaque_at = record_end + spdm::kNonceSize + 2;
  struct Named {
    const char* what;
    size_t offset;
  };
  const Named named[] = {
      {"request nonce", spdm::kReqOffNonce + 5},
      {"request operation", spdm::kReqOffOperation},
      {"response param1", rsp + spdm::kRspOffParam1},
      {"block 2 value", rsp + spdm::kRspOffRecord + 55 + 7 + 3},
      {"block 64 value", record_end - 1},
      {"response nonce", record_end + 4},
      {"opaque vbios", opaque_at + 4},
      {"opaque driver version", opaque_at + 70},
      {"opaque fwid", report.size() - spdm::kSignatureSize - 30},
      {"signature r", report.size() - spdm::kSignatureSize + 3},
      {"signature s", report.size() - 1},
  };
  for (const auto& n : named) {
    Bytes b = report;
    b[n.offset] ^= 0x01;
    auto v = VerifyGpuReport(b, col, nonce, anchors, kNow);
    ASSERT_FALSE(v.ok()) << n.what;
    EXPECT_EQ(v.error().code(), ErrorCode::kBadSignature) << n.what << ": " << v.error().ToString();
  }
}

TEST(SpdmTest, A1_EveryByteFlipOfSimEvidenceIsRejected) {
  SimGpu gpu = MakeSim("gpu0");
  const Bytes nonce = NonceFor(1, 2, 3);
  auto report = gpu.AttestationReport(nonce);
  ASSERT_TRUE(report.ok());
  const GpuCollateral col{gpu.CertChainPem(), {}};
  const GpuTrustAnchors anchors = gpu.Anchors();
  const std::set<ErrorCode> allowed = {ErrorCode::kBadSignature, ErrorCode::kMalformed, ErrorCode::kTruncated,
                                       ErrorCode::kTrailingData, ErrorCode::kLengthTooLarge};
  for (size_t i = 0; i < report->size(); ++i) {
    Bytes b = *report;
    b[i] ^= 0x80;
    auto v = VerifyGpuReport(b, col, nonce, anchors, kNow);
    ASSERT_FALSE(v.ok()) << i;
    ASSERT_TRUE(allowed.count(v.error().code())) << i << ": " << v.error().ToString();
  }
}

TEST(FwidTest, A16_MalformedExtensionsHaveExactCodes) {
  auto code = [](const Bytes& b) {
    auto r = ParseDiceFwid(b);
    return r.ok() ? ErrorCode::kOk : r.error().code();
  };
  EXPECT_EQ(code({}), ErrorCode::kTruncated);
  EXPECT_EQ(code({0x30, 0x00}), ErrorCode::kNotFound);
  EXPECT_EQ(code({0x30, 0x05, 0x02, 0x01}), ErrorCode::kTruncated);
  EXPECT_EQ(code({0x31, 0x00}), ErrorCode::kMalformed);
  EXPECT_EQ(code({0x30, 0x81, 0x05}), ErrorCode::kMalformed);  // non-minimal length
  EXPECT_EQ(code({0x30, 0x00, 0x00}), ErrorCode::kTrailingData);
  // TcbInfo layout: [6] { FWID(sha384, 48 bytes) }.
  Bytes tcb = {0x30, 0x41, 0xA6, 0x3F, 0x30, 0x3D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x04, 0x30};
  tcb.resize(tcb.size() + 48, 0x5A);
  auto fwid = ParseDiceFwid(tcb);
  ASSERT_TRUE(fwid.ok()) << fwid.error().ToString();
  EXPECT_EQ(*fwid, Bytes(48, 0x5A));
}

TEST(GpuEvidenceListTest, LoadGpuEvidenceAcceptsListHexAndRaw) {
  const std::string chain = ReadFileOrDie(DataPath("attestation/nvidia/nvtrust_hopperCertChain.txt"));
  const std::string hex = ReadFileOrDie(DataPath("attestation/nvidia/nvtrust_hopperAttestationReport.txt"));
  const GpuTrustAnchors anchors = NvidiaAnchors();
  const Bytes nonce = testing::Hex(kN1Nonce);
  auto from_hex = LoadGpuEvidence(hex, chain);
  ASSERT_TRUE(from_hex.ok()) << from_hex.error().ToString();
  ASSERT_EQ(from_hex->size(), 1u);
  EXPECT_EQ((*from_hex)[0].nonce, nonce);
  EXPECT_TRUE(VerifyGpuEvidenceList(*from_hex, nonce, anchors, kNow).accepted);
  const Bytes raw = N1Report();
  auto from_raw = LoadGpuEvidence(AsChars(raw), chain);
  ASSERT_TRUE(from_raw.ok());
  EXPECT_EQ((*from_raw)[0].evidence, raw);
  GpuListVerdict wrong = VerifyGpuEvidenceList(*from_raw, Bytes(32, 7), anchors, kNow);
  EXPECT_FALSE(wrong.accepted);
  EXPECT_EQ(wrong.ToJson().at(0).at("reasons").at(0).at("code"), "binding_mismatch");
  auto no_chain = LoadGpuEvidence(hex, "");
  ASSERT_FALSE(no_chain.ok());
  EXPECT_EQ(no_chain.error().code(), ErrorCode::kInvalidArgument);
  auto list = LoadGpuEvidence(ReadFileOrDie(DataPath("attestation/nvidia/nvtrust_ppcie_switch_evidence.json")), "");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 4u);
}

TEST(NvmlProviderTest, AbsentLibraryIsNotFound) {
  if (NvmlAvailable()) GTEST_SKIP() << "libnvidia-ml.so.1 present on this machine";
  auto r = CollectNvmlGpuEvidence(Bytes(32, 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  auto bad = CollectNvmlGpuEvidence(Bytes(31, 1));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::attest::nvidia
