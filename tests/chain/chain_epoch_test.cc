// The epoch boundary: refunds after the grace window, host payouts, subsidy by weight with the TEE
// multiplier (integer basis points), attestation re-evaluation and expiry (C6, C7). Numbers by hand.
#include <gtest/gtest.h>

#include "chain/chain_harness.h"

namespace cmln::chain::testing {
namespace {

// epoch_length 10 (boundaries at heights 10, 20, 30), grace 3, ttl 2, subsidy 1,000,000 decaying 90%,
// multiplier 11000 bps; participants host (weight 100) and host2 (weight 50).
TEST(Epoch, FullEconomicCycleByHand) {
  ChainHarness h;
  auto k1 = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x11));
  ASSERT_TRUE(h.Deliver(h.authority, h.RegisterRelease("rel-1")).ok());  // 1
  ASSERT_TRUE(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", h.Bundle(h.host, "node-1", k1))).ok());  // 2
  ASSERT_TRUE(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 10'000)).ok());  // 3: escrow 1
  auto settle = [&](uint64_t seq, uint64_t escrow, uint64_t cost) {
    return h.Deliver(h.host, ChainHarness::SignedSettle(AddrOf(h.host), k1,
                                                        ChainHarness::BatchBytes("node-1", seq, {ChainHarness::Entry(escrow, h.alice, 10, 20, cost)})));
  };
  EXPECT_TX_OK(settle(1, 1, 3'000));  // 4
  EXPECT_TX_OK(settle(2, 1, 2'500));  // 5
  h.EmptyBlocksUntil(10);

  // Epoch 0 closed. The node was attested at height 2 > epoch start 1: no bonus for epoch 0.
  // host: 1,000,000 * 100/150 = 666,666; host2: 333,333 (1 ngonka of dust is never minted).
  pb::EpochInfo e0 = h.Epoch(0);
  EXPECT_EQ(e0.subsidy_budget(), 1'000'000u);
  EXPECT_EQ(e0.subsidy_minted(), 999'999u);
  EXPECT_EQ(e0.host_payouts(), 5'500u);
  EXPECT_EQ(h.Balance(h.host), 1'000u + 5'500 + 666'666);
  EXPECT_EQ(h.Balance(h.host2), 1'000u + 333'333);
  EXPECT_EQ(h.Escrow(1).status(), pb::ESCROW_STATUS_CLOSED);
  EXPECT_EQ(h.Balance(h.alice), 10'000'000u - 10'000);
  h.EmptyBlocksUntil(13);
  EXPECT_EQ(h.Escrow(1).status(), pb::ESCROW_STATUS_CLOSED);  // grace: heights 11..13
  h.EmptyBlocksUntil(14);
  EXPECT_EQ(h.Escrow(1).status(), pb::ESCROW_STATUS_REFUNDED);
  EXPECT_EQ(h.Balance(h.alice), 10'000'000u - 10'000 + 4'500);

  // Epoch 1: subsidy 900,000. The node held its attestation the whole epoch and served traffic, so
  // host's weight counts 100 x 1.1: 900,000 x 1,100,000 / 1,600,000 = 618,750; host2 281,250.
  ASSERT_TRUE(h.Deliver(h.alice, ChainHarness::CreateEscrow(AddrOf(h.alice), 1'000)).ok());  // 15: escrow 2
  EXPECT_TX_OK(settle(3, 2, 400));                                                            // 16
  h.EmptyBlocksUntil(20);
  pb::EpochInfo e1 = h.Epoch(1);
  EXPECT_EQ(e1.subsidy_budget(), 900'000u);
  EXPECT_EQ(e1.subsidy_minted(), 900'000u);
  ASSERT_EQ(e1.rewards_size(), 2);
  EXPECT_TRUE(e1.rewards(0).tee_bonus() != e1.rewards(1).tee_bonus());
  EXPECT_EQ(h.Balance(h.host), 1'000u + 5'500 + 666'666 + 400 + 618'750);
  EXPECT_EQ(h.Balance(h.host2), 1'000u + 333'333 + 281'250);
  // TTL 2 epochs: attested in epoch 0, expired at the end of epoch 1.
  EXPECT_EQ(h.Attestation("node-1").status(), pb::ATTESTATION_STATUS_EXPIRED);
  h.EmptyBlocksUntil(24);
  EXPECT_EQ(h.Balance(h.alice), 10'000'000u - 10'000 + 4'500 - 1'000 + 600);

  // C7: epoch 2 pays no bonus to an expired attestation: 810,000 split 100:50.
  h.EmptyBlocksUntil(30);
  EXPECT_EQ(h.Epoch(2).subsidy_minted(), 810'000u);
  EXPECT_EQ(h.Balance(h.host), 1'000u + 5'500 + 666'666 + 400 + 618'750 + 540'000);
  EXPECT_EQ(h.Balance(h.host2), 1'000u + 333'333 + 281'250 + 270'000);
  pb::Supply s = h.Supply();
  EXPECT_EQ(s.minted(), 999'999u + 900'000 + 810'000);
  EXPECT_EQ(s.total_refunded(), 4'500u + 600);
  EXPECT_EQ(s.total_paid_out(), 5'900u);
  EXPECT_EQ(s.escrowed(), 0u);
  // After expiry a batch is refused once the grace window after the status change has passed.
  EXPECT_TX_CODE(settle(4, 2, 1), ErrorCode::kAttestationExpired);
}

TEST(Epoch, C7_NoBonusWithoutTrafficOrAfterRevocation) {
  ChainHarness h;
  auto k1 = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x11));
  ASSERT_TRUE(h.Deliver(h.authority, h.RegisterRelease("rel-1")).ok());
  ASSERT_TRUE(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", h.Bundle(h.host, "node-1", k1))).ok());
  h.EmptyBlocksUntil(20);
  // Epoch 1: attested the whole epoch but served nothing -> plain weight: 900,000 * 100/150.
  EXPECT_EQ(h.Epoch(1).rewards(0).tee_bonus() || h.Epoch(1).rewards(1).tee_bonus(), false);
  EXPECT_EQ(h.Epoch(1).subsidy_minted(), 900'000u);
}

TEST(Epoch, ReevaluationRevokesOnRetiredReleaseAndTcbDrop) {
  ChainHarness h;
  auto k1 = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x11));
  ASSERT_TRUE(h.Deliver(h.authority, h.RegisterRelease("rel-1")).ok());
  ASSERT_TRUE(h.Deliver(h.authority, h.RegisterRelease("rel-2")).ok());
  ASSERT_TRUE(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", h.Bundle(h.host, "node-1", k1))).ok());
  ASSERT_TRUE(h.Deliver(h.host2, ChainHarness::SubmitAttestation(AddrOf(h.host2), "node-2", h.Bundle(h.host2, "node-2", k1, "rel-2"))).ok());
  ASSERT_TRUE(h.Deliver(h.authority, h.RetireRelease("rel-2")).ok());
  h.verifier.force_tcb = attest::TcbStatus::kOutOfDate;  // new collateral lowered node-1's TCB level
  h.EmptyBlocksUntil(10);
  EXPECT_EQ(h.Attestation("node-1").status(), pb::ATTESTATION_STATUS_REVOKED);
  EXPECT_EQ(h.Attestation("node-2").status(), pb::ATTESTATION_STATUS_REVOKED);
  EXPECT_NE(h.Attestation("node-1").status_reason().find("OutOfDate"), std::string::npos);
  EXPECT_NE(h.Attestation("node-2").status_reason().find("rel-2"), std::string::npos);
}

TEST(Epoch, ReevaluationRevokesOnRevokedPlatformKeyOnly) {
  ChainHarness h;
  auto k1 = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x11));
  ASSERT_TRUE(h.Deliver(h.authority, h.RegisterRelease("rel-1")).ok());
  ASSERT_TRUE(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", h.Bundle(h.host, "node-1", k1))).ok());
  h.verifier.force_error = ErrorCode::kCollateralExpired;  // not a reason to revoke
  h.EmptyBlocksUntil(10);
  EXPECT_EQ(h.Attestation("node-1").status(), pb::ATTESTATION_STATUS_VERIFIED);
  h.verifier.force_error = ErrorCode::kCertRevoked;  // A3: the PCK landed on the CRL
  h.EmptyBlocksUntil(20);
  EXPECT_EQ(h.Attestation("node-1").status(), pb::ATTESTATION_STATUS_REVOKED);
}

TEST(Epoch, NonceChangesEachEpochAndIsDeterministic) {
  ChainHarness a, b;
  a.EmptyBlocksUntil(20);
  b.EmptyBlocksUntil(20);
  EXPECT_NE(a.Epoch(1).nonce(), a.Epoch(0).nonce());
  EXPECT_NE(a.Epoch(2).nonce(), a.Epoch(1).nonce());
  EXPECT_EQ(a.Epoch(2).nonce(), b.Epoch(2).nonce());
  EXPECT_EQ(a.app->app_hash(), b.app->app_hash());
}

}  // namespace
}  // namespace cmln::chain::testing
