// The node across restarts, epoch changes, chain outages and kill -9 (THREATS B4, D2, D5), against
// real `cmln chain start` and `cmln node start` processes (harness: node_harness.h).
#include <gtest/gtest.h>

#include "node/node_harness.h"

namespace cmln::node::testing {
namespace {

constexpr const char* kNodeId = "node-r";

std::string TestDir() {
  return ::testing::TempDir() + "/node_restart_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

// The journal's records (batch-<seq>.bin); not a record's temp file caught between write and rename.
std::vector<std::string> JournalFiles(const Devnet& d) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(d.dir() + "/" + kNodeId + "-data/batches", ec)) {
    if (e.is_regular_file() && e.path().extension() == ".bin") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool WaitFor(const std::function<bool()>& cond, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

// One encrypted completion; requests within a second must differ in `text` (else the node refuses the
// second as a replay).
ChatResult Ask(const NodeProcess& node, const seal::ohttp::KeyConfig& config, const seal::AccountPrivateKey& user,
               const std::string& chain_id, uint64_t escrow, const std::string& text = "hello world") {
  const std::string content = ChatRequestJson(text, false);
  return PostOhttp(node.url(), config, InnerRequest(content, AuthorizationHeader(user, chain_id, kNodeId, escrow, content)));
}

// The node's attested receipt-signing key, as the chain lists it now.
Bytes SignPk(const Devnet& devnet) {
  return *HexDecode(devnet.Get(std::string("/attestations?node=") + kNodeId)["sign_public_key"].get<std::string>());
}

// B4: after a restart the node has new keys under a new key id; a request sealed to the previous boot's
// key gets the machine-readable stale_key error before any decryption, and the new key works.
TEST(NodeRestart, B4_RequestSealedToOldKeyAfterRestartGetsStaleKey) {
  Devnet devnet(TestDir());
  ASSERT_FALSE(devnet.url().empty());
  const std::string chain_id = devnet.ChainId();
  NodeProcess node(devnet.dir(), kNodeId, devnet.NodeConfig(kNodeId));
  ASSERT_FALSE(node.url().empty());
  const auto old_config = FetchKeyConfig(node.url());
  const auto old_pk = devnet.Get(std::string("/attestations?node=") + kNodeId)["sign_public_key"];
  const auto user = seal::AccountPrivateKey::Generate();
  const uint64_t escrow = devnet.NewUserWithEscrow(user, 100000, "user");
  ASSERT_EQ(Ask(node, old_config, user, chain_id, escrow).status, 200);

  EXPECT_EQ(node.child().Terminate(), 0);
  node.Start();
  ASSERT_FALSE(node.url().empty());
  const auto new_config = FetchKeyConfig(node.url());
  EXPECT_NE(new_config.key_id, old_config.key_id);
  EXPECT_NE(new_config.public_key, old_config.public_key);
  EXPECT_NE(devnet.Get(std::string("/attestations?node=") + kNodeId)["sign_public_key"], old_pk);

  ChatResult stale = Ask(node, old_config, user, chain_id, escrow);
  EXPECT_EQ(stale.outer_status, 400);
  auto problem = json::parse(stale.outer_body, nullptr, false);
  ASSERT_TRUE(problem.is_object()) << stale.outer_body;
  EXPECT_EQ(problem["code"], "stale_key");
  EXPECT_EQ(problem["type"], "https://iana.org/assignments/http-problem-types#ohttp-key");
  // The client re-reads the key config and retries once: served.
  ChatResult retried = Ask(node, new_config, user, chain_id, escrow);
  EXPECT_EQ(retried.status, 200) << retried.content;
}

// B4 at an epoch change: the node re-attests with new keys; the previous epoch's key is stale.
TEST(NodeRestart, B4_EpochChangeRotatesKeysAndOldKeyIsStale) {
  Devnet::Options o;
  o.epoch_length = 60;  // 6 s at 100 ms blocks
  Devnet devnet(TestDir(), o);
  ASSERT_FALSE(devnet.url().empty());
  NodeProcess node(devnet.dir(), kNodeId, devnet.NodeConfig(kNodeId));
  ASSERT_FALSE(node.url().empty());
  const auto first = FetchKeyConfig(node.url());
  httplib::Client c(node.url());
  const uint64_t epoch0 = json::parse(c.Get("/health")->body)["epoch"].get<uint64_t>();
  ASSERT_TRUE(WaitFor([&] { return json::parse(c.Get("/health")->body)["epoch"].get<uint64_t>() > epoch0; }, 30))
      << node.Log();
  const auto second = FetchKeyConfig(node.url());
  EXPECT_EQ(second.key_id, static_cast<uint8_t>(first.key_id + 1));
  auto rec = devnet.Get(std::string("/attestations?node=") + kNodeId);
  EXPECT_EQ(rec["status"], "ATTESTATION_STATUS_VERIFIED");
  EXPECT_GT(U64(rec, "attested_epoch"), epoch0);
  const std::string content = ChatRequestJson("hello", false);
  ChatResult stale = PostOhttp(node.url(), first, InnerRequest(content, ""));
  EXPECT_EQ(stale.outer_status, 400);
  EXPECT_EQ(json::parse(stale.outer_body)["code"], "stale_key");
}

// D2 (and D5): usage journaled while the chain is unreachable; the node still serves within the quota it
// knows; kill -9 before settlement; after the restart every journaled batch settles exactly once.
TEST(NodeRestart, D2_KillNineAfterJournalBeforeSettlementSettlesExactlyOnce) {
  Devnet devnet(TestDir());
  ASSERT_FALSE(devnet.url().empty());
  const std::string chain_id = devnet.ChainId();
  json cfg = devnet.NodeConfig(kNodeId);
  cfg["batch_interval_ms"] = 1500;
  NodeProcess node(devnet.dir(), kNodeId, cfg);
  ASSERT_FALSE(node.url().empty());
  const auto config = FetchKeyConfig(node.url());
  const Bytes sign_pk = SignPk(devnet);
  const auto user = seal::AccountPrivateKey::Generate();
  const uint64_t escrow = devnet.NewUserWithEscrow(user, 100000, "user");
  const std::string host = devnet.Address("host");
  const uint64_t earnings_before = U64(devnet.Get("/earnings/" + host), "pending");

  ChatResult first = Ask(node, config, user, chain_id, escrow);
  ASSERT_EQ(first.status, 200) << first.content;
  devnet.chain().Signal(SIGSTOP);  // the chain is unreachable from here on
  const uint64_t cost1 = CheckReceipt(*first.receipt, sign_pk).cost;
  ASSERT_TRUE(WaitFor([&] { return JournalFiles(devnet).size() == 1; }, 20)) << node.Log();

  // D5: served from the escrow state the node last read, while the chain does not answer.
  ChatResult second = Ask(node, config, user, chain_id, escrow);
  ASSERT_EQ(second.status, 200) << second.content;
  const uint64_t cost2 = CheckReceipt(*second.receipt, sign_pk).cost;
  ASSERT_TRUE(WaitFor([&] { return JournalFiles(devnet).size() == 2; }, 60)) << node.Log();

  node.child().Kill9();
  const auto journaled = JournalFiles(devnet);
  ASSERT_EQ(journaled.size(), 2u);
  EXPECT_EQ(journaled[0], "batch-00000000000000000001.bin");
  EXPECT_EQ(journaled[1], "batch-00000000000000000002.bin");
  devnet.chain().Signal(SIGCONT);
  EXPECT_EQ(U64(devnet.Get("/escrows/" + std::to_string(escrow)), "settled"), 0u);

  node.Start();
  ASSERT_FALSE(node.url().empty());
  ASSERT_TRUE(WaitFor([&] { return JournalFiles(devnet).empty(); }, 60)) << node.Log();
  auto esc = devnet.Get("/escrows/" + std::to_string(escrow));
  EXPECT_EQ(U64(esc, "settled"), cost1 + cost2);
  EXPECT_EQ(U64(esc, "remaining"), 100000 - cost1 - cost2);
  EXPECT_EQ(U64(devnet.Get("/earnings/" + host), "pending") - earnings_before, cost1 + cost2);
  EXPECT_EQ(U64(devnet.Get(std::string("/attestations?node=") + kNodeId), "last_batch_seq"), 2u);

  // Numbering continues after the recovered batches; nothing is settled twice.
  const auto config2 = FetchKeyConfig(node.url());
  ChatResult third = Ask(node, config2, user, chain_id, escrow);
  ASSERT_EQ(third.status, 200) << third.content;
  const Bytes sign_pk2 =
      SignPk(devnet);
  const uint64_t cost3 = CheckReceipt(*third.receipt, sign_pk2).cost;
  ASSERT_TRUE(WaitFor([&] {
    return U64(devnet.Get(std::string("/attestations?node=") + kNodeId), "last_batch_seq") == 3;
  }, 60)) << node.Log();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  esc = devnet.Get("/escrows/" + std::to_string(escrow));
  EXPECT_EQ(U64(esc, "settled"), cost1 + cost2 + cost3);
  EXPECT_EQ(U64(devnet.Get("/earnings/" + host), "pending") - earnings_before, cost1 + cost2 + cost3);
  EXPECT_EQ(U64(devnet.Get(std::string("/attestations?node=") + kNodeId), "last_batch_seq"), 3u);
}

// D2 before any batch: usage billed by receipts and not yet sealed (a batch interval far away) survives
// kill -9 in the node's usage log; after the restart it is sealed and settled exactly once.
TEST(NodeRestart, D2_KillNineBeforeTheBatchIsSealedLosesNoUsage) {
  Devnet devnet(TestDir());
  ASSERT_FALSE(devnet.url().empty());
  const std::string chain_id = devnet.ChainId();
  json cfg = devnet.NodeConfig(kNodeId);
  cfg["batch_interval_ms"] = 3600000;  // never within this test: only the restart seals
  NodeProcess node(devnet.dir(), kNodeId, cfg);
  ASSERT_FALSE(node.url().empty());
  const auto config = FetchKeyConfig(node.url());
  const Bytes sign_pk = SignPk(devnet);
  const auto user = seal::AccountPrivateKey::Generate();
  const uint64_t escrow = devnet.NewUserWithEscrow(user, 100000, "user");
  const std::string host = devnet.Address("host");
  const uint64_t earnings_before = U64(devnet.Get("/earnings/" + host), "pending");

  uint64_t billed = 0;
  for (int i = 0; i < 3; ++i) {
    ChatResult r = Ask(node, config, user, chain_id, escrow, "request " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.content;
    billed += CheckReceipt(*r.receipt, sign_pk).cost;
  }
  EXPECT_TRUE(JournalFiles(devnet).empty());  // nothing sealed yet
  node.child().Kill9();
  EXPECT_EQ(U64(devnet.Get("/escrows/" + std::to_string(escrow)), "settled"), 0u);

  node.Start();  // replays the usage log; it is sealed at the next interval or, here, at the clean stop
  ASSERT_FALSE(node.url().empty());
  ASSERT_EQ(node.child().Terminate(), 0);  // a clean stop seals and submits what is pending
  ASSERT_TRUE(WaitFor([&] {
    return U64(devnet.Get("/escrows/" + std::to_string(escrow)), "settled") == billed;
  }, 60)) << node.Log();
  EXPECT_EQ(U64(devnet.Get("/earnings/" + host), "pending") - earnings_before, billed);
  EXPECT_EQ(U64(devnet.Get(std::string("/attestations?node=") + kNodeId), "last_batch_seq"), 1u);
  EXPECT_TRUE(JournalFiles(devnet).empty());
  std::vector<std::string> usage_files;
  for (const auto& e : fs::directory_iterator(devnet.dir() + "/" + kNodeId + "-data/usage")) {
    usage_files.push_back(e.path().filename().string());
  }
  EXPECT_TRUE(usage_files.empty()) << usage_files.size() << " usage segment files left";

  // Started again: nothing is replayed or billed a second time.
  node.Start();
  ASSERT_FALSE(node.url().empty());
  ASSERT_EQ(node.child().Terminate(), 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(U64(devnet.Get("/escrows/" + std::to_string(escrow)), "settled"), billed);
  EXPECT_EQ(U64(devnet.Get(std::string("/attestations?node=") + kNodeId), "last_batch_seq"), 1u);
}

// A batch the chain refuses for good (its escrow closed and the grace window passed) must not block the
// batches after it: it moves to rejected/, the next batch is re-signed under the seq the chain expects and
// settles. Escrow E1's usage is left in the usage log by a kill -9 until E1 is refunded; E2's usage comes
// after the restart; the clean stop seals both (batch 1 = E1, batch 2 = E2) and submits.
TEST(NodeRestart, RefusedBatchDoesNotBlockTheNextOne) {
  Devnet::Options o;
  o.epoch_length = 40;  // 4 s at 100 ms blocks; settlement grace 10 blocks
  Devnet devnet(TestDir(), o);
  ASSERT_FALSE(devnet.url().empty());
  const std::string chain_id = devnet.ChainId();
  json cfg = devnet.NodeConfig(kNodeId);
  cfg["batch_interval_ms"] = 3600000;  // only the clean stop seals
  NodeProcess node(devnet.dir(), kNodeId, cfg);
  ASSERT_FALSE(node.url().empty());
  const auto user = seal::AccountPrivateKey::Generate();
  const std::string user_addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(user.public_key()));
  const uint64_t e1 = devnet.NewUserWithEscrow(user, 100000, "user");
  ChatResult first = Ask(node, FetchKeyConfig(node.url()), user, chain_id, e1, "for escrow one");
  ASSERT_EQ(first.status, 200) << first.content;
  node.child().Kill9();  // E1's usage stays in the usage log

  ASSERT_TRUE(WaitFor([&] { return devnet.Get("/escrows/" + std::to_string(e1))["status"] == "ESCROW_STATUS_REFUNDED"; },
                      60));
  const uint64_t e2 = devnet.CreateEscrow(devnet.dir() + "/user.json", user_addr, 100000);
  node.Start();
  ASSERT_FALSE(node.url().empty());
  ChatResult second = Ask(node, FetchKeyConfig(node.url()), user, chain_id, e2, "for escrow two");
  ASSERT_EQ(second.status, 200) << second.content;
  const Bytes sign_pk = SignPk(devnet);
  const uint64_t cost2 = CheckReceipt(*second.receipt, sign_pk).cost;
  ASSERT_EQ(node.child().Terminate(), 0);

  ASSERT_TRUE(WaitFor([&] { return U64(devnet.Get("/escrows/" + std::to_string(e2)), "settled") == cost2; }, 60))
      << node.Log();
  EXPECT_EQ(U64(devnet.Get("/escrows/" + std::to_string(e1)), "settled"), 0u);
  EXPECT_EQ(U64(devnet.Get(std::string("/attestations?node=") + kNodeId), "last_batch_seq"), 1u);
  EXPECT_TRUE(JournalFiles(devnet).empty());
  std::vector<std::string> rejected;
  for (const auto& e : fs::directory_iterator(devnet.dir() + "/" + kNodeId + "-data/batches/rejected")) {
    rejected.push_back(e.path().filename().string());
  }
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0], "batch-00000000000000000001.bin");
  EXPECT_NE(node.Log().find("\"batch_renumbered\""), std::string::npos) << node.Log();
}

}  // namespace
}  // namespace cmln::node::testing
