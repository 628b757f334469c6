// Test harness for the chain: an App on a fresh store with a fixed genesis (authority, validator, a
// user "alice", a second user "carol", host participants "host" (weight 100) and "host2" (weight 50)),
// deterministic keys, one-tx-per-block delivery, invariants checked after EVERY committed block, and
// builders for releases, bundles (for TestOnlyJsonBundleVerifier) and signed usage batches.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chain/app.h"
#include "chain/invariants.h"
#include "chain/keeper.h"
#include "chain/keys.h"
#include "chain/tx.h"
#include "chain/usage_batch.h"
#include "chain/test_only_verifier.h"
#include "seal/account_key.h"
#include "seal/crypto.h"

namespace cmln::chain::testing {

namespace pb = ::cmln::chain::v1;

inline seal::AccountPrivateKey KeyFor(const std::string& name) {
  auto d = seal::Sha256(AsBytes("cmln-chain-test/" + name));
  return std::move(*seal::AccountPrivateKey::FromBytes(d));
}
inline std::string AddrOf(const seal::AccountPrivateKey& k) {
  return seal::AccountAddressToString(seal::AccountAddressFromPublicKey(k.public_key()));
}

inline constexpr const char* kChainId = "cmln-test";
inline constexpr const char* kModel = "smollm2-135m";
inline constexpr const char* kOtherModel = "llama-3-8b";
inline constexpr int64_t kGenesisTime = 1'700'000'000;
inline constexpr int64_t kBlockSeconds = 5;
inline constexpr uint64_t kPrice = 10;  // ngonka per token

struct HarnessOptions {
  uint64_t epoch_length = 10;
  uint64_t grace = 3;
  uint64_t ttl = 2;
  uint64_t subsidy = 1'000'000;
  uint32_t decay_bps = 9000;
  uint32_t multiplier_bps = 11000;
  bool allow_simulated = true;
  uint64_t min_fee = 0;
  int64_t collateral_next_update = kGenesisTime + 1'000'000;
  std::string db_path = ":memory:";
};

class ChainHarness {
 public:
  explicit ChainHarness(HarnessOptions o = {})
      : opts(o),
        authority(KeyFor("authority")),
        validator(KeyFor("validator")),
        alice(KeyFor("alice")),
        carol(KeyFor("carol")),
        host(KeyFor("host")),
        host2(KeyFor("host2")) {
    auto app_or = App::Open(opts.db_path, &verifier);
    EXPECT_TRUE(app_or.ok());
    app = std::move(*app_or);
    if (!app->initialized()) {
      auto g = ParseGenesis(GenesisJson().dump());
      EXPECT_TRUE(g.ok()) << g.error().ToString();
      Status st = app->InitChain(*g);
      EXPECT_TRUE(st.ok()) << st.error().ToString();
    }
  }

  nlohmann::json GenesisJson() const {
    nlohmann::json params = {{"authority", AddrOf(authority)},
                             {"epoch_length", std::to_string(opts.epoch_length)},
                             {"model_prices", {{{"model_id", kOtherModel}, {"price_per_token", "20"}},
                                               {{"model_id", kModel}, {"price_per_token", std::to_string(kPrice)}}}},
                             {"attestation_ttl_epochs", std::to_string(opts.ttl)},
                             {"min_escrow_amount", "100"},
                             {"max_escrow_amount", "100000000"},
                             {"settlement_grace_blocks", std::to_string(opts.grace)},
                             {"tee_reward_multiplier_bps", opts.multiplier_bps},
                             {"initial_epoch_subsidy", std::to_string(opts.subsidy)},
                             {"subsidy_decay_bps", opts.decay_bps},
                             {"allow_simulated_tee", opts.allow_simulated},
                             {"min_tx_fee", std::to_string(opts.min_fee)}};
    nlohmann::json coll = {{"kind", "tcb_info"}, {"id", "00906ED50000"}, {"issue_time", kGenesisTime - 100},
                           {"next_update", opts.collateral_next_update}};
    return {{"chain_id", kChainId},
            {"genesis_time", kGenesisTime},
            {"params", params},
            {"accounts",
             {{{"address", AddrOf(authority)}, {"balance", 1'000'000}},
              {{"address", AddrOf(validator)}, {"balance", 0}},
              {{"address", AddrOf(alice)}, {"balance", 10'000'000}},
              {{"address", AddrOf(carol)}, {"balance", 5'000'000}},
              {{"address", AddrOf(host)}, {"balance", 1'000}},
              {{"address", AddrOf(host2)}, {"balance", 1'000}}}},
            {"participants", {{{"address", AddrOf(host)}, {"weight", 100}}, {{"address", AddrOf(host2)}, {"weight", 50}}}},
            {"collateral",
             {{{"platform", "sim-tdx"}, {"kind", "tcb_info"}, {"id", "00906ED50000"},
               {"collateral_base64", Base64Encode(AsBytes(coll.dump()))}, {"issue_time", kGenesisTime - 100},
               {"next_update", opts.collateral_next_update}}}},
            {"tee_trust", {{"dev_root", "test"}}}};
  }

  // --- reading state ---
  template <typename M>
  std::optional<M> Read(const std::string& key) const {
    auto it = app->committed_state().find(key);
    if (it == app->committed_state().end()) return std::nullopt;
    M m;
    m.ParseFromString(it->second);
    return m;
  }
  uint64_t Balance(const seal::AccountPrivateKey& k) const { return Balance(AddrOf(k)); }
  uint64_t Balance(const std::string& a) const {
    auto acc = Read<pb::Account>(keys::Account(a));
    return acc ? acc->balance() : 0;
  }
  uint64_t Sequence(const seal::AccountPrivateKey& k) const {
    auto acc = Read<pb::Account>(keys::Account(AddrOf(k)));
    return acc ? acc->sequence() : 0;
  }
  pb::Escrow Escrow(uint64_t id) const { return Read<pb::Escrow>(keys::Escrow(id)).value_or(pb::Escrow()); }
  pb::TeeAttestation Attestation(const std::string& node) const {
    return Read<pb::TeeAttestation>(keys::Attestation(node)).value_or(pb::TeeAttestation());
  }
  pb::Supply Supply() const { return Read<pb::Supply>(std::string(keys::kSupply)).value_or(pb::Supply()); }
  pb::ChainMeta Meta() const { return Read<pb::ChainMeta>(std::string(keys::kMeta)).value_or(pb::ChainMeta()); }
  pb::EpochInfo Epoch(uint64_t n) const { return Read<pb::EpochInfo>(keys::Epoch(n)).value_or(pb::EpochInfo()); }
  uint64_t Pending(const seal::AccountPrivateKey& k) const {
    auto e = Read<pb::Earnings>(keys::Earnings(AddrOf(k)));
    return e ? e->pending() : 0;
  }

  // --- producing blocks ---
  Bytes SignTx(const seal::AccountPrivateKey& k, const std::vector<pb::Msg>& msgs, uint64_t fee = 0,
               std::optional<uint64_t> seq = std::nullopt, const std::string& chain_id = kChainId) const {
    auto tx = BuildSignedTx(k, chain_id, seq.value_or(Sequence(k)), fee, msgs);
    EXPECT_TRUE(tx.ok());
    return *tx;
  }

  std::vector<TxResult> Block(const std::vector<Bytes>& txs) {
    BlockHeader h{app->height() + 1, kGenesisTime + static_cast<int64_t>(app->height() + 1) * kBlockSeconds,
                  AddrOf(validator)};
    auto r = app->FinalizeBlock(h, txs);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    if (!r.ok()) return {};
    last_end_block_events = r->end_block_events;
    auto c = app->Commit();
    EXPECT_TRUE(c.ok());
    EXPECT_EQ(*c, r->app_hash);
    app_hashes.push_back(r->app_hash);
    blocks.push_back(txs);
    MapReader reader(&app->committed_state());
    Status inv = CheckInvariants(reader);
    EXPECT_TRUE(inv.ok()) << "after block " << h.height << ": " << inv.error().ToString();
    return r->tx_results;
  }

  TxResult Deliver(const seal::AccountPrivateKey& k, const std::vector<pb::Msg>& msgs, uint64_t fee = 0) {
    auto rs = Block({SignTx(k, msgs, fee)});
    return rs.empty() ? TxResult{} : rs[0];
  }
  TxResult Deliver(const seal::AccountPrivateKey& k, const pb::Msg& m, uint64_t fee = 0) {
    return Deliver(k, std::vector<pb::Msg>{m}, fee);
  }
  void EmptyBlocksUntil(uint64_t height) {
    while (app->height() < height) Block({});
  }

  // Committed state without the signer's account (whose sequence a rejected tx still consumes).
  StateMap SnapshotExcept(const seal::AccountPrivateKey& signer) const {
    StateMap m = app->committed_state();
    m.erase(keys::Account(AddrOf(signer)));
    return m;
  }

  // --- message builders ---
  static pb::Msg Send(const std::string& from, const std::string& to, uint64_t amount) {
    pb::Msg m;
    auto* s = m.mutable_send();
    s->set_from_address(from);
    s->set_to_address(to);
    s->set_amount(amount);
    return m;
  }
  Bytes Mrtd() const { return Bytes(48, 0xA1); }
  Bytes ModelDigest() const { return Bytes(32, 0x5D); }
  pb::Msg RegisterRelease(const std::string& id, const std::string& model = kModel, const std::string& min_tcb = "SWHardeningNeeded") const {
    pb::Msg m;
    auto* r = m.mutable_register_release();
    r->set_authority(AddrOf(authority));
    auto* rel = r->mutable_release();
    rel->set_release_id(id);
    rel->set_platform("sim-tdx");
    auto* ms = rel->add_measurements();
    ms->set_name("MRTD");
    const Bytes mrtd = Mrtd(), digest = ModelDigest();
    ms->set_value(std::string(mrtd.begin(), mrtd.end()));
    rel->set_model_id(model);
    rel->set_model_digest(std::string(digest.begin(), digest.end()));
    rel->set_engine("builtin");
    rel->set_min_tcb(min_tcb);
    return m;
  }
  pb::Msg RetireRelease(const std::string& id) const {
    pb::Msg m;
    m.mutable_retire_release()->set_authority(AddrOf(authority));
    m.mutable_retire_release()->set_release_id(id);
    return m;
  }

  // A bundle (for TestOnlyJsonBundleVerifier) bound correctly for `participant` now.
  nlohmann::json Bundle(const seal::AccountPrivateKey& participant, const std::string& node,
                        const seal::Ed25519PrivateKey& sign_key, const std::string& release = "rel-1",
                        const std::string& model = kModel) const {
    pb::ChainMeta meta = Meta();
    pb::EpochInfo ep = Epoch(meta.current_epoch());
    return {{"platform", "sim-tdx"},
            {"simulated", true},
            {"debug", false},
            {"tcb_status", "UpToDate"},
            {"measurements", {{"MRTD", HexEncode(Mrtd())}, {"RTMR0", HexEncode(Bytes(48, 0x01))}}},
            {"binding",
             {{"chain_id", kChainId}, {"epoch", meta.current_epoch()}, {"epoch_nonce", HexEncode(AsBytes(ep.nonce()))},
              {"participant", AddrOf(participant)}, {"node_id", node}}},
            {"sign_pk", HexEncode(sign_key.public_key())},
            {"ohttp_key_config", "0001"},
            {"model_id", model},
            {"model_digest", HexEncode(ModelDigest())},
            {"release_id", release}};
  }
  static pb::Msg SubmitAttestation(const std::string& participant, const std::string& node, const nlohmann::json& bundle,
                                   const std::string& model = kModel) {
    pb::Msg m;
    auto* a = m.mutable_submit_tee_attestation();
    a->set_participant(participant);
    a->set_node_id(node);
    a->set_model_id(model);
    a->set_endpoint("https://127.0.0.1:9443");
    a->set_bundle(bundle.dump());
    return m;
  }
  static pb::Msg Revoke(const std::string& signer, const std::string& node, const std::string& reason) {
    pb::Msg m;
    m.mutable_revoke_tee_attestation()->set_signer(signer);
    m.mutable_revoke_tee_attestation()->set_node_id(node);
    m.mutable_revoke_tee_attestation()->set_reason(reason);
    return m;
  }
  static pb::Msg CreateEscrow(const std::string& creator, uint64_t amount, const std::string& model = kModel) {
    pb::Msg m;
    auto* e = m.mutable_create_confidential_escrow();
    e->set_creator(creator);
    e->set_amount(amount);
    e->set_model_id(model);
    return m;
  }
  static UsageEntry Entry(uint64_t escrow_id, const seal::AccountPrivateKey& requester, uint64_t prompt,
                          uint64_t completion, uint64_t cost, uint64_t requests = 1) {
    UsageEntry e;
    e.escrow_id = escrow_id;
    e.requester_key_hash = seal::Sha256(requester.public_key());
    e.requests = requests;
    e.prompt_tokens = prompt;
    e.completion_tokens = completion;
    e.cost = cost;
    return e;
  }
  static Bytes BatchBytes(const std::string& node, uint64_t seq, const std::vector<UsageEntry>& entries,
                          const std::string& chain_id = kChainId) {
    UsageBatch b{chain_id, node, seq, entries};
    auto bytes = EncodeUsageBatch(b);
    EXPECT_TRUE(bytes.ok());
    return *bytes;
  }
  static pb::Msg Settle(const std::string& submitter, const Bytes& batch, const seal::Ed25519Signature& sig) {
    pb::Msg m;
    auto* s = m.mutable_settle_confidential_usage();
    s->set_submitter(submitter);
    s->set_batch(std::string(batch.begin(), batch.end()));
    s->set_signature(std::string(sig.begin(), sig.end()));
    return m;
  }
  static pb::Msg SignedSettle(const std::string& submitter, const seal::Ed25519PrivateKey& key, const Bytes& batch) {
    return Settle(submitter, batch, *SignUsageBatch(key, batch));
  }

  HarnessOptions opts;
  TestOnlyJsonBundleVerifier verifier;
  std::unique_ptr<App> app;
  seal::AccountPrivateKey authority, validator, alice, carol, host, host2;
  std::vector<Bytes> app_hashes;
  std::vector<std::vector<Bytes>> blocks;
  std::vector<Event> last_end_block_events;
};

#define EXPECT_TX_OK(r) EXPECT_TRUE((r).ok()) << ErrorCodeName((r).code) << ": " << (r).log
#define EXPECT_TX_CODE(r, c) EXPECT_EQ((r).code, (c)) << ErrorCodeName((r).code) << ": " << (r).log

}  // namespace cmln::chain::testing
