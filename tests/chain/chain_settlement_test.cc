// MsgSubmitTeeAttestation policy (A-lines as the chain enforces them), MsgCreateConfidentialEscrow and
// MsgSettleConfidentialUsage (C1-C8). Each refusal asserts the exact code and that nothing changed.
#include <gtest/gtest.h>

#include "chain/chain_harness.h"

namespace cmln::chain::testing {
namespace {

class Settlement : public ::testing::Test {
 protected:
  explicit Settlement(HarnessOptions o = {}) : h(o), k1(*seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x11))) {}

  void SetUpChain() {
    ASSERT_TRUE(h.Deliver(h.authority, h.RegisterRelease("rel-1")).ok());                        // height 1
    auto r = h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", h.Bundle(h.host, "node-1", k1)));
    ASSERT_TRUE(r.ok()) << r.log;                                                                 // height 2
    ASSERT_TRUE(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 10'000)).ok());   // height 3, escrow 1
  }
  void SetUp() override { SetUpChain(); }

  TxResult SettleBy(const seal::Ed25519PrivateKey& key, uint64_t seq, const std::vector<UsageEntry>& entries,
                    const std::string& node = "node-1") {
    return h.Deliver(h.host2, ChainHarness::SignedSettle(AddrOf(h.host2), key, ChainHarness::BatchBytes(node, seq, entries)));
  }
  // Refusal: exact code, and nothing but host2's (the submitter's) sequence changed.
  void ExpectRefused(const TxResult& r, ErrorCode code, const StateMap& before) {
    EXPECT_TX_CODE(r, code);
    EXPECT_EQ(h.SnapshotExcept(h.host2), before);
  }

  ChainHarness h;
  seal::Ed25519PrivateKey k1;
};

TEST_F(Settlement, AttestationRecorded) {
  pb::TeeAttestation a = h.Attestation("node-1");
  EXPECT_EQ(a.status(), pb::ATTESTATION_STATUS_VERIFIED);
  EXPECT_EQ(a.participant(), AddrOf(h.host));
  EXPECT_EQ(a.release_id(), "rel-1");
  EXPECT_EQ(a.tcb_status(), "UpToDate");
  EXPECT_TRUE(a.simulated());
  EXPECT_EQ(a.expires_after_epoch(), 1u);  // epoch 0 + ttl 2 - 1
  EXPECT_EQ(ToBytes(a.sign_public_key()), ToBytes(ByteView(k1.public_key())));
  EXPECT_EQ(h.verifier.last_collateral_count, 1u);
}

TEST_F(Settlement, TwoBatchesDebitEscrowAndAccrueToHost) {
  EXPECT_TX_OK(SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 100, 200, 3000, 2)}));
  EXPECT_TX_OK(SettleBy(k1, 2, {ChainHarness::Entry(1, h.alice, 50, 200, 2500)}));
  EXPECT_EQ(h.Escrow(1).remaining(), 4500u);
  EXPECT_EQ(h.Escrow(1).settled(), 5500u);
  EXPECT_EQ(h.Pending(h.host), 5500u);  // credited to the node's participant, not the relayer
  EXPECT_EQ(h.Pending(h.host2), 0u);
  EXPECT_EQ(h.Attestation("node-1").last_batch_seq(), 2u);
}

TEST_F(Settlement, C2_BatchForgedByHostRefused) {
  auto before = h.SnapshotExcept(h.host2);
  auto forger = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x66));
  ExpectRefused(SettleBy(forger, 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}), ErrorCode::kBadSignature, before);
}

TEST_F(Settlement, C2_BatchAlteredAfterSigningRefused) {
  Bytes batch = ChainHarness::BatchBytes("node-1", 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10)});
  auto sig = *SignUsageBatch(k1, batch);
  batch[batch.size() - 1] ^= 0x01;  // cost 10 -> 11
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(h.Deliver(h.host2, ChainHarness::Settle(AddrOf(h.host2), batch, sig)), ErrorCode::kBadSignature, before);
}

TEST_F(Settlement, C2_BatchSignedByRevokedKeyRefused) {
  EXPECT_TX_OK(h.Deliver(h.host, ChainHarness::Revoke(AddrOf(h.host), "node-1", "key compromised")));
  EXPECT_EQ(h.Attestation("node-1").status(), pb::ATTESTATION_STATUS_REVOKED);
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}), ErrorCode::kAttestationRevoked, before);
}

TEST_F(Settlement, C2_BatchSignedByUnregisteredNodeRefused) {
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}, "node-unknown"), ErrorCode::kNotFound, before);
}

TEST_F(Settlement, RevokeOnlyByAuthorityOrOwner) {
  auto before = h.SnapshotExcept(h.carol);
  EXPECT_TX_CODE(h.Deliver(h.carol, ChainHarness::Revoke(AddrOf(h.carol), "node-1", "grief")), ErrorCode::kUnauthorized);
  EXPECT_EQ(h.SnapshotExcept(h.carol), before);
  EXPECT_TX_OK(h.Deliver(h.authority, ChainHarness::Revoke(AddrOf(h.authority), "node-1", "governance")));
}

TEST_F(Settlement, C3_ReplayedBatchRefused) {
  Bytes batch = ChainHarness::BatchBytes("node-1", 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10)});
  pb::Msg m = ChainHarness::SignedSettle(AddrOf(h.host2), k1, batch);
  EXPECT_TX_OK(h.Deliver(h.host2, m));
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(h.Deliver(h.host2, m), ErrorCode::kReplay, before);
  EXPECT_EQ(h.Escrow(1).settled(), 10u);
}

TEST_F(Settlement, C3_BatchSeqGapRefused) {
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(SettleBy(k1, 2, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}), ErrorCode::kSequenceMismatch, before);
}

TEST_F(Settlement, C4_OverClaimPaidOnlyUpToRemainder) {
  auto r = SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 1000, 1000, 25'000)});
  EXPECT_TX_OK(r);
  EXPECT_EQ(h.Escrow(1).remaining(), 0u);
  EXPECT_EQ(h.Escrow(1).settled(), 10'000u);
  EXPECT_EQ(h.Pending(h.host), 10'000u);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].attributes[4], (std::pair<std::string, std::string>{"cost", "25000"}));
  EXPECT_EQ(r.events[0].attributes[5], (std::pair<std::string, std::string>{"paid", "10000"}));
  // An empty escrow pays nothing more; balances never go negative.
  EXPECT_TX_OK(SettleBy(k1, 2, {ChainHarness::Entry(1, h.alice, 1, 1, 5)}));
  EXPECT_EQ(h.Pending(h.host), 10'000u);
}

TEST_F(Settlement, C5_UsageForAnotherModelRefused) {
  EXPECT_TX_OK(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 5'000, kOtherModel)));  // escrow 2
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10), ChainHarness::Entry(2, h.alice, 1, 1, 10)}),
                ErrorCode::kModelMismatch, before);
  EXPECT_EQ(h.Escrow(1).settled(), 0u);  // all or nothing: entry 1 was not settled either
}

TEST_F(Settlement, C1_C8_RequesterKeyHashMustBeEscrowOwner) {
  // The host fed the node carol's key as if it owned alice's escrow: the signed batch carries what the
  // node saw, and the chain refuses the mismatch.
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(SettleBy(k1, 1, {ChainHarness::Entry(1, h.carol, 1, 1, 10)}), ErrorCode::kRequesterMismatch, before);
}

TEST_F(Settlement, C8_OneWrongRequesterRefusesTheWholeBatch) {
  // The batch carries one requesters_digest, not a hash per entry: a false key for any escrow changes the
  // digest, so the chain refuses every entry (escrow 1, correctly alice's, is not settled either).
  EXPECT_TX_OK(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 5'000)));  // escrow 2
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10), ChainHarness::Entry(2, h.carol, 1, 1, 10)}),
                ErrorCode::kRequesterMismatch, before);
  EXPECT_EQ(h.Escrow(1).settled(), 0u);
  EXPECT_EQ(h.Escrow(2).settled(), 0u);
  // The same escrows with the right keys settle (the digest is what the chain recomputes).
  EXPECT_TX_OK(SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10), ChainHarness::Entry(2, h.alice, 1, 1, 10)}));
  EXPECT_EQ(h.Escrow(1).settled(), 10u);
  EXPECT_EQ(h.Escrow(2).settled(), 10u);
}

TEST_F(Settlement, C8_DigestOverOtherEscrowIdsRefused) {
  // Right keys, but the digest was computed over different escrow ids than the entries settle: the
  // digest binds each key to its escrow, so the signed batch is refused.
  EXPECT_TX_OK(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 5'000)));  // escrow 2
  Bytes batch = ChainHarness::BatchBytes("node-1", 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10)});
  RequestersDigest other;
  other.Add(2, seal::Sha256(h.alice.public_key()));
  const seal::Digest32 wrong = other.Finish();
  const size_t digest_at = 1 + 2 + std::string(kChainId).size() + 2 + 6 + 8;
  std::copy(wrong.begin(), wrong.end(), batch.begin() + static_cast<std::ptrdiff_t>(digest_at));
  ASSERT_EQ(DecodeUsageBatch(batch)->requesters_digest, wrong);
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(h.Deliver(h.host2, ChainHarness::SignedSettle(AddrOf(h.host2), k1, batch)), ErrorCode::kRequesterMismatch,
                before);
}

TEST_F(Settlement, C6_SettlementAfterGraceRefusedRefundExactlyOnce) {
  EXPECT_TX_OK(SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 1, 1, 1000)}));  // height 4
  h.EmptyBlocksUntil(10);  // epoch boundary: escrow 1 closed, refund at 10 + 3 + 1 = 14
  EXPECT_EQ(h.Escrow(1).status(), pb::ESCROW_STATUS_CLOSED);
  EXPECT_EQ(h.Escrow(1).refund_height(), 14u);
  // Within grace (heights 11..13) usage from before the boundary still settles.
  EXPECT_TX_OK(SettleBy(k1, 2, {ChainHarness::Entry(1, h.alice, 1, 1, 500)}));  // height 11
  h.EmptyBlocksUntil(14);
  EXPECT_EQ(h.Escrow(1).status(), pb::ESCROW_STATUS_REFUNDED);
  EXPECT_EQ(h.Escrow(1).refunded(), 8'500u);
  const uint64_t alice_after_refund = h.Balance(h.alice);
  EXPECT_EQ(alice_after_refund, 10'000'000u - 10'000 + 8'500);
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(SettleBy(k1, 3, {ChainHarness::Entry(1, h.alice, 1, 1, 100)}), ErrorCode::kNotActive, before);
  h.EmptyBlocksUntil(30);
  EXPECT_EQ(h.Balance(h.alice), alice_after_refund);  // never refunded twice
  EXPECT_EQ(h.Supply().total_refunded(), 8'500u);
}

TEST_F(Settlement, BatchForAnotherChainRefused) {
  Bytes batch = ChainHarness::BatchBytes("node-1", 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}, "other-chain");
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(h.Deliver(h.host2, ChainHarness::SignedSettle(AddrOf(h.host2), k1, batch)), ErrorCode::kBindingMismatch,
                before);
}

TEST_F(Settlement, SupersededKeySettlesOnlyWithinGrace) {
  auto k2 = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x22));
  // The node restarted (new keys) and re-attested at height 4; its old key may settle until 4 + 3.
  EXPECT_TX_OK(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", h.Bundle(h.host, "node-1", k2))));
  EXPECT_EQ(h.Attestation("node-1").continuous_since_height(), 2u);
  EXPECT_TX_OK(SettleBy(k1, 1, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}));  // height 5
  EXPECT_TX_OK(SettleBy(k2, 2, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}));  // height 6
  h.EmptyBlocksUntil(7);
  auto before = h.SnapshotExcept(h.host2);
  ExpectRefused(SettleBy(k1, 3, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}), ErrorCode::kBadSignature, before);  // 8
  EXPECT_TX_OK(SettleBy(k2, 3, {ChainHarness::Entry(1, h.alice, 1, 1, 10)}));
}

TEST_F(Settlement, EscrowLimitsAndUnknownModel) {
  auto before = h.SnapshotExcept(h.alice);
  EXPECT_TX_CODE(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 99)), ErrorCode::kLimitExceeded);
  EXPECT_TX_CODE(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 100'000'001)), ErrorCode::kLimitExceeded);
  EXPECT_TX_CODE(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 1000, "no-such-model")), ErrorCode::kNotFound);
  EXPECT_EQ(h.SnapshotExcept(h.alice), before);
  EXPECT_EQ(h.Balance(h.alice), 10'000'000u - 10'000);
  EXPECT_TX_CODE(h.Deliver(h.carol, ChainHarness::CreateEscrow(AddrOf(h.carol), 6'000'000)), ErrorCode::kInsufficientFunds);
}

// --- attestation policy --------------------------------------------------------------------------

class Attestation : public ::testing::Test {
 protected:
  explicit Attestation(HarnessOptions o = {}) : h(o), key(*seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x33))) {}
  void SetUp() override { ASSERT_TRUE(h.Deliver(h.authority, h.RegisterRelease("rel-1")).ok()); }

  void ExpectRefused(const nlohmann::json& bundle, ErrorCode code, const seal::AccountPrivateKey* who = nullptr,
                     const std::string& model = kModel) {
    const seal::AccountPrivateKey& p = who ? *who : h.host;
    auto before = h.SnapshotExcept(p);
    auto r = h.Deliver(p, ChainHarness::SubmitAttestation(AddrOf(p), "node-1", bundle, model));
    EXPECT_TX_CODE(r, code);
    EXPECT_EQ(h.SnapshotExcept(p), before);
  }
  nlohmann::json Good() const { return h.Bundle(h.host, "node-1", key); }

  ChainHarness h;
  seal::Ed25519PrivateKey key;
};

TEST_F(Attestation, A1_VerifierSignatureFailurePropagates) {
  auto b = Good();
  b["verify_error"] = static_cast<int>(ErrorCode::kBadSignature);
  ExpectRefused(b, ErrorCode::kBadSignature);
}

TEST_F(Attestation, A8_DebugGuestRefused) {
  auto b = Good();
  b["debug"] = true;
  ExpectRefused(b, ErrorCode::kDebugEnabled);
}

TEST_F(Attestation, A9_UnapprovedMeasurementsRefused) {
  auto b = Good();
  b["measurements"]["MRTD"] = HexEncode(Bytes(48, 0xEE));
  ExpectRefused(b, ErrorCode::kMeasurementNotApproved);
  auto c = Good();
  c["release_id"] = "rel-unknown";
  ExpectRefused(c, ErrorCode::kMeasurementNotApproved);
}

TEST_F(Attestation, A9_RetiredReleaseRefused) {
  ASSERT_TRUE(h.Deliver(h.authority, h.RetireRelease("rel-1")).ok());
  ExpectRefused(Good(), ErrorCode::kNotActive);
}

TEST_F(Attestation, A9_ModelDigestOrModelMismatchRefused) {
  auto b = Good();
  b["model_digest"] = HexEncode(Bytes(32, 0x00));
  ExpectRefused(b, ErrorCode::kModelMismatch);
  ExpectRefused(Good(), ErrorCode::kModelMismatch, nullptr, kOtherModel);
}

TEST_F(Attestation, A11_BundleBoundToAnotherParticipantRefused) {
  // host2 submits host's genuine bundle.
  ExpectRefused(Good(), ErrorCode::kBindingMismatch, &h.host2);
}

TEST_F(Attestation, A12_BundleFromAnotherEpochOrNonceRefused) {
  auto stale = Good();  // bound to epoch 0
  h.EmptyBlocksUntil(10);  // epoch 1 begins at height 11 with a new nonce
  ExpectRefused(stale, ErrorCode::kBindingMismatch);
  auto b = Good();
  b["binding"]["epoch_nonce"] = HexEncode(Bytes(32, 0x42));
  ExpectRefused(b, ErrorCode::kBindingMismatch);
  auto c = Good();
  c["binding"]["chain_id"] = "other-chain";
  ExpectRefused(c, ErrorCode::kBindingMismatch);
  EXPECT_TX_OK(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", Good())));
}

TEST_F(Attestation, A7_TcbBelowReleaseMinimumRefused) {
  auto b = Good();
  b["tcb_status"] = "OutOfDate";
  ExpectRefused(b, ErrorCode::kTcbBelowMinimum);
  auto ok = Good();
  ok["tcb_status"] = "SWHardeningNeeded";  // exactly the minimum
  EXPECT_TX_OK(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", ok)));
}

TEST_F(Attestation, OnlyParticipantsAndOwnersRegisterNodes) {
  auto b = h.Bundle(h.carol, "node-1", key);
  ExpectRefused(b, ErrorCode::kUnauthorized, &h.carol);  // carol is no participant
  EXPECT_TX_OK(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", Good())));
  // host2 cannot take over host's node id.
  ExpectRefused(h.Bundle(h.host2, "node-1", key), ErrorCode::kUnauthorized, &h.host2);
}

class AttestationNoSim : public Attestation {
 protected:
  static HarnessOptions Opts() {
    HarnessOptions o;
    o.allow_simulated = false;
    return o;
  }
  AttestationNoSim() : Attestation(Opts()) {}
};

TEST_F(AttestationNoSim, A15_SimulatedEvidenceRefusedWhenNotAllowed) {
  ExpectRefused(Good(), ErrorCode::kSimulatedNotAllowed);
}

class AttestationStaleCollateral : public Attestation {
 protected:
  static HarnessOptions Opts() {
    HarnessOptions o;
    o.collateral_next_update = kGenesisTime + 3 * kBlockSeconds;  // stale from height 4 on
    return o;
  }
  AttestationStaleCollateral() : Attestation(Opts()) {}
};

TEST_F(AttestationStaleCollateral, A4_ExpiredCollateralRefused) {
  h.EmptyBlocksUntil(4);
  ExpectRefused(Good(), ErrorCode::kCollateralExpired);
  // Fresh collateral (anyone may submit it) makes the same bundle acceptable.
  pb::Msg m;
  auto* c = m.mutable_submit_collateral();
  c->set_submitter(AddrOf(h.carol));
  c->set_platform("sim-tdx");
  nlohmann::json coll = {{"kind", "tcb_info"}, {"id", "00906ED50000"}, {"issue_time", kGenesisTime + 10},
                         {"next_update", kGenesisTime + 100'000}};
  c->set_collateral(coll.dump());
  EXPECT_TX_OK(h.Deliver(h.carol, m));
  EXPECT_TX_CODE(h.Deliver(h.carol, m), ErrorCode::kAlreadyExists);  // not newer
  EXPECT_TX_OK(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", Good())));
}

}  // namespace
}  // namespace cmln::chain::testing
