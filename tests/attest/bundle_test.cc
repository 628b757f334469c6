// The attestation bundle (attest/bundle.h): strict codec, canonical round trip, the report-data binding,
// and VerifyBundle over simulated evidence (sim-tdx, sim-snp, sim-gpu) with exact codes for every attack:
// A10 key substitution, A11 stolen bundle, A12 replay, A13 GPU evidence swapped / wrong nonce, A15
// simulated evidence refused, A8 debug; and every field of the bundle tampered.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "attest/bundle.h"
#include "seal/crypto.h"
#include "seal/ohttp.h"

namespace cmln::attest {
namespace {

constexpr int64_t kCreated = 1750377600;
constexpr int64_t kNow = kCreated + 3600;

template <typename T>
ErrorCode CodeOf(const Result<T>& r) {
  return r.ok() ? ErrorCode::kOk : r.error().code();
}

Bytes KeyConfigFor(uint8_t key_id) {
  seal::ohttp::KeyConfig kc;
  kc.key_id = key_id;
  kc.kem_id = 0x0020;
  auto kp = seal::X25519Generate();
  kc.public_key = Bytes(kp.public_key.begin(), kp.public_key.end());
  kc.algorithms = {{0x0001, 0x0001}};
  return *seal::ohttp::EncodeKeyConfig(kc);
}

class BundleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SimPkiOptions o;
    o.now = kCreated;
    o.rsa_bits = 2048;
    o.seed_for_testing = Bytes(32, 0x42);
    auto pki = GenerateSimPki(o);
    ASSERT_TRUE(pki.ok()) << pki.error().ToString();
    pki_ = new SimPki(std::move(pki).value());
    auto sim = SimTrustOf(*pki_);
    ASSERT_TRUE(sim.ok()) << sim.error().ToString();
    sim_ = new SimTrust(std::move(sim).value());
    auto gpu = nvidia::SimGpu::Create();
    ASSERT_TRUE(gpu.ok()) << gpu.error().ToString();
    gpu_ = new nvidia::SimGpu(std::move(gpu).value());
  }
  static void TearDownTestSuite() {
    delete gpu_;
    delete sim_;
    delete pki_;
  }

  BundleTrust Trust() const {
    auto t = ProductionBundleTrust();
    EXPECT_TRUE(t.ok());
    AddSimTrust(*t, *sim_);
    t->sim_gpu_anchors = gpu_->Anchors();
    t->allow_simulated = true;
    return *t;
  }

  SimBundleSpec Spec(const std::string& platform = "sim-tdx") const {
    SimBundleSpec s;
    s.platform = platform;
    s.binding = BundleBinding{"cmln-test", 7, Bytes(32, 0xE7), "gonka1participant", "node-1"};
    s.ohttp_key_config = key_config_;
    s.sign_pk = Bytes(32, 0x51);
    s.model_id = "smollm2-135m";
    s.model_digest = Bytes(32, 0x5D);
    s.release_id = "rel-1";
    s.tdx.mr_td.fill(0xA1);
    s.tdx.rtmr[0].fill(0x01);
    s.snp.measurement.fill(0xB2);
    s.gpus = {gpu_};
    return s;
  }

  AttestationBundle Build(const SimBundleSpec& s) const {
    auto b = BuildSimBundle(*pki_, s);
    EXPECT_TRUE(b.ok()) << b.error().ToString();
    return b.ok() ? *b : AttestationBundle{};
  }

  // Builds, mutates the bundle after the evidence was made, and verifies.
  ErrorCode VerifyMutated(const std::function<void(AttestationBundle&)>& mutate, const SimBundleSpec* spec = nullptr) {
    AttestationBundle b = Build(spec ? *spec : Spec());
    mutate(b);
    auto v = VerifyBundle(b, Trust(), kNow);
    return CodeOf(v);
  }

  static SimPki* pki_;
  static SimTrust* sim_;
  static nvidia::SimGpu* gpu_;
  Bytes key_config_ = KeyConfigFor(1);
};
SimPki* BundleTest::pki_ = nullptr;
SimTrust* BundleTest::sim_ = nullptr;
nvidia::SimGpu* BundleTest::gpu_ = nullptr;

TEST_F(BundleTest, SimTdxRoundTripAndVerify) {
  AttestationBundle b = Build(Spec());
  auto text = SerializeBundle(b);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  auto parsed = ParseBundle(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, b);
  EXPECT_EQ(*SerializeBundle(*parsed), *text);  // canonical: one text per bundle

  auto v = VerifyBundle(*text, Trust(), kNow);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->platform, "sim-tdx");
  EXPECT_TRUE(v->simulated);
  EXPECT_FALSE(v->debug);
  EXPECT_TRUE(v->report_data_matches);
  EXPECT_EQ(v->tcb_status, TcbStatus::kUpToDate);
  EXPECT_EQ(v->measurements.at("MRTD"), Bytes(48, 0xA1));
  EXPECT_EQ(v->measurements.at("RTMR0"), Bytes(48, 0x01));
  EXPECT_EQ(v->measurements.at("RTMR1"), Bytes(48, 0x00));
  ASSERT_EQ(v->gpus.size(), 1u);
  EXPECT_TRUE(v->gpus[0].verdict.accepted);
  EXPECT_TRUE(v->gpus[0].verdict.simulated);
  EXPECT_EQ(v->sign_pk, Bytes(32, 0x51));
  EXPECT_EQ(v->hpke_pk, *BundleHpkePublicKey(b));
  EXPECT_EQ(v->report_data, *ComputeReportData(b));
}

TEST_F(BundleTest, SimSnpVerifies) {
  auto v = VerifyBundle(Build(Spec("sim-snp")), Trust(), kNow);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->platform, "sim-snp");
  EXPECT_TRUE(v->simulated);
  EXPECT_EQ(v->measurements.at("MEASUREMENT"), Bytes(48, 0xB2));
  EXPECT_EQ(v->measurements.at("HOST_DATA"), Bytes(32, 0x00));
}

TEST_F(BundleTest, NoGpuBundleVerifies) {
  SimBundleSpec s = Spec();
  s.gpus.clear();
  auto v = VerifyBundle(Build(s), Trust(), kNow);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_TRUE(v->gpus.empty());
}

// The report data is exactly the documented length-prefixed tuple (docs/attestation-bundle.md).
TEST_F(BundleTest, ReportDataIsTheDocumentedTuple) {
  AttestationBundle b = Build(Spec());
  auto gpu_list = BundleGpuList(b);
  ASSERT_TRUE(gpu_list.ok());
  auto digest = nvidia::GpuEvidenceListDigest(*gpu_list);
  ByteWriter w;
  auto field = [&](ByteView x) {
    w.U32BE(static_cast<uint32_t>(x.size()));
    w.Bytes(x);
  };
  field(AsBytes("gonka/cmln/report-data/v1"));
  field(AsBytes("cmln-test"));
  field(Bytes{0, 0, 0, 0, 0, 0, 0, 7});
  field(Bytes(32, 0xE7));
  field(AsBytes("gonka1participant"));
  field(AsBytes("node-1"));
  field(key_config_);
  field(Bytes(32, 0x51));
  field(Bytes(32, 0x5D));
  field(digest);
  EXPECT_EQ(*ComputeReportData(b), seal::Sha512(w.bytes()));
  // The GPU nonce is GpuNonce(hpke_pk from the key config, sign_pk, epoch_nonce).
  auto hpke_pk = *BundleHpkePublicKey(b);
  EXPECT_EQ(*BundleGpuNonce(b), *nvidia::GpuNonce(hpke_pk, Bytes(32, 0x51), Bytes(32, 0xE7)));
}

TEST_F(BundleTest, A10_KeySubstitutionRefused) {
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.sign_pk = Bytes(32, 0x66); }), ErrorCode::kBindingMismatch);
  const Bytes other_config = KeyConfigFor(1);
  EXPECT_EQ(VerifyMutated([&](AttestationBundle& b) { b.ohttp_key_config = other_config; }), ErrorCode::kBindingMismatch);
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.model_digest[0] ^= 1; }), ErrorCode::kBindingMismatch);
}

TEST_F(BundleTest, A11_StolenBundleRefused) {
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.binding.participant = "gonka1thief"; }),
            ErrorCode::kBindingMismatch);
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.binding.node_id = "node-2"; }), ErrorCode::kBindingMismatch);
}

TEST_F(BundleTest, A12_ReplayedBundleRefused) {
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.binding.epoch_nonce = Bytes(32, 0x01); }),
            ErrorCode::kBindingMismatch);
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.binding.epoch = 8; }), ErrorCode::kBindingMismatch);
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.binding.chain_id = "other-chain"; }), ErrorCode::kBindingMismatch);
}

TEST_F(BundleTest, A13_GpuEvidenceSwappedOrWrongNonceRefused) {
  // Swapped in from another node's bundle: the report data no longer commits to it.
  SimBundleSpec other = Spec();
  other.binding.node_id = "node-9";
  const AttestationBundle donor = Build(other);
  EXPECT_EQ(VerifyMutated([&](AttestationBundle& b) { b.gpus = donor.gpus; }), ErrorCode::kBindingMismatch);
  // Dropped GPU: likewise.
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.gpus.clear(); }), ErrorCode::kBindingMismatch);

  // Committed by the CPU evidence but carrying another epoch's nonce: the GPU check refuses it.
  AttestationBundle b = Build(Spec());
  auto stale = gpu_->AttestationReport(Bytes(32, 0x99));
  ASSERT_TRUE(stale.ok());
  b.gpus[0].evidence = *stale;
  SimTdxQuoteSpec q = Spec().tdx;
  q.report_data = *ComputeReportData(b);
  b.cpu_evidence = *GenerateSimTdxQuote(*pki_, q);
  auto v = VerifyBundle(b, Trust(), kNow);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), ErrorCode::kBindingMismatch);
  EXPECT_NE(v.error().message().find("gpus[0]"), std::string::npos) << v.error().message();
}

TEST_F(BundleTest, A15_SimulatedRefusedUnlessAllowed) {
  BundleTrust t = Trust();
  t.allow_simulated = false;
  EXPECT_EQ(CodeOf(VerifyBundle(Build(Spec()), t, kNow)), ErrorCode::kSimulatedNotAllowed);
  EXPECT_EQ(CodeOf(VerifyBundle(Build(Spec("sim-snp")), t, kNow)), ErrorCode::kSimulatedNotAllowed);
  // Simulated evidence declared as real hardware meets the pinned vendor roots.
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.platform = "tdx"; }), ErrorCode::kChainUntrusted);
  // sim-gpu evidence declared nvidia-cc has no production anchor to chain to.
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.gpus[0].platform = "nvidia-cc"; }), ErrorCode::kBindingMismatch);
  // A real-platform bundle with a sim-gpu entry is simulated too.
  AttestationBundle b = Build(Spec());
  b.platform = "tdx";
  EXPECT_EQ(CodeOf(VerifyBundle(b, t, kNow)), ErrorCode::kSimulatedNotAllowed);
}

TEST_F(BundleTest, A8_DebugGuestRefused) {
  SimBundleSpec s = Spec();
  s.tdx.debug = true;
  EXPECT_EQ(CodeOf(VerifyBundle(Build(s), Trust(), kNow)), ErrorCode::kDebugEnabled);
  BundleTrust t = Trust();
  t.allow_debug_for_testing = true;
  auto v = VerifyBundle(Build(s), t, kNow);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_TRUE(v->debug);
  SimBundleSpec snp = Spec("sim-snp");
  snp.snp.debug = true;
  EXPECT_EQ(CodeOf(VerifyBundle(Build(snp), Trust(), kNow)), ErrorCode::kDebugEnabled);
}

TEST_F(BundleTest, A1_EvidenceBytesTamperedRefused) {
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.cpu_evidence[100] ^= 1; }), ErrorCode::kBadSignature);
  // A flipped byte of GPU evidence changes the digest the CPU evidence committed to.
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.gpus[0].evidence[60] ^= 1; }), ErrorCode::kBindingMismatch);
  SimBundleSpec snp = Spec("sim-snp");
  EXPECT_EQ(VerifyMutated([](AttestationBundle& b) { b.cpu_evidence[0x50] ^= 1; }, &snp), ErrorCode::kBadSignature);
}

TEST_F(BundleTest, StaleCollateralAndMissingCollateral) {
  AttestationBundle b = Build(Spec());
  BundleTrust t = Trust();
  EXPECT_EQ(CodeOf(VerifyBundle(b, t, kCreated + 400 * kSimDay)), ErrorCode::kCollateralExpired);
  t.tdx_collateral.clear();
  EXPECT_EQ(CodeOf(VerifyBundle(b, t, kNow)), ErrorCode::kNotFound);
  BundleTrust s = Trust();
  s.snp_collateral.clear();
  EXPECT_EQ(CodeOf(VerifyBundle(Build(Spec("sim-snp")), s, kNow)), ErrorCode::kNotFound);
}

// Every field of the canonical JSON, changed: refused with the exact code, except model_id and
// release_id, which the report data does not bind (the caller checks them against the release registry).
TEST_F(BundleTest, EveryFieldTampered) {
  const AttestationBundle b = Build(Spec());
  const nlohmann::json base = nlohmann::json::parse(*SerializeBundle(b));
  auto verify = [&](const nlohmann::json& j) { return CodeOf(VerifyBundle(j.dump(), Trust(), kNow)); };
  ASSERT_EQ(verify(base), ErrorCode::kOk);
  struct Case {
    const char* name;
    std::function<void(nlohmann::json&)> edit;
    ErrorCode want;
  };
  const std::string other_hex32 = HexEncode(Bytes(32, 0x77));
  const std::vector<Case> cases = {
      {"version", [](auto& j) { j["version"] = 2; }, ErrorCode::kUnsupported},
      {"version type", [](auto& j) { j["version"] = "1"; }, ErrorCode::kMalformed},
      {"platform", [](auto& j) { j["platform"] = "sgx"; }, ErrorCode::kMalformed},
      {"platform snp", [](auto& j) { j["platform"] = "sim-snp"; }, ErrorCode::kMalformed},  // cpu_certs empty
      {"cpu_evidence", [](auto& j) { j["cpu_evidence"] = "!!"; }, ErrorCode::kBadEncoding},
      {"cpu_certs", [](auto& j) { j["cpu_certs"] = "x"; }, ErrorCode::kMalformed},
      {"gpus type", [](auto& j) { j["gpus"] = 1; }, ErrorCode::kMalformed},
      {"gpu platform", [](auto& j) { j["gpus"][0]["platform"] = "amd-gpu"; }, ErrorCode::kMalformed},
      {"gpu evidence", [](auto& j) { j["gpus"][0]["evidence"] = Base64Encode(Bytes(10, 1)); }, ErrorCode::kBindingMismatch},
      {"gpu cert_chain", [](auto& j) { j["gpus"][0]["cert_chain"] = "junk"; }, ErrorCode::kBindingMismatch},
      {"gpu extra key", [](auto& j) { j["gpus"][0]["nonce"] = "00"; }, ErrorCode::kMalformed},
      {"chain_id", [](auto& j) { j["binding"]["chain_id"] = "x"; }, ErrorCode::kBindingMismatch},
      {"chain_id space", [](auto& j) { j["binding"]["chain_id"] = "a b"; }, ErrorCode::kMalformed},
      {"epoch", [](auto& j) { j["binding"]["epoch"] = 8; }, ErrorCode::kBindingMismatch},
      {"epoch negative", [](auto& j) { j["binding"]["epoch"] = -1; }, ErrorCode::kMalformed},
      {"epoch_nonce", [&](auto& j) { j["binding"]["epoch_nonce"] = other_hex32; }, ErrorCode::kBindingMismatch},
      {"epoch_nonce short", [](auto& j) { j["binding"]["epoch_nonce"] = "00"; }, ErrorCode::kMalformed},
      {"participant", [](auto& j) { j["binding"]["participant"] = "gonka1x"; }, ErrorCode::kBindingMismatch},
      {"node_id", [](auto& j) { j["binding"]["node_id"] = "n"; }, ErrorCode::kBindingMismatch},
      {"binding extra", [](auto& j) { j["binding"]["height"] = 1; }, ErrorCode::kMalformed},
      {"ohttp_key_config", [](auto& j) { j["ohttp_key_config"] = "00"; }, ErrorCode::kTruncated},
      {"sign_pk", [&](auto& j) { j["sign_pk"] = other_hex32; }, ErrorCode::kBindingMismatch},
      {"sign_pk uppercase", [](auto& j) { j["sign_pk"] = HexEncode(Bytes(32, 0xAB)).replace(0, 2, "AB"); },
       ErrorCode::kBadEncoding},
      {"model_digest", [&](auto& j) { j["model_digest"] = other_hex32; }, ErrorCode::kBindingMismatch},
      {"model_id unbound", [](auto& j) { j["model_id"] = "other-model"; }, ErrorCode::kOk},
      {"release_id unbound", [](auto& j) { j["release_id"] = "rel-2"; }, ErrorCode::kOk},
      {"unknown key", [](auto& j) { j["extra"] = true; }, ErrorCode::kMalformed},
      {"missing key", [](auto& j) { j.erase("release_id"); }, ErrorCode::kMalformed},
  };
  for (const auto& c : cases) {
    nlohmann::json j = base;
    c.edit(j);
    EXPECT_EQ(verify(j), c.want) << c.name;
  }
}

TEST_F(BundleTest, StrictParserRefusals) {
  const std::string text = *SerializeBundle(Build(Spec()));
  EXPECT_EQ(CodeOf(ParseBundle("not json")), ErrorCode::kBadEncoding);
  EXPECT_EQ(CodeOf(ParseBundle("[]")), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(ParseBundle(std::string(kMaxBundleJson + 1, ' '))), ErrorCode::kLengthTooLarge);
  // A duplicate key (nlohmann would silently keep the last one).
  std::string dup = text;
  dup.insert(1, "\"release_id\":\"rel-x\",");
  EXPECT_EQ(CodeOf(ParseBundle(dup)), ErrorCode::kMalformed);
  nlohmann::json many = nlohmann::json::parse(text);
  for (size_t i = 0; i < kMaxBundleGpus; ++i) many["gpus"].push_back(many["gpus"][0]);
  EXPECT_EQ(CodeOf(ParseBundle(many.dump())), ErrorCode::kLengthTooLarge);
  // Serialize refuses what parse would refuse.
  AttestationBundle bad = Build(Spec());
  bad.sign_pk.pop_back();
  EXPECT_EQ(CodeOf(SerializeBundle(bad)), ErrorCode::kInvalidArgument);
}

TEST_F(BundleTest, CollateralVerification) {
  BundleTrust t = Trust();
  auto v = VerifyPlatformCollateral("sim-tdx", AsBytes(sim_->tdx_collateral_json), t, kNow);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->kind, "tdx_collateral_v3");
  EXPECT_EQ(v->id, "C0DE51000000");
  EXPECT_GT(v->next_update, kNow);
  // Under the production roots the development collateral does not chain.
  EXPECT_EQ(CodeOf(VerifyPlatformCollateral("tdx", AsBytes(sim_->tdx_collateral_json), t, kNow)),
            ErrorCode::kChainUntrusted);
  t.allow_simulated = false;
  EXPECT_EQ(CodeOf(VerifyPlatformCollateral("sim-tdx", AsBytes(sim_->tdx_collateral_json), t, kNow)),
            ErrorCode::kSimulatedNotAllowed);
  t.allow_simulated = true;
  // The TCB info text edited after signing.
  std::string edited = sim_->tdx_collateral_json;
  auto pos = edited.find("UpToDate");
  ASSERT_NE(pos, std::string::npos);
  edited.replace(pos, 8, "OutOfDat");
  EXPECT_NE(CodeOf(VerifyPlatformCollateral("sim-tdx", AsBytes(edited), t, kNow)), ErrorCode::kOk);

  nlohmann::json snp = {{"product", "Milan"},
                        {"cert_chain", sim_->snp_collateral.chain_pem},
                        {"crl", std::string(sim_->snp_collateral.crl.begin(), sim_->snp_collateral.crl.end())}};
  auto s = VerifyPlatformCollateral("sim-snp", AsBytes(snp.dump()), t, kNow);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->kind, "snp_chain");
  EXPECT_EQ(s->id, "Milan");
  snp["crl"] = "";
  EXPECT_EQ(CodeOf(VerifyPlatformCollateral("sim-snp", AsBytes(snp.dump()), t, kNow)), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(VerifyPlatformCollateral("sgx", AsBytes("{}"), t, kNow)), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::attest
