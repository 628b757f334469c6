// Property: random sequences of valid and invalid transactions keep every invariant after every block
// (total supply changes only by the minted subsidy), and replaying the same blocks into a fresh,
// independent store gives the same app hash at every height (determinism).
#include <gtest/gtest.h>

#include <random>

#include "chain/chain_harness.h"

namespace cmln::chain::testing {
namespace {

TEST(ChainProperty, RandomTxsConserveSupplyAndReplayDeterministically) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);  // test-side randomness only; the state machine sees fixed blocks
    ChainHarness h;
    auto k1 = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x11));
    auto forged = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x99));
    ASSERT_TRUE(h.Deliver(h.authority, h.RegisterRelease("rel-1")).ok());
    ASSERT_TRUE(h.Deliver(h.host, ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", h.Bundle(h.host, "node-1", k1))).ok());
    std::vector<const seal::AccountPrivateKey*> users = {&h.alice, &h.carol, &h.host, &h.host2};
    uint64_t next_batch = 1;
    int ok_txs = 0, failed_txs = 0;
    for (int block = 0; block < 60; ++block) {
      std::vector<Bytes> txs;
      std::map<const seal::AccountPrivateKey*, uint64_t> seq;
      for (auto* u : users) seq[u] = h.Sequence(*u);
      if (h.app->height() % 10 == 0) {  // nodes re-attest every epoch (TTL is 2 epochs)
        txs.push_back(h.SignTx(h.host, {ChainHarness::SubmitAttestation(AddrOf(h.host), "node-1", h.Bundle(h.host, "node-1", k1))}, 0, seq[&h.host]++));
      }
      int n = static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) {
        const seal::AccountPrivateKey* u = users[rng() % users.size()];
        const seal::AccountPrivateKey* v = users[rng() % users.size()];
        pb::Msg m;
        switch (rng() % 6) {
          case 0: m = ChainHarness::Send(AddrOf(*u), AddrOf(*v), rng() % 3'000'000); break;  // may overdraw
          case 1: m = ChainHarness::CreateEscrow(AddrOf(*u), 50 + rng() % 20'000, rng() % 4 ? kModel : kOtherModel); break;
          case 2:
          case 3: {
            uint64_t escrows = h.Meta().next_escrow_id();
            uint64_t existing = escrows > 1 ? escrows - 1 : 1;
            uint64_t id = rng() % 2 ? existing : 1 + rng() % escrows;  // mostly the newest (likely open) escrow
            uint64_t s = rng() % 5 == 0 ? next_batch + 1 : next_batch;  // sometimes a gap
            const seal::AccountPrivateKey* requester = v;
            for (auto* w : users) {
              if (AddrOf(*w) == h.Escrow(id).creator() && rng() % 5 != 0) requester = w;  // mostly the owner
            }
            Bytes batch = ChainHarness::BatchBytes("node-1", s, {ChainHarness::Entry(id, *requester, 5, 5, rng() % 5'000)});
            m = ChainHarness::SignedSettle(AddrOf(*u), rng() % 6 == 0 ? forged : k1, batch);
            break;
          }
          case 4: m = ChainHarness::Send(AddrOf(*v), AddrOf(*u), 1); break;  // signer mismatch when u != v
          default:  // mostly unauthorized; the owner revokes only late in the run
            m = ChainHarness::Revoke(AddrOf(block > 50 ? *u : h.carol), "node-1", "random");
            if (block <= 50) u = &h.carol;
            break;
        }
        bool replay = rng() % 8 == 0;
        uint64_t s = replay && seq[u] > 0 ? seq[u] - 1 : seq[u];
        txs.push_back(h.SignTx(*u, {m}, 0, s));
        if (!replay) ++seq[u];
      }
      auto results = h.Block(txs);  // invariants are checked inside, after every block
      for (auto& r : results) {
        (r.ok() ? ok_txs : failed_txs)++;
        if (getenv("CHAIN_PROPERTY_DEBUG")) fprintf(stderr, "seed %lu h %lu %s %s\n", (unsigned long)seed, (unsigned long)h.app->height(), std::string(ErrorCodeName(r.code)).c_str(), r.log.c_str());
        for (auto& e : r.events) {
          if (e.type == event::kUsageSettled) next_batch = std::stoull(e.attributes[1].second) + 1;
        }
      }
      if (::testing::Test::HasFailure()) return;
    }
    pb::Supply s = h.Supply();
    EXPECT_GT(s.minted(), 0u);
    EXPECT_GT(s.total_settled(), 0u) << "seed " << seed;
    EXPECT_GT(ok_txs, 20) << "seed " << seed;
    EXPECT_GT(failed_txs, 10) << "seed " << seed;

    // Replay into a fresh, file-backed store.
    std::string path = ::testing::TempDir() + "/chain_property_replay_" + std::to_string(seed) + ".db";
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    HarnessOptions o;
    o.db_path = path;
    ChainHarness replay(o);
    for (size_t i = 0; i < h.blocks.size(); ++i) {
      replay.Block(h.blocks[i]);
      ASSERT_EQ(replay.app_hashes[i], h.app_hashes[i]) << "seed " << seed << " height " << i + 1;
    }
    EXPECT_EQ(replay.app->committed_state(), h.app->committed_state());
  }
}

}  // namespace
}  // namespace cmln::chain::testing
