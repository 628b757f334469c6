// D1: kill -9 of a real `cmln chain start` process at random points under load. After each restart the
// chain resumes at (at least) the last height observed committed, with the same app hash at that
// height, every transfer seen committed is still there exactly once, and balances match the committed
// transfers (no lost, no duplicated transfer).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "chain/node.h"
#include "chain/rest_client.h"
#include "chain/tx.h"
#include "testing/test_util.h"

namespace cmln::chain {
namespace {

namespace fs = std::filesystem;

struct Proc {
  pid_t pid = -1;
  std::string url;
};

Proc StartChain(const std::string& home, const std::string& log) {
  Proc p;
  p.pid = fork();
  if (p.pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::string bin = std::string(CMLN_BINARY_DIR) + "/cmln";
    execl(bin.c_str(), bin.c_str(), "chain", "start", "--home", home.c_str(), "--listen", "127.0.0.1:0",
          "--block-interval-ms", "40", static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 500 && p.url.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("listening") && j["listening"].is_string()) {
        p.url = "http://" + j["listening"].get<std::string>();
      }
    }
  }
  return p;
}

void Kill9(Proc& p) {
  kill(p.pid, SIGKILL);
  int st = 0;
  waitpid(p.pid, &st, 0);
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
    Proc p = StartChain(home, home + "/log" + std::to_string(round) + ".txt");
    ASSERT_FALSE(p.url.empty()) << "chain did not start in round " << round;
    RestClient c(p.url);
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
    Kill9(p);

    // Restart: resumes at >= the last observed committed height, with the same app hash there.
    Proc q = StartChain(home, home + "/log" + std::to_string(round) + "b.txt");
    ASSERT_FALSE(q.url.empty());
    RestClient c2(q.url);
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
    Kill9(q);
  }
  EXPECT_GT(seen_committed.size(), 10u);
}

}  // namespace
}  // namespace cmln::chain
