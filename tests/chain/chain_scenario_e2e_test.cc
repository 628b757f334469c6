// The scripted scenario through the REST API with `cmln tx` / `cmln query` processes: fund a user,
// submit collateral, register a release and a simulated node, create an escrow, settle two TEE-signed
// usage batches, cross the epoch boundary and the grace window; balances, refund, host payout and
// subsidy are checked against numbers computed by hand.
//
// The node runs in this process (chain::Node, the same code `cmln chain start` runs) because bundle
// verification in `cmln chain start` waits for the attest library's bundle entry point; here the
// TestOnlyJsonBundleVerifier stands in (see test_only_verifier.h). Everything else is the real path:
// HTTP on loopback, the cmln binary signing and broadcasting, SQLite, the block producer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "chain/chain_harness.h"
#include "chain/node.h"
#include "chain/rest_client.h"
#include "testing/test_util.h"

namespace cmln::chain::testing {
namespace {

namespace fs = std::filesystem;
constexpr const char* kDevModel = "smollm2-135m-instruct";

std::string Addr(const std::string& home, const std::string& name) {
  auto j = nlohmann::json::parse(std::ifstream(home + "/keys/" + name + ".json"));
  return j["address"];
}

nlohmann::json Cmln(const std::string& args, int want_exit = 0) {
  auto r = cmln::testing::RunProcess(std::string(CMLN_BINARY_DIR) + "/cmln " + args);
  EXPECT_EQ(r.exit_code, want_exit) << args << "\n" << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

uint64_t U(const nlohmann::json& j, const char* f) { return std::stoull(j[f].get<std::string>()); }

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

TEST(ChainScenario, FundEscrowSettleTwoBatchesCrossEpochByHand) {
  const std::string home = ::testing::TempDir() + "/chain_scenario_home";
  fs::remove_all(home);
  InitOptions io;
  io.epoch_length = 60;
  io.allow_simulated_tee = true;
  io.demo_accounts = {"alice"};
  io.hosts = {"host", "host2"};
  io.model_prices = {{kDevModel, 1}};
  ASSERT_TRUE(InitHome(home, io).ok());
  TestOnlyJsonBundleVerifier verifier;
  NodeOptions no;
  no.home = home;
  no.port = 0;
  no.block_interval_ms = 100;
  auto node = Node::Open(no, &verifier);
  ASSERT_TRUE(node.ok()) << node.error().ToString();
  std::thread runner([&] { (void)(*node)->Run(); });
  while ((*node)->port() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string url = "http://127.0.0.1:" + std::to_string((*node)->port());
  const std::string n = " --node " + url;
  auto key = [&](const std::string& name) { return " --key " + home + "/keys/" + name + ".json"; };

  const std::string alice = Addr(home, "alice"), host = Addr(home, "host"), host2 = Addr(home, "host2");
  auto dave_key = KeyFor("dave");
  const std::string dave = AddrOf(dave_key);
  {
    nlohmann::json dk = {{"name", "dave"}, {"address", dave}, {"private_key_hex", HexEncode(dave_key.scalar())}};
    WriteFile(home + "/keys/dave.json", dk.dump());
  }

  // 1. Fund a fresh user.
  auto sent = Cmln("tx send" + n + key("alice") + " --to " + dave + " --amount 1000000");
  EXPECT_EQ(sent["code"], 0);
  EXPECT_EQ(U(Cmln("query account " + dave + n), "balance"), 1'000'000u);

  // 2. Collateral (anyone), a release (governance) and a simulated node (host).
  nlohmann::json coll = {{"kind", "tcb_info"}, {"id", "00906ED50000"}, {"issue_time", 0}, {"next_update", 4'000'000'000LL}};
  WriteFile(home + "/coll.json", coll.dump());
  EXPECT_EQ(Cmln("tx submit-collateral" + n + key("alice") + " --platform sim-tdx --file " + home + "/coll.json")["code"], 0);
  const Bytes mrtd(48, 0xA1), digest(32, 0x5D);
  nlohmann::json release = {{"release_id", "rel-1"},
                            {"platform", "sim-tdx"},
                            {"measurements", {{{"name", "MRTD"}, {"value", Base64Encode(mrtd)}}}},
                            {"model_id", kDevModel},
                            {"model_digest", Base64Encode(digest)},
                            {"engine", "builtin"},
                            {"min_tcb", "UpToDate"}};
  WriteFile(home + "/release.json", release.dump());
  EXPECT_EQ(Cmln("tx register-release" + n + key("authority") + " --release " + home + "/release.json")["code"], 0);
  // A non-authority is refused with a stable code (exit 1).
  EXPECT_EQ(Cmln("tx register-release" + n + key("alice") + " --release " + home + "/release.json", 1)["codespace"],
            "unauthorized");

  auto status = Cmln("query status" + n);
  auto tee_key = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x77));
  nlohmann::json bundle = {{"platform", "sim-tdx"},
                           {"simulated", true},
                           {"debug", false},
                           {"tcb_status", "UpToDate"},
                           {"measurements", {{"MRTD", HexEncode(mrtd)}}},
                           {"binding",
                            {{"chain_id", status["chain_id"]}, {"epoch", status["epoch"]}, {"epoch_nonce", status["epoch_nonce"]},
                             {"participant", host}, {"node_id", "node-1"}}},
                           {"sign_pk", HexEncode(tee_key.public_key())},
                           {"ohttp_key_config", "0001"},
                           {"model_id", kDevModel},
                           {"model_digest", HexEncode(digest)},
                           {"release_id", "rel-1"}};
  WriteFile(home + "/bundle.json", bundle.dump());
  auto att = Cmln("tx submit-attestation" + n + key("host") + " --node-id node-1 --model " + kDevModel +
                  " --endpoint https://127.0.0.1:9443 --bundle " + home + "/bundle.json");
  ASSERT_EQ(att["code"], 0) << att.dump();
  auto by_model = Cmln(std::string("query attestations --model ") + kDevModel + n);
  ASSERT_EQ(by_model.size(), 1u);
  EXPECT_EQ(by_model[0]["status"], "ATTESTATION_STATUS_VERIFIED");
  EXPECT_EQ(Cmln("query attestations --node-id node-1" + n)["participant"], host);

  // 3. An escrow of 100,000 ngonka by dave.
  EXPECT_EQ(Cmln("tx create-escrow" + n + " --key " + home + "/keys/dave.json --amount 100000 --model " + kDevModel)["code"], 0);
  auto escrows = Cmln("query escrows --creator " + dave + n);
  ASSERT_EQ(escrows.size(), 1u);
  const uint64_t escrow_id = U(escrows[0], "id");

  // 4. Two TEE-signed batches (30,000 and 20,000), relayed by the host through the CLI.
  auto settle = [&](uint64_t seq, uint64_t cost, int want_exit) {
    UsageEntry e = ChainHarness::Entry(escrow_id, dave_key, cost / 2, cost / 2, cost);
    Bytes batch = ChainHarness::BatchBytes("node-1", seq, {e}, status["chain_id"]);
    WriteFile(home + "/batch.bin", std::string(batch.begin(), batch.end()));
    auto sig = *SignUsageBatch(tee_key, batch);
    return Cmln("tx settle-usage" + n + key("host") + " --batch " + home + "/batch.bin --signature-hex " + HexEncode(sig),
                want_exit);
  };
  EXPECT_EQ(settle(1, 30'000, 0)["code"], 0);
  EXPECT_EQ(settle(2, 20'000, 0)["code"], 0);
  auto replay = settle(2, 20'000, 1);  // C3 through the CLI: a stable code
  EXPECT_EQ(replay["codespace"], "replay");
  auto esc = Cmln("query escrow " + std::to_string(escrow_id) + n);
  EXPECT_EQ(U(esc, "remaining"), 50'000u);
  EXPECT_EQ(U(Cmln("query earnings " + host + n), "pending"), 50'000u);

  // 5. Cross the epoch boundary (height 60) and the grace window (refund at 60 + 10 + 1 = 71).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Cmln("query status" + n)["height"].get<uint64_t>() < 72 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  esc = Cmln("query escrow " + std::to_string(escrow_id) + n);
  EXPECT_EQ(esc["status"], "ESCROW_STATUS_REFUNDED");
  EXPECT_EQ(U(esc, "refunded"), 50'000u);
  // dave: 1,000,000 - 100,000 + 50,000 refunded.
  EXPECT_EQ(U(Cmln("query account " + dave + n), "balance"), 950'000u);
  // Epoch 0 subsidy 10^12 (default initial) split 100:100; the node was attested after height 1, so
  // no TEE bonus for epoch 0. host: 10^9 genesis + 50,000 payout + 5 x 10^11; host2: 10^9 + 5 x 10^11.
  auto e0 = Cmln("query epoch 0" + n);
  EXPECT_EQ(U(e0, "subsidy_minted"), 1'000'000'000'000u);
  EXPECT_EQ(U(e0, "host_payouts"), 50'000u);
  // host paid fees 0; its account also sent no value.
  EXPECT_EQ(U(Cmln("query account " + host + n), "balance"), 1'000'000'000u + 50'000 + 500'000'000'000u);
  EXPECT_EQ(U(Cmln("query account " + host2 + n), "balance"), 1'000'000'000u + 500'000'000'000u);
  EXPECT_EQ(U(Cmln("query account " + alice + n), "balance"), 1'000'000'000'000u - 1'000'000);
  auto supply = Cmln("query supply" + n);
  EXPECT_EQ(U(supply, "minted"), 1'000'000'000'000u);
  EXPECT_EQ(U(supply, "total_refunded"), 50'000u);
  EXPECT_EQ(U(supply, "total_paid_out"), 50'000u);

  // Tx lookup by hash through the CLI.
  auto looked = Cmln("query tx " + sent["hash"].get<std::string>() + n);
  EXPECT_EQ(looked["code"], 0);
  EXPECT_EQ(looked["events"][0]["type"], "transfer");

  (*node)->Stop();
  runner.join();
}

}  // namespace
}  // namespace cmln::chain::testing
