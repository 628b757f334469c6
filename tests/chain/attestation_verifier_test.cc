// The keeper with the REAL verifier (AttestLibraryVerifier over attest::VerifyBundle): a simulated bundle
// built by attest::BuildSimBundle registers VERIFIED on a chain whose genesis carries the development PKI;
// stolen (A11), replayed (A12), key-substituted (A10), debug (A8), unapproved (A9) and simulated-on-a-
// production-chain (A15) bundles are refused with their exact code and change no state. Collateral
// submitted through MsgSubmitCollateral is verified against the genesis roots.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attest/bundle.h"
#include "attest/x509_builder.h"
#include "chain/app.h"
#include "chain/attestation_verifier.h"
#include "chain/chain_harness.h"
#include "chain/invariants.h"
#include "chain/keys.h"
#include "seal/ohttp.h"

namespace cmln::chain::testing {
namespace {

constexpr int64_t kPkiCreated = 1750377600;
constexpr int64_t kStart = kPkiCreated + 100;
constexpr const char* kNode = "node-1";

struct SharedPki {
  attest::SimPki pki;
  attest::SimTrust trust;
};
SharedPki* g_pki = nullptr;

class RealVerifierChain {
 public:
  explicit RealVerifierChain(bool allow_simulated)
      : authority(KeyFor("authority")), validator(KeyFor("validator")), host(KeyFor("host")), host2(KeyFor("host2")) {
    app = std::move(*App::Open(":memory:", &verifier));
    auto g = ParseGenesis(Genesis(allow_simulated).dump());
    EXPECT_TRUE(g.ok()) << g.error().ToString();
    Status st = app->InitChain(*g);
    EXPECT_TRUE(st.ok()) << st.error().ToString();
  }

  nlohmann::json Genesis(bool allow_simulated) const {
    const attest::SimPki& pki = g_pki->pki;
    nlohmann::json params = {{"authority", AddrOf(authority)},
                             {"epoch_length", "10"},
                             {"model_prices", {{{"model_id", kModel}, {"price_per_token", "10"}}}},
                             {"allow_simulated_tee", allow_simulated}};
    nlohmann::json tee_trust = {{"sim",
                                 {{"tdx_roots_pem", attest::CertificatePem(pki.intel_root)},
                                  {"snp_arks_pem", {{"Milan", attest::CertificatePem(pki.ark)}}}}}};
    const std::string& coll = g_pki->trust.tdx_collateral_json;
    return {{"chain_id", kChainId},
            {"genesis_time", kStart},
            {"params", params},
            {"accounts",
             {{{"address", AddrOf(authority)}, {"balance", 1'000'000}},
              {{"address", AddrOf(validator)}, {"balance", 0}},
              {{"address", AddrOf(host)}, {"balance", 1'000}},
              {{"address", AddrOf(host2)}, {"balance", 1'000}}}},
            {"participants", {{{"address", AddrOf(host)}, {"weight", 100}}, {{"address", AddrOf(host2)}, {"weight", 50}}}},
            {"collateral",
             {{{"platform", "sim-tdx"},
               {"kind", "tdx_collateral_v3"},
               {"id", "C0DE51000000"},
               {"collateral_base64", Base64Encode(AsBytes(coll))},
               {"issue_time", g_pki->trust.tdx_collateral.tcb_info.issue_date},
               {"next_update", g_pki->trust.tdx_collateral.tcb_info.next_update}}}},
            {"tee_trust", tee_trust}};
  }

  template <typename M>
  std::optional<M> Read(const std::string& key) const {
    auto it = app->committed_state().find(key);
    if (it == app->committed_state().end()) return std::nullopt;
    M m;
    m.ParseFromString(it->second);
    return m;
  }
  uint64_t Sequence(const seal::AccountPrivateKey& k) const {
    auto acc = Read<pb::Account>(keys::Account(AddrOf(k)));
    return acc ? acc->sequence() : 0;
  }
  StateMap SnapshotExcept(const seal::AccountPrivateKey& signer) const {
    StateMap m = app->committed_state();
    m.erase(keys::Account(AddrOf(signer)));
    return m;
  }

  TxResult Deliver(const seal::AccountPrivateKey& k, const pb::Msg& m) {
    auto tx = BuildSignedTx(k, kChainId, Sequence(k), 0, {m});
    EXPECT_TRUE(tx.ok());
    BlockHeader h{app->height() + 1, kStart + static_cast<int64_t>(app->height() + 1) * 5, AddrOf(validator)};
    auto r = app->FinalizeBlock(h, {*tx});
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    auto c = app->Commit();
    EXPECT_TRUE(c.ok());
    MapReader reader(&app->committed_state());
    Status inv = CheckInvariants(reader);
    EXPECT_TRUE(inv.ok()) << inv.error().ToString();
    return r.ok() && !r->tx_results.empty() ? r->tx_results[0] : TxResult{};
  }

  pb::Msg Release(const std::string& id, const Bytes& mrtd) const {
    pb::Msg m;
    auto* r = m.mutable_register_release();
    r->set_authority(AddrOf(authority));
    auto* rel = r->mutable_release();
    rel->set_release_id(id);
    rel->set_platform("sim-tdx");
    auto* ms = rel->add_measurements();
    ms->set_name("MRTD");
    ms->set_value(std::string(mrtd.begin(), mrtd.end()));
    auto* rt = rel->add_measurements();
    rt->set_name("RTMR0");
    rt->set_value(std::string(48, '\x01'));
    rel->set_model_id(kModel);
    rel->set_model_digest(std::string(32, '\x5D'));
    rel->set_engine("builtin");
    rel->set_min_tcb("UpToDate");
    return m;
  }

  // The binding the chain expects now for `participant`.
  attest::BundleBinding Binding(const seal::AccountPrivateKey& participant) const {
    auto meta = Read<pb::ChainMeta>(std::string(keys::kMeta)).value_or(pb::ChainMeta());
    auto ep = Read<pb::EpochInfo>(keys::Epoch(meta.current_epoch())).value_or(pb::EpochInfo());
    return attest::BundleBinding{kChainId, meta.current_epoch(), ToBytes(ep.nonce()), AddrOf(participant), kNode};
  }

  attest::SimBundleSpec Spec(const seal::AccountPrivateKey& participant) const {
    attest::SimBundleSpec s;
    s.binding = Binding(participant);
    seal::ohttp::KeyConfig kc;
    kc.key_id = 1;
    kc.kem_id = 0x0020;
    kc.public_key = Bytes(32, 0x09);
    kc.algorithms = {{0x0001, 0x0001}};
    s.ohttp_key_config = *seal::ohttp::EncodeKeyConfig(kc);
    s.sign_pk = ToBytes(sign_key.public_key());
    s.model_id = kModel;
    s.model_digest = Bytes(32, 0x5D);
    s.release_id = "rel-1";
    s.tdx.mr_td.fill(0xA1);
    s.tdx.rtmr[0].fill(0x01);
    return s;
  }
  static std::string Text(const attest::AttestationBundle& b) { return *attest::SerializeBundle(b); }
  static std::string Build(const attest::SimBundleSpec& s) {
    auto b = attest::BuildSimBundle(g_pki->pki, s);
    EXPECT_TRUE(b.ok()) << b.error().ToString();
    return Text(*b);
  }
  static pb::Msg Submit(const seal::AccountPrivateKey& participant, const std::string& bundle) {
    pb::Msg m;
    auto* a = m.mutable_submit_tee_attestation();
    a->set_participant(AddrOf(participant));
    a->set_node_id(kNode);
    a->set_model_id(kModel);
    a->set_endpoint("https://127.0.0.1:9443");
    a->set_bundle(bundle);
    return m;
  }

  // Delivers `m` signed by `signer` and expects `code` with no state change but the signer's sequence.
  void ExpectRefused(const seal::AccountPrivateKey& signer, const pb::Msg& m, ErrorCode code) {
    StateMap before = SnapshotExcept(signer);
    TxResult r = Deliver(signer, m);
    EXPECT_EQ(r.code, code) << ErrorCodeName(r.code) << ": " << r.log;
    StateMap after = SnapshotExcept(signer);
    EXPECT_EQ(after.size(), before.size());
    EXPECT_TRUE(after == before) << "state changed by a refused message";
  }

  AttestLibraryVerifier verifier;
  std::unique_ptr<App> app;
  seal::AccountPrivateKey authority, validator, host, host2;
  seal::Ed25519PrivateKey sign_key = seal::Ed25519PrivateKey::Generate();
};

class AttestationVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    attest::SimPkiOptions o;
    o.now = kPkiCreated;
    o.rsa_bits = 2048;
    o.seed_for_testing = Bytes(32, 0x24);
    auto pki = attest::GenerateSimPki(o);
    ASSERT_TRUE(pki.ok()) << pki.error().ToString();
    auto trust = attest::SimTrustOf(*pki);
    ASSERT_TRUE(trust.ok());
    g_pki = new SharedPki{std::move(pki).value(), std::move(trust).value()};
  }
  static void TearDownTestSuite() {
    delete g_pki;
    g_pki = nullptr;
  }
};

TEST_F(AttestationVerifierTest, SimBundleRegistersVerified) {
  RealVerifierChain c(/*allow_simulated=*/true);
  ASSERT_TRUE(c.Deliver(c.authority, c.Release("rel-1", Bytes(48, 0xA1))).ok());
  TxResult r = c.Deliver(c.host, c.Submit(c.host, c.Build(c.Spec(c.host))));
  ASSERT_TRUE(r.ok()) << ErrorCodeName(r.code) << ": " << r.log;
  auto a = c.Read<pb::TeeAttestation>(keys::Attestation(kNode));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status(), pb::ATTESTATION_STATUS_VERIFIED);
  EXPECT_EQ(a->platform(), "sim-tdx");
  EXPECT_TRUE(a->simulated());
  EXPECT_EQ(a->tcb_status(), "UpToDate");
  EXPECT_EQ(a->release_id(), "rel-1");
  EXPECT_EQ(ToBytes(a->sign_public_key()), ToBytes(c.sign_key.public_key()));
}

TEST_F(AttestationVerifierTest, A11_StolenBundleRefused) {
  RealVerifierChain c(true);
  ASSERT_TRUE(c.Deliver(c.authority, c.Release("rel-1", Bytes(48, 0xA1))).ok());
  // host2 submits a genuine bundle bound to host.
  c.ExpectRefused(c.host2, c.Submit(c.host2, c.Build(c.Spec(c.host))), ErrorCode::kBindingMismatch);
}

TEST_F(AttestationVerifierTest, A12_ReplayedEpochNonceRefused) {
  RealVerifierChain c(true);
  ASSERT_TRUE(c.Deliver(c.authority, c.Release("rel-1", Bytes(48, 0xA1))).ok());
  attest::SimBundleSpec s = c.Spec(c.host);
  s.binding.epoch_nonce = Bytes(32, 0x01);  // an older epoch's nonce
  c.ExpectRefused(c.host, c.Submit(c.host, c.Build(s)), ErrorCode::kBindingMismatch);
  s = c.Spec(c.host);
  s.binding.chain_id = "another-chain";
  c.ExpectRefused(c.host, c.Submit(c.host, c.Build(s)), ErrorCode::kBindingMismatch);
}

TEST_F(AttestationVerifierTest, A10_KeySubstitutionRefused) {
  RealVerifierChain c(true);
  ASSERT_TRUE(c.Deliver(c.authority, c.Release("rel-1", Bytes(48, 0xA1))).ok());
  auto b = attest::BuildSimBundle(g_pki->pki, c.Spec(c.host));
  ASSERT_TRUE(b.ok());
  b->sign_pk = Bytes(32, 0x66);  // the host's own key in place of the TEE's
  c.ExpectRefused(c.host, c.Submit(c.host, c.Text(*b)), ErrorCode::kBindingMismatch);
}

TEST_F(AttestationVerifierTest, A8_DebugRefused) {
  RealVerifierChain c(true);
  ASSERT_TRUE(c.Deliver(c.authority, c.Release("rel-1", Bytes(48, 0xA1))).ok());
  attest::SimBundleSpec s = c.Spec(c.host);
  s.tdx.debug = true;
  c.ExpectRefused(c.host, c.Submit(c.host, c.Build(s)), ErrorCode::kDebugEnabled);
}

TEST_F(AttestationVerifierTest, A9_UnapprovedMeasurementRefused) {
  RealVerifierChain c(true);
  ASSERT_TRUE(c.Deliver(c.authority, c.Release("rel-1", Bytes(48, 0xA2))).ok());  // approves another MRTD
  c.ExpectRefused(c.host, c.Submit(c.host, c.Build(c.Spec(c.host))), ErrorCode::kMeasurementNotApproved);
}

TEST_F(AttestationVerifierTest, A15_SimulatedOnProductionChainRefused) {
  RealVerifierChain c(/*allow_simulated=*/false);
  ASSERT_TRUE(c.Deliver(c.authority, c.Release("rel-1", Bytes(48, 0xA1))).ok());
  c.ExpectRefused(c.host, c.Submit(c.host, c.Build(c.Spec(c.host))), ErrorCode::kSimulatedNotAllowed);
  // Declared as real TDX, the simulated quote meets the pinned Intel root, and no tdx collateral exists.
  auto b = attest::BuildSimBundle(g_pki->pki, c.Spec(c.host));
  ASSERT_TRUE(b.ok());
  b->platform = "tdx";
  c.ExpectRefused(c.host, c.Submit(c.host, c.Text(*b)), ErrorCode::kNotFound);
}

TEST_F(AttestationVerifierTest, CollateralSubmittedIsVerified) {
  RealVerifierChain c(true);
  attest::SimCollateralOptions o;
  o.issue_time = kStart + 1;
  o.validity = 30 * attest::kSimDay;
  auto fresh = attest::BuildSimTdxCollateral(g_pki->pki, o);
  ASSERT_TRUE(fresh.ok()) << fresh.error().ToString();
  pb::Msg m;
  auto* sc = m.mutable_submit_collateral();
  sc->set_submitter(AddrOf(c.host));
  sc->set_platform("sim-tdx");
  sc->set_collateral(*fresh);
  TxResult r = c.Deliver(c.host, m);
  ASSERT_TRUE(r.ok()) << ErrorCodeName(r.code) << ": " << r.log;
  auto rec = c.Read<pb::CollateralRecord>(keys::Collateral("sim-tdx", "tdx_collateral_v3", "C0DE51000000"));
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->issue_time(), kStart + 1);
  // The same text with one signed byte changed.
  std::string edited = *fresh;
  edited.replace(edited.find("UpToDate"), 8, "OutOfDate");
  sc->set_collateral(edited);
  c.ExpectRefused(c.host, m, ErrorCode::kCollateralBadSignature);
}

TEST(AttestLibraryVerifierTrust, TeeTrustIsStrict) {
  EXPECT_TRUE(BundleTrustFromSettings(TrustSettings{false, "{}"}).ok());
  EXPECT_EQ(BundleTrustFromSettings(TrustSettings{false, "{\"dev_root\":1}"}).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(BundleTrustFromSettings(TrustSettings{false, "nope"}).error().code(), ErrorCode::kBadEncoding);
  EXPECT_EQ(BundleTrustFromSettings(TrustSettings{false, "{\"sim\":{\"tdx_roots_pem\":\"x\"}}"}).error().code(),
            ErrorCode::kBadEncoding);
}

}  // namespace
}  // namespace cmln::chain::testing
