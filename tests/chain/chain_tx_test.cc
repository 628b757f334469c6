// Transactions, the ante handler and MsgSend: C9 refusals in CheckTx and at delivery.
#include <gtest/gtest.h>

#include "chain/chain_harness.h"

namespace cmln::chain::testing {
namespace {

TEST(ChainTx, SendMovesFundsAndBumpsSequence) {
  ChainHarness h;
  auto r = h.Deliver(h.alice, ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 1234));
  EXPECT_TX_OK(r);
  EXPECT_EQ(h.Balance(h.alice), 10'000'000u - 1234);
  EXPECT_EQ(h.Balance(h.carol), 5'000'000u + 1234);
  EXPECT_EQ(h.Sequence(h.alice), 1u);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].type, event::kTransfer);
}

TEST(ChainTx, SendToFreshAddressCreatesAccount) {
  ChainHarness h;
  auto dave = KeyFor("dave");
  EXPECT_TX_OK(h.Deliver(h.alice, ChainHarness::Send(AddrOf(h.alice), AddrOf(dave), 500)));
  EXPECT_EQ(h.Balance(dave), 500u);
  // dave can now spend: his first tx records his public key.
  EXPECT_TX_OK(h.Deliver(dave, ChainHarness::Send(AddrOf(dave), AddrOf(h.alice), 100)));
  EXPECT_EQ(h.Balance(dave), 400u);
}

TEST(ChainTx, InsufficientFundsChangesNothingButSequence) {
  ChainHarness h;
  auto before = h.SnapshotExcept(h.carol);
  auto r = h.Deliver(h.carol, ChainHarness::Send(AddrOf(h.carol), AddrOf(h.alice), 5'000'001));
  EXPECT_TX_CODE(r, ErrorCode::kInsufficientFunds);
  EXPECT_EQ(h.SnapshotExcept(h.carol), before);
  EXPECT_EQ(h.Balance(h.carol), 5'000'000u);
  EXPECT_EQ(h.Sequence(h.carol), 1u);  // the sequence is consumed, as in Cosmos
}

TEST(ChainTx, C9_ReplayedSequenceRefusedInCheckTxAndDelivery) {
  ChainHarness h;
  Bytes tx = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 10)});
  EXPECT_TX_OK(h.app->CheckTx(tx));
  EXPECT_TX_OK(h.Block({tx})[0]);
  EXPECT_TX_CODE(h.app->CheckTx(tx), ErrorCode::kReplay);
  auto before = h.app->committed_state();
  EXPECT_TX_CODE(h.Block({tx})[0], ErrorCode::kReplay);
  EXPECT_EQ(h.app->committed_state(), before);
  EXPECT_EQ(h.Balance(h.carol), 5'000'010u);  // paid once
}

TEST(ChainTx, C9_SameSequenceTwiceInOneBlockSettlesOnce) {
  ChainHarness h;
  Bytes tx1 = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 10)});
  Bytes tx2 = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 20)});  // same sequence 0
  auto rs = h.Block({tx1, tx2});
  EXPECT_TX_OK(rs[0]);
  EXPECT_TX_CODE(rs[1], ErrorCode::kReplay);
  EXPECT_EQ(h.Balance(h.carol), 5'000'010u);
}

TEST(ChainTx, C9_WrongChainIdIsBadSignature) {
  ChainHarness h;
  Bytes tx = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 10)}, 0, std::nullopt, "other-chain");
  EXPECT_TX_CODE(h.app->CheckTx(tx), ErrorCode::kBadSignature);
  auto before = h.app->committed_state();
  EXPECT_TX_CODE(h.Block({tx})[0], ErrorCode::kBadSignature);
  EXPECT_EQ(h.app->committed_state(), before);
}

TEST(ChainTx, C9_TamperedBodyIsBadSignature) {
  ChainHarness h;
  Bytes tx = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 10)});
  pb::TxRaw raw;
  ASSERT_TRUE(raw.ParseFromArray(tx.data(), static_cast<int>(tx.size())));
  pb::TxBody body;
  ASSERT_TRUE(body.ParseFromString(raw.body_bytes()));
  body.mutable_messages(0)->mutable_send()->set_amount(1'000'000);
  raw.set_body_bytes(body.SerializeAsString());
  std::string out = raw.SerializeAsString();
  EXPECT_TX_CODE(h.app->CheckTx(AsBytes(out)), ErrorCode::kBadSignature);
  // Every flipped signature bit fails too.
  for (size_t bit = 0; bit < 512; bit += 37) {
    pb::TxRaw r2;
    r2.ParseFromArray(tx.data(), static_cast<int>(tx.size()));
    std::string sig = r2.signature();
    sig[bit / 8] = static_cast<char>(sig[bit / 8] ^ (1 << (bit % 8)));
    r2.set_signature(sig);
    EXPECT_TX_CODE(h.app->CheckTx(AsBytes(r2.SerializeAsString())), ErrorCode::kBadSignature) << "bit " << bit;
  }
}

TEST(ChainTx, C9_MalformedProtobufRefused) {
  ChainHarness h;
  const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
  EXPECT_TX_CODE(h.app->CheckTx(ByteView(junk, sizeof(junk))), ErrorCode::kMalformed);
  EXPECT_TX_CODE(h.app->CheckTx(ByteView()), ErrorCode::kMalformed);  // no public key, no messages
  Bytes big(2 << 20, 0);
  EXPECT_TX_CODE(h.app->CheckTx(big), ErrorCode::kLengthTooLarge);
}

// A validly signed tx carrying a field this build does not know (in TxRaw, in TxBody or inside a message)
// is refused: protobuf would keep the bytes, so the same meaning would have several signed encodings.
TEST(ChainTx, C9_UnknownProtobufFieldsRefusedEvenWhenSigned) {
  ChainHarness h;
  const std::string unknown = std::string("\xF8\x07\x01", 3);  // field 127, varint 1
  auto sign_body = [&](const std::string& body_bytes) {
    auto sig = h.alice.SignMessage(SignDocBytes(kChainId, h.Sequence(h.alice), body_bytes));
    EXPECT_TRUE(sig.ok());
    pb::TxRaw raw;
    raw.set_body_bytes(body_bytes);
    raw.set_signature(sig->data(), sig->size());
    return raw.SerializeAsString();
  };
  pb::TxBody body;
  *body.add_messages() = ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 10);
  body.set_sequence(h.Sequence(h.alice));
  body.set_signer_public_key(h.alice.public_key().data(), h.alice.public_key().size());
  const std::string clean = sign_body(body.SerializeAsString());
  EXPECT_TX_CODE(h.app->CheckTx(AsBytes(clean)), ErrorCode::kOk);

  pb::MsgSend send_with_unknown;
  ASSERT_TRUE(send_with_unknown.ParseFromString(body.messages(0).send().SerializeAsString() + unknown));
  pb::TxBody inner = body;
  *inner.mutable_messages(0)->mutable_send() = send_with_unknown;
  const std::vector<std::string> variants = {
      clean + unknown,                                // TxRaw
      sign_body(body.SerializeAsString() + unknown),  // TxBody
      sign_body(inner.SerializeAsString()),           // inside MsgSend
  };
  const StateMap before = h.app->committed_state();
  for (size_t i = 0; i < variants.size(); ++i) {
    EXPECT_TX_CODE(h.app->CheckTx(AsBytes(variants[i])), ErrorCode::kMalformed) << "variant " << i;
    auto results = h.Block({ToBytes(variants[i])});
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].code, ErrorCode::kMalformed) << "variant " << i << ": " << results[0].log;
  }
  // Nothing moved and no sequence was consumed (a malformed tx never reaches the ante step).
  EXPECT_TRUE(h.app->committed_state() == before) << "state changed by refused txs";
}

TEST(ChainTx, C9_SequenceAheadIsSequenceMismatch) {
  ChainHarness h;
  Bytes tx = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 10)}, 0, 5);
  EXPECT_TX_CODE(h.app->CheckTx(tx), ErrorCode::kSequenceMismatch);
}

TEST(ChainTx, C9_MessageSignerMustBeTxSigner) {
  ChainHarness h;
  // carol signs a send that spends alice's funds.
  Bytes tx = h.SignTx(h.carol, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 10)});
  EXPECT_TX_CODE(h.app->CheckTx(tx), ErrorCode::kUnauthorized);
  auto before = h.app->committed_state();
  EXPECT_TX_CODE(h.Block({tx})[0], ErrorCode::kUnauthorized);
  EXPECT_EQ(h.app->committed_state(), before);
}

TEST(ChainTx, MempoolAdmitsConsecutiveSequences) {
  ChainHarness h;
  Bytes t0 = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 1)}, 0, 0);
  Bytes t1 = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 2)}, 0, 1);
  Bytes t2 = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 3)}, 0, 3);
  EXPECT_TX_OK(h.app->CheckTx(t0));
  EXPECT_TX_OK(h.app->CheckTx(t1));
  EXPECT_TX_CODE(h.app->CheckTx(t2), ErrorCode::kSequenceMismatch);
  auto rs = h.Block({t0, t1});
  EXPECT_TX_OK(rs[0]);
  EXPECT_TX_OK(rs[1]);
  EXPECT_EQ(h.Balance(h.carol), 5'000'003u);
}

TEST(ChainTx, FeeBelowMinimumRefusedAndFeePaidToProposer) {
  HarnessOptions o;
  o.min_fee = 50;
  ChainHarness h(o);
  Bytes cheap = h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 1)}, 49);
  EXPECT_TX_CODE(h.app->CheckTx(cheap), ErrorCode::kInsufficientFee);
  auto r = h.Deliver(h.alice, ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 1), 50);
  EXPECT_TX_OK(r);
  EXPECT_EQ(h.Balance(h.validator), 50u);
  EXPECT_EQ(h.Balance(h.alice), 10'000'000u - 51);
  // A fee the signer cannot pay is refused before inclusion.
  auto poor = KeyFor("poor");
  EXPECT_TX_OK(h.Deliver(h.alice, ChainHarness::Send(AddrOf(h.alice), AddrOf(poor), 10), 50));
  EXPECT_TX_CODE(h.app->CheckTx(h.SignTx(poor, {ChainHarness::Send(AddrOf(poor), AddrOf(h.alice), 1)}, 50)),
                 ErrorCode::kInsufficientFunds);
}

TEST(ChainTx, UnknownSignerRefused) {
  ChainHarness h;
  auto ghost = KeyFor("ghost");
  EXPECT_TX_CODE(h.app->CheckTx(h.SignTx(ghost, {ChainHarness::Send(AddrOf(ghost), AddrOf(h.alice), 1)})),
                 ErrorCode::kNotFound);
}

TEST(ChainTx, GovernanceOnlyByAuthority) {
  ChainHarness h;
  pb::Msg m = h.RegisterRelease("rel-x");
  m.mutable_register_release()->set_authority(AddrOf(h.carol));
  auto before = h.SnapshotExcept(h.carol);
  EXPECT_TX_CODE(h.Deliver(h.carol, m), ErrorCode::kUnauthorized);
  EXPECT_EQ(h.SnapshotExcept(h.carol), before);
  EXPECT_TX_OK(h.Deliver(h.authority, h.RegisterRelease("rel-x")));
  EXPECT_TX_CODE(h.Deliver(h.authority, h.RegisterRelease("rel-x")), ErrorCode::kAlreadyExists);
  EXPECT_TX_OK(h.Deliver(h.authority, h.RetireRelease("rel-x")));
  EXPECT_TX_CODE(h.Deliver(h.authority, h.RetireRelease("rel-x")), ErrorCode::kNotActive);
  EXPECT_TX_CODE(h.Deliver(h.authority, h.RetireRelease("nope")), ErrorCode::kNotFound);
}

TEST(ChainTx, UpdateParamsValidatesMultiplierRange) {
  ChainHarness h;
  pb::Msg m;
  auto* u = m.mutable_update_params();
  u->set_authority(AddrOf(h.authority));
  *u->mutable_params() = DefaultParams();
  u->mutable_params()->set_authority(AddrOf(h.authority));
  u->mutable_params()->set_tee_reward_multiplier_bps(12501);
  EXPECT_TX_CODE(h.Deliver(h.authority, m), ErrorCode::kInvalidArgument);
  u->mutable_params()->set_tee_reward_multiplier_bps(9999);
  EXPECT_TX_CODE(h.Deliver(h.authority, m), ErrorCode::kInvalidArgument);
  u->mutable_params()->set_tee_reward_multiplier_bps(12500);
  EXPECT_TX_OK(h.Deliver(h.authority, m));
}

TEST(ChainStore, FinalizedButUncommittedBlockIsNotPersisted) {
  std::string path = ::testing::TempDir() + "/chain_store_uncommitted.db";
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  Bytes committed_hash;
  {
    HarnessOptions o;
    o.db_path = path;
    ChainHarness h(o);
    EXPECT_TX_OK(h.Deliver(h.alice, ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 7)));
    committed_hash = h.app->app_hash();
    BlockHeader hdr{h.app->height() + 1, kGenesisTime + 100, AddrOf(h.validator)};
    ASSERT_TRUE(h.app->FinalizeBlock(hdr, {h.SignTx(h.alice, {ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 9)})}).ok());
    // no Commit: the process "dies" here
  }
  HarnessOptions o;
  o.db_path = path;
  ChainHarness h(o);
  EXPECT_EQ(h.app->height(), 1u);
  EXPECT_EQ(h.app->app_hash(), committed_hash);
  EXPECT_EQ(h.Balance(h.carol), 5'000'007u);
  EXPECT_TX_OK(h.Deliver(h.alice, ChainHarness::Send(AddrOf(h.alice), AddrOf(h.carol), 9)));
  EXPECT_EQ(h.Balance(h.carol), 5'000'016u);
}

}  // namespace
}  // namespace cmln::chain::testing
