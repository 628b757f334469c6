// D1: kill -9 of a real `cmln chain start` process at random points under load. After each restart the
// chain resumes at (at least) the last height observed committed, with the same app hash at that
// height, every transfer seen committed is still there exactly once, and balances match the committed
// transfers (no lost, no duplicated transfer).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "chain/node.h"
#include "chain/rest_client.h"
#include "chain/tx.h"
#include "common/child_process.h"
#include "testing/test_util.h"

namespace cmln::chain {
namespace {

namespace fs = std::filesystem;

// Starts `cmln chain start` on HOME in `p`; its "http://HOST:PORT", or "" if it did not start in 5 s.
std::string StartChain(ChildProcess& p, const std::string& home) {
  const Status started = p.Start({std::string(CMLN_BINARY_DIR) + "/cmln", "chain", "start", "--home", home, "--listen",
                                  "127.0.0.1:0", "--block-interval-ms", "40"});
  EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().ToString());
  return started.ok() ? p.WaitListening(std::chrono::seconds(5)).value_or("") : "";
}

uint64_t U(const nlohmann::json& j, const char* f) { return std::stoull(j[f].get<std::string>()); }

TEST(ChainCrash, D1_KillNineUnderLoadResumesAtLastCommittedHeight) {
  std::string home = ::testing::TempDir() + "/chain_crash_home";
  fs::remove_all(home);
  InitOptions io;
  io.epoch_length = 25;
  ASSERT_TRUE(InitHome(home, io).ok());
  auto alice = *LoadKeyFile(home + "/keys/alice.json");
  auto bob = *LoadKeyFile(home + "/keys/bob.json");
  const std::string bob_addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(bob.public_key()));
  const uint64_t bob_genesis = 1'000'000'000'000ULL;

  std::mt19937_64 rng(20240605);
  std::map<std::string, uint64_t> amount_of;  // tx hash -> amount, for every admitted transfer
  std::set<std::string> seen_committed;
  uint64_t amount_counter = 1;
  for (int round = 0; round < 6; ++round) {
    ChildProcess p("chain", home + "/log" + std::to_string(round) + ".txt");
    const std::string url = StartChain(p, home);
    ASSERT_FALSE(url.empty()) << "chain did not start in round " << round;
    RestClient c(url);
    auto status0 = c.Get("/status");
    ASSERT_TRUE(status0.ok());
    std::string chain_id = (*status0)["chain_id"];

    // After a restart every transfer seen committed is still committed, exactly once.
    for (const auto& h : seen_committed) {
      auto t = c.Get("/txs/" + h);
      ASSERT_TRUE(t.ok()) << "committed tx " << h << " lost after kill -9";
      EXPECT_EQ((*t)["code"], 0);
    }
    auto acc = c.Get("/accounts/" + seal::AccountAddressToString(seal::AccountAddressFromPublicKey(alice.public_key())));
    ASSERT_TRUE(acc.ok());
    uint64_t seq = U(*acc, "sequence");

    // Load: transfers as fast as the node admits them, until a random kill point.
    auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 600);
    uint64_t last_height = 0;
    std::string last_hash;
    while (std::chrono::steady_clock::now() < kill_at) {
      uint64_t amount = amount_counter++;
      pb::Msg m;
      auto* s = m.mutable_send();
      s->set_from_address(seal::AccountAddressToString(seal::AccountAddressFromPublicKey(alice.public_key())));
      s->set_to_address(bob_addr);
      s->set_amount(amount);
      auto tx = BuildSignedTx(alice, chain_id, seq, 0, {m});
      ASSERT_TRUE(tx.ok());
      auto r = c.BroadcastTx(*tx);
      ASSERT_TRUE(r.ok());
      if ((*r)["code"] == 0) {
        amount_of[(*r)["hash"]] = amount;
        ++seq;
      } else {
        break;
      }
      auto st = c.Get("/status");
      if (st.ok()) {
        last_height = (*st)["height"];
        last_hash = (*st)["app_hash"];
      }
    }
    for (const auto& [h, a] : amount_of) {
      auto t = c.Get("/txs/" + h);
      if (t.ok()) seen_committed.insert(h);
    }
    auto st = c.Get("/status");
    if (st.ok()) {
      last_height = (*st)["height"];
      last_hash = (*st)["app_hash"];
    }
    p.Kill();

    // Restart: resumes at >= the last observed committed height, with the same app hash there.
    ChildProcess q("chain", home + "/log" + std::to_string(round) + "b.txt");
    const std::string url2 = StartChain(q, home);
    ASSERT_FALSE(url2.empty());
    RestClient c2(url2);
    auto st2 = c2.Get("/status");
    ASSERT_TRUE(st2.ok());
    EXPECT_GE((*st2)["height"].get<uint64_t>(), last_height) << "round " << round;
    auto blk = c2.Get("/blocks/" + std::to_string(last_height));
    ASSERT_TRUE(blk.ok());
    EXPECT_EQ((*blk)["app_hash"], last_hash) << "round " << round << " height " << last_height;
    // Balances equal genesis plus exactly the committed transfers.
    uint64_t committed_sum = 0;
    size_t committed = 0;
    for (const auto& [h, a] : amount_of) {
      auto t = c2.Get("/txs/" + h);
      if (t.ok() && (*t)["code"] == 0) {
        committed_sum += a;
        ++committed;
      }
    }
    auto bob_acc = c2.Get("/accounts/" + bob_addr);
    ASSERT_TRUE(bob_acc.ok());
    // The restarted node may commit a few more empty blocks, never more transfers (mempool is gone).
    EXPECT_EQ(U(*bob_acc, "balance"), bob_genesis + committed_sum) << "round " << round;
    EXPECT_GT(committed, 0u);
    q.Kill();
  }
  EXPECT_GT(seen_committed.size(), 10u);
}

}  // namespace
}  // namespace cmln::chain
