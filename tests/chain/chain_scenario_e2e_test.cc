// The must-show scenario (issue 5) against a REAL `cmln chain start` process, with the production
// attestation verifier (AttestLibraryVerifier over attest::VerifyBundle) and no test-only code in the node:
//
//   `cmln chain init --allow-simulated-tee` writes a genesis trusting a development PKI it saves under
//   HOME/sim-pki; the test then, through `cmln tx` / `cmln query` processes and the REST API:
//   funds a fresh user, registers a sim-tdx release (governance), builds a simulated node's bundle with
//   attest::BuildSimBundle from HOME/sim-pki bound to {chain id, current epoch + nonce read from REST, the
//   host account, node id}, registers it (signed by the host key), creates an escrow, settles two usage
//   batches signed by the node's Ed25519 key, crosses the epoch boundary, serves again in epoch 1 (so the
//   TEE reward multiplier applies) and crosses it again; balances, refunds, host payouts and subsidies
//   are asserted against numbers computed by hand below.
// Then the same bundle is refused by a chain initialized without --allow-simulated-tee
// (simulated_not_allowed, A15) with no attestation recorded.
//
// The scenario runs twice with the same hand-computed numbers: on the embedded block producer
// (ChainScenario/Embedded) and on four real CometBFT v0.38 validators, each with its own `cmln chain abci`,
// reached through `cmln chain rest` (ChainScenario/Cometbft, issue 9); there every validator's app must
// also hold the same balances and the same app hash at every height.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "abci/local_network.h"
#include "abci/rest_proxy.h"
#include "attest/bundle.h"
#include "attest/sim_pki.h"
#include "chain/node.h"
#include "chain/rest_client.h"
#include "chain/usage_batch.h"
#include "common/child_process.h"
#include "seal/account_key.h"
#include "seal/crypto.h"
#include "seal/keyring.h"
#include "seal/ohttp.h"
#include "testing/test_util.h"

namespace cmln::chain {
namespace {

namespace fs = std::filesystem;
constexpr const char* kDevModel = "smollm2-135m-instruct";
constexpr const char* kNodeId = "node-1";
constexpr uint64_t kEpochLength = 100;
constexpr uint64_t kGrace = 10;  // default settlement_grace_blocks

std::string Bin() { return std::string(CMLN_BINARY_DIR) + "/cmln"; }

enum class Consensus { kEmbedded, kCometbft };

// The chain under test, from HOME's genesis: `cmln chain start` with 100 ms blocks, or four CometBFT
// validators (abci::LocalNetwork, 100 ms commit timeout) with `cmln chain rest` in front of validator 0.
// Children are stopped on destruction, so a failed assertion leaks nothing.
class RunningChain {
 public:
  RunningChain(Consensus consensus, const std::string& home) : server_("chain", home + "/chain.log") {
    if (consensus == Consensus::kEmbedded) {
      if (!server_.Start({Bin(), "chain", "start", "--home", home, "--listen", "127.0.0.1:0", "--block-interval-ms",
                          "100"})
               .ok()) {
        return;
      }
    } else {
      abci::LocalNetworkOptions o;
      o.dir = home + "/cometbft";
      o.validators = 4;
      o.cometbft_path = std::string(CMLN_SOURCE_DIR) + "/.gobin/cometbft";
      o.cmln_path = Bin();
      o.app_genesis = nlohmann::json::parse(std::ifstream(home + "/config/genesis.json"));
      o.timeout_commit = "100ms";
      auto net = abci::LocalNetwork::Prepare(o);
      EXPECT_TRUE(net.ok()) << net.error().ToString();
      if (!net.ok()) return;
      network_ = std::move(*net);
      Status up = network_->StartAll(2, std::chrono::seconds(60));
      EXPECT_TRUE(up.ok()) << up.error().ToString() << "\n" << network_->LogTails(0);
      if (!up.ok()) return;
      if (!server_.Start({Bin(), "chain", "rest", "--comet", network_->validator(0).rpc_url(), "--listen",
                          "127.0.0.1:0"})
               .ok()) {
        return;
      }
    }
    url_ = server_.WaitListening(std::chrono::seconds(10)).value_or("");
  }
  ~RunningChain() {
    server_.Stop(std::chrono::seconds(10));
    if (network_) network_->StopAll(std::chrono::seconds(10));
  }
  const std::string& url() const { return url_; }
  abci::LocalNetwork* network() { return network_.get(); }

 private:
  ChildProcess server_;
  std::unique_ptr<abci::LocalNetwork> network_;
  std::string url_;
};

// The app's JSON answer to `path` at one CometBFT validator (abci_query), or null.
nlohmann::json AbciQuery(const std::string& rpc, const std::string& path) {
  auto r = abci::CometRpcCall(rpc, "abci_query", {{"path", path}});
  if (!r.ok() || (*r)["response"].value("code", 0) != 0) return nullptr;
  auto value = Base64Decode((*r)["response"].value("value", std::string()));
  if (!value.ok()) return nullptr;
  return nlohmann::json::parse(std::string(AsChars(*value)), nullptr, false);
}

nlohmann::json Cmln(const std::string& args, int want_exit = 0) {
  auto r = cmln::testing::RunProcess(Bin() + " " + args);
  EXPECT_EQ(r.exit_code, want_exit) << args << "\n" << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

uint64_t U(const nlohmann::json& j, const char* f) { return std::stoull(j.at(f).get<std::string>()); }

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

std::string AddressOf(const std::string& home, const std::string& name) {
  return nlohmann::json::parse(std::ifstream(home + "/keys/" + name + ".json"))["address"];
}

// Waits until the chain's height is at least `h` (blocks every 100 ms).
void WaitHeight(const RestClient& rest, uint64_t h) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = rest.Get("/status");
    if (s.ok() && (*s)["height"].get<uint64_t>() >= h) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL() << "height " << h << " not reached";
}

class ChainScenario : public ::testing::TestWithParam<Consensus> {};

TEST_P(ChainScenario, SimulatedNodeThroughRealVerifierSettlesTwoBatchesAcrossEpochsByHand) {
  const bool comet = GetParam() == Consensus::kCometbft;
  if (comet) {
    ASSERT_TRUE(fs::exists(std::string(CMLN_SOURCE_DIR) + "/.gobin/cometbft")) << "run scripts/setup";
  }
  const std::string home = ::testing::TempDir() + (comet ? "/chain_scenario_comet_home" : "/chain_scenario_home");
  fs::remove_all(home);
  auto init = Cmln("chain init --home " + home + " --allow-simulated-tee --epoch-length " + std::to_string(kEpochLength) +
                   " --model " + kDevModel + "=1 --host host --host host2");
  ASSERT_EQ(init["sim_pki"], home + "/sim-pki");
  // The PKI's private keys are readable by the owner only (the devnet's node processes sign with them).
  EXPECT_EQ(fs::status(home + "/sim-pki").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(home + "/sim-pki/tdx/pck.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  RunningChain chain(GetParam(), home);
  ASSERT_FALSE(chain.url().empty()) << "the chain did not announce its REST address";
  const RestClient rest(chain.url());
  const std::string n = " --node " + chain.url();
  auto key = [&](const std::string& name) { return " --key " + home + "/keys/" + name + ".json"; };
  const std::string alice = AddressOf(home, "alice"), host = AddressOf(home, "host");
  const std::string host2 = AddressOf(home, "host2");

  // The genesis as written: simulated TEE allowed, sim-tdx and sim-snp collateral on chain.
  auto params = *rest.Get("/params");
  EXPECT_EQ(params["allow_simulated_tee"], true);
  ASSERT_EQ(params["model_prices"].size(), 1u);
  EXPECT_EQ(params["model_prices"][0]["model_id"], kDevModel);
  EXPECT_EQ(U(params["model_prices"][0], "price_per_token"), 1u);
  auto collateral = *rest.Get("/collateral");
  ASSERT_EQ(collateral.size(), 2u);
  EXPECT_EQ(collateral[0]["platform"], "sim-snp");
  EXPECT_EQ(collateral[1]["platform"], "sim-tdx");

  // 1. Fund a fresh user (dave) from alice.
  const seal::AccountPrivateKey dave_key = seal::AccountPrivateKey::Generate();
  const std::string dave = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(dave_key.public_key()));
  WriteFile(home + "/keys/dave.json", nlohmann::json{{"private_key_hex", HexEncode(dave_key.scalar())}}.dump());
  auto sent = Cmln("tx send" + n + key("alice") + " --to " + dave + " --amount 1000000");
  EXPECT_EQ(sent["code"], 0);
  EXPECT_EQ(U(*rest.Get("/accounts/" + dave), "balance"), 1'000'000u);
  EXPECT_EQ((*rest.Get("/accounts/" + dave))["public_key"], "");  // not set before dave signs

  // 2. Governance registers the release: the measurements the simulated node reports.
  attest::SimTdxQuoteSpec measured;
  measured.mr_td.fill(0xA1);
  for (size_t i = 0; i < 4; ++i) measured.rtmr[i].fill(static_cast<uint8_t>(0xB0 + i));
  const Bytes digest(32, 0x5D);
  nlohmann::json ms = nlohmann::json::array();
  ms.push_back({{"name", "MRTD"}, {"value", Base64Encode(measured.mr_td)}});
  for (size_t i = 0; i < 4; ++i) ms.push_back({{"name", "RTMR" + std::to_string(i)}, {"value", Base64Encode(measured.rtmr[i])}});
  nlohmann::json release = {{"release_id", "rel-1"},        {"platform", "sim-tdx"},
                            {"measurements", ms},           {"model_id", kDevModel},
                            {"model_digest", Base64Encode(digest)}, {"engine", "builtin"},
                            {"min_tcb", "UpToDate"}};
  WriteFile(home + "/release.json", release.dump());
  EXPECT_EQ(Cmln("tx register-release" + n + key("authority") + " --release " + home + "/release.json")["code"], 0);
  EXPECT_EQ(Cmln("tx register-release" + n + key("alice") + " --release " + home + "/release.json", 1)["codespace"],
            "unauthorized");

  // 3. The simulated node's bundle, built from HOME/sim-pki and bound to what the chain says now.
  auto pki = attest::LoadSimPki(home + "/sim-pki");
  ASSERT_TRUE(pki.ok()) << pki.error().ToString();
  auto status = *rest.Get("/status");
  auto epoch = *rest.Get("/epochs/current");
  EXPECT_EQ(epoch["nonce"], status["epoch_nonce"]);
  EXPECT_EQ(U(epoch, "number"), 0u);
  EXPECT_EQ(U(epoch, "start_height"), 1u);
  const auto tee_key = *seal::Ed25519PrivateKey::FromSeed(Bytes(32, 0x77));
  attest::SimBundleSpec spec;
  spec.binding = attest::BundleBinding{status["chain_id"], U(epoch, "number"), *HexDecode(epoch["nonce"].get<std::string>()),
                                       host, kNodeId};
  seal::ohttp::KeyConfig kc;
  kc.key_id = 1;
  kc.kem_id = 0x0020;
  kc.public_key = Bytes(32, 0x09);
  kc.algorithms = {{0x0001, 0x0001}};
  spec.ohttp_key_config = *seal::ohttp::EncodeKeyConfig(kc);
  spec.sign_pk = ToBytes(tee_key.public_key());
  spec.model_id = kDevModel;
  spec.model_digest = digest;
  spec.release_id = "rel-1";
  spec.tdx = measured;
  auto built = attest::BuildSimBundle(*pki, spec);
  ASSERT_TRUE(built.ok()) << built.error().ToString();
  const std::string bundle = *attest::SerializeBundle(*built);
  WriteFile(home + "/bundle.json", bundle);
  auto att = Cmln("tx submit-attestation" + n + key("host") + " --node-id " + kNodeId + " --model " + kDevModel +
                  " --endpoint https://127.0.0.1:9443 --bundle " + home + "/bundle.json");
  ASSERT_EQ(att["code"], 0) << att.dump();
  auto by_model = *rest.Get(std::string("/attestations?model=") + kDevModel);
  ASSERT_EQ(by_model.size(), 1u);
  const auto& rec = by_model[0];
  EXPECT_EQ(rec["status"], "ATTESTATION_STATUS_VERIFIED");
  EXPECT_EQ(rec["node_id"], kNodeId);
  EXPECT_EQ(rec["participant"], host);
  EXPECT_EQ(rec["endpoint"], "https://127.0.0.1:9443");
  EXPECT_EQ(rec["platform"], "sim-tdx");
  EXPECT_EQ(rec["simulated"], true);
  EXPECT_EQ(rec["release_id"], "rel-1");
  EXPECT_EQ(rec["sign_public_key"], HexEncode(tee_key.public_key()));
  EXPECT_EQ(rec["ohttp_key_config"], HexEncode(spec.ohttp_key_config));
  EXPECT_EQ(rec["bundle"], Base64Encode(AsBytes(bundle)));
  EXPECT_EQ(rec["bundle_hash"], HexEncode(seal::Sha256(AsBytes(bundle))));
  EXPECT_EQ(Cmln(std::string("query attestations --node-id ") + kNodeId + n)["participant"], host);

  // 4. dave locks 100,000 ngonka; his key is now on chain and the escrow names its hash.
  EXPECT_EQ(Cmln("tx create-escrow" + n + " --key " + home + "/keys/dave.json --amount 100000 --model " + kDevModel)["code"], 0);
  EXPECT_EQ((*rest.Get("/accounts/" + dave))["public_key"], HexEncode(dave_key.public_key()));
  auto escrows = *rest.Get("/escrows?creator=" + dave);
  ASSERT_EQ(escrows.size(), 1u);
  const uint64_t escrow1 = U(escrows[0], "id");
  auto esc = *rest.Get("/escrows/" + std::to_string(escrow1));
  EXPECT_EQ(esc["creator"], dave);
  EXPECT_EQ(esc["model_id"], kDevModel);
  EXPECT_EQ(esc["status"], "ESCROW_STATUS_OPEN");
  EXPECT_EQ(U(esc, "remaining"), 100'000u);
  EXPECT_EQ(esc["creator_key_hash"], HexEncode(seal::Sha256(dave_key.public_key())));

  // 5. Two batches signed by the node's Ed25519 key, relayed by the host through the CLI.
  auto settle = [&](uint64_t escrow, uint64_t seq, uint64_t cost, uint64_t requests, int want_exit) {
    UsageEntry e;
    e.escrow_id = escrow;
    e.requester_key_hash = seal::Sha256(dave_key.public_key());
    e.requests = requests;
    e.prompt_tokens = cost / 2;
    e.completion_tokens = cost - cost / 2;
    e.cost = cost;
    auto batch = EncodeUsageBatch(UsageBatch{status["chain_id"], kNodeId, seq, {e}});
    EXPECT_TRUE(batch.ok());
    WriteFile(home + "/batch.bin", std::string(AsChars(*batch)));
    auto sig = *SignUsageBatch(tee_key, *batch);
    return Cmln("tx settle-usage" + n + key("host") + " --batch " + home + "/batch.bin --signature-hex " + HexEncode(sig),
                want_exit);
  };
  auto s1 = settle(escrow1, 1, 30'000, 2, 0);
  auto s2 = settle(escrow1, 2, 20'000, 1, 0);
  EXPECT_EQ(s1["code"], 0);
  EXPECT_EQ(s2["code"], 0);
  EXPECT_EQ(settle(escrow1, 2, 20'000, 1, 1)["codespace"], "replay");
  // Everything above landed in epoch 0 (else the hand computation below would not hold).
  ASSERT_LT(s2["height"].get<uint64_t>(), kEpochLength) << "epoch 0 ended before the batches settled";
  EXPECT_EQ(U(*rest.Get("/escrows/" + std::to_string(escrow1)), "remaining"), 50'000u);
  EXPECT_EQ(U(*rest.Get("/earnings/" + host), "pending"), 50'000u);

  // 6. Epoch 0 ends at height 100: escrow 1 closes (refund at 100 + 10 + 1), the host is paid 50,000,
  // the subsidy 10^12 is split 100:100 with no TEE bonus (the node was attested after height 1).
  WaitHeight(rest, kEpochLength + 1);
  auto e0 = *rest.Get("/epochs/0");
  EXPECT_EQ(U(e0, "end_height"), kEpochLength);
  EXPECT_EQ(U(e0, "subsidy_budget"), 1'000'000'000'000u);
  EXPECT_EQ(U(e0, "subsidy_minted"), 1'000'000'000'000u);
  EXPECT_EQ(U(e0, "host_payouts"), 50'000u);
  ASSERT_EQ(e0["rewards"].size(), 2u);
  for (const auto& r : e0["rewards"]) {
    EXPECT_EQ(U(r, "effective_weight"), 1'000'000u);
    EXPECT_EQ(U(r, "subsidy"), 500'000'000'000u);
  }

  // 7. Epoch 1: dave locks 20,000 more, signing with his `cmln keys` keyring entry this time; the node
  // serves 3 requests costing 12,345.
  {
    auto keyring = seal::Keyring::Open(home + "/keyring");
    ASSERT_TRUE(keyring.ok());
    ASSERT_TRUE(keyring->Import("dave", HexEncode(dave_key.scalar())).ok());
  }
  EXPECT_EQ(Cmln("tx create-escrow" + n + " --from dave --keyring-home " + home + "/keyring --amount 20000 --model " +
                 kDevModel)["code"],
            0);
  // Neither or both of --key / --from: refused before anything is sent.
  EXPECT_EQ(Cmln("tx create-escrow" + n + " --amount 1 --model " + kDevModel, 1)["error"]["code"], "invalid_argument");
  escrows = *rest.Get("/escrows?creator=" + dave);
  ASSERT_EQ(escrows.size(), 2u);
  const uint64_t escrow2 = U(escrows[1], "id");
  auto s3 = settle(escrow2, 3, 12'345, 3, 0);
  EXPECT_EQ(s3["code"], 0);
  ASSERT_LT(s3["height"].get<uint64_t>(), 2 * kEpochLength) << "epoch 1 ended before the batch settled";
  // The closed escrow 1 is refunded at height 111, exactly once.
  WaitHeight(rest, kEpochLength + kGrace + 2);
  esc = *rest.Get("/escrows/" + std::to_string(escrow1));
  EXPECT_EQ(esc["status"], "ESCROW_STATUS_REFUNDED");
  EXPECT_EQ(U(esc, "refunded"), 50'000u);
  EXPECT_EQ(U(esc, "settled"), 50'000u);

  // 8. Epoch 1 ends at height 200; escrow 2 is refunded 20,000 - 12,345 = 7,655 at 211. Budget
  // 10^12 x 9990 / 10000 = 999,000,000,000. host's node was VERIFIED since epoch 1's first block and
  // served: effective weight 100 x 11000 = 1,100,000; host2 100 x 10000 = 1,000,000. host gets
  // floor(999e9 x 1.1e6 / 2.1e6) = 523,285,714,285, host2 floor(999e9 x 1e6 / 2.1e6) = 475,714,285,714;
  // minted 998,999,999,999 (1 ngonka of dust is not minted).
  WaitHeight(rest, 2 * kEpochLength + kGrace + 2);
  auto e1 = *rest.Get("/epochs/1");
  EXPECT_EQ(U(e1, "subsidy_budget"), 999'000'000'000u);
  EXPECT_EQ(U(e1, "subsidy_minted"), 998'999'999'999u);
  EXPECT_EQ(U(e1, "host_payouts"), 12'345u);
  ASSERT_EQ(e1["rewards"].size(), 2u);
  for (const auto& r : e1["rewards"]) {
    const bool is_host = r["address"] == host;
    EXPECT_EQ(U(r, "effective_weight"), is_host ? 1'100'000u : 1'000'000u);
    EXPECT_EQ(U(r, "subsidy"), is_host ? 523'285'714'285u : 475'714'285'714u);
  }
  esc = *rest.Get("/escrows/" + std::to_string(escrow2));
  EXPECT_EQ(esc["status"], "ESCROW_STATUS_REFUNDED");
  EXPECT_EQ(U(esc, "settled"), 12'345u);
  EXPECT_EQ(U(esc, "refunded"), 7'655u);

  // Final balances (every fee is 0). dave: 1,000,000 - 100,000 - 20,000 + 50,000 + 7,655.
  EXPECT_EQ(U(*rest.Get("/accounts/" + dave), "balance"), 937'655u);
  // host: 10^9 genesis + 50,000 + 5 x 10^11 (epoch 0) + 12,345 + 523,285,714,285 (epoch 1).
  EXPECT_EQ(U(*rest.Get("/accounts/" + host), "balance"), 1'000'000'000u + 50'000u + 500'000'000'000u + 12'345u + 523'285'714'285u);
  // host2: 10^9 + 5 x 10^11 + 475,714,285,714.
  EXPECT_EQ(U(*rest.Get("/accounts/" + host2), "balance"), 1'000'000'000u + 500'000'000'000u + 475'714'285'714u);
  EXPECT_EQ(U(*rest.Get("/accounts/" + alice), "balance"), 1'000'000'000'000u - 1'000'000u);
  EXPECT_EQ(U(*rest.Get("/earnings/" + host), "pending"), 0u);
  auto supply = *rest.Get("/supply");
  EXPECT_EQ(U(supply, "minted"), 1'000'000'000'000u + 998'999'999'999u);
  EXPECT_EQ(U(supply, "total_settled"), 62'345u);
  EXPECT_EQ(U(supply, "total_paid_out"), 62'345u);
  EXPECT_EQ(U(supply, "total_refunded"), 57'655u);
  EXPECT_EQ(U(supply, "escrowed"), 0u);
  // Tx lookup by hash through the CLI.
  auto looked = Cmln("query tx " + sent["hash"].get<std::string>() + n);
  EXPECT_EQ(looked["code"], 0);
  EXPECT_EQ(looked["events"][0]["type"], "transfer");

  if (comet) {
    // Every validator's app: the same balances, and the same app hash at every height up to now.
    abci::LocalNetwork& net = *chain.network();
    const uint64_t top = (*rest.Get("/status"))["height"].get<uint64_t>();
    for (int v = 0; v < net.size(); ++v) {
      const std::string rpc = net.validator(v).rpc_url();
      ASSERT_TRUE(net.WaitHeight(v, static_cast<int64_t>(top) + 1, std::chrono::seconds(60))) << net.LogTails(v);
      EXPECT_EQ(U(AbciQuery(rpc, "/accounts/" + dave), "balance"), 937'655u) << "validator " << v;
      EXPECT_EQ(AbciQuery(rpc, "/supply"), supply) << "validator " << v;
    }
    for (uint64_t h = 1; h <= top; ++h) {
      const nlohmann::json first = AbciQuery(net.validator(0).rpc_url(), "/blocks/" + std::to_string(h));
      ASSERT_TRUE(first.is_object()) << "height " << h;
      for (int v = 1; v < net.size(); ++v) {
        EXPECT_EQ(AbciQuery(net.validator(v).rpc_url(), "/blocks/" + std::to_string(h))["app_hash"], first["app_hash"])
            << "validator " << v << " height " << h;
      }
    }
    return;  // A15 below needs no second consensus engine
  }

  // 9. A15 through a real process: the same bundle on a chain initialized without
  // --allow-simulated-tee is refused with simulated_not_allowed and nothing is recorded.
  const std::string prod_home = ::testing::TempDir() + "/chain_scenario_prod_home";
  fs::remove_all(prod_home);
  auto prod_init = Cmln("chain init --home " + prod_home + " --model " + std::string(kDevModel) + "=1");
  EXPECT_FALSE(prod_init.contains("sim_pki"));
  EXPECT_FALSE(fs::exists(prod_home + "/sim-pki"));
  RunningChain prod(Consensus::kEmbedded, prod_home);
  ASSERT_FALSE(prod.url().empty());
  const RestClient prod_rest(prod.url());
  EXPECT_EQ((*prod_rest.Get("/params"))["allow_simulated_tee"], false);
  auto refused = Cmln("tx submit-attestation --node " + prod.url() + " --key " + prod_home + "/keys/host.json --node-id " +
                          kNodeId + " --model " + kDevModel + " --bundle " + home + "/bundle.json",
                      1);
  EXPECT_EQ(refused["codespace"], "simulated_not_allowed") << refused.dump();
  EXPECT_EQ(refused["code"], static_cast<int>(ErrorCode::kSimulatedNotAllowed));
  EXPECT_EQ((*prod_rest.Get("/attestations")).size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(, ChainScenario, ::testing::Values(Consensus::kEmbedded, Consensus::kCometbft),
                         [](const ::testing::TestParamInfo<Consensus>& param) {
                           return param.param == Consensus::kEmbedded ? "Embedded" : "Cometbft";
                         });

}  // namespace
}  // namespace cmln::chain
