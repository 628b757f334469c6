// `cmln devnet` as a user runs it: progress, a ready line with where each part listens, an encrypted
// `cmln chat` through it, SIGTERM stopping every child, and a second start reusing the home. The demo model
// is replaced by the tiny GGUF of the node tests (the orchestration is what is under test) and the
// development PKI is the shared test one (generating RSA-4096 keys would dominate the run).
// With --validators 4 the same main job runs on four real CometBFT validators (issue 9).
#include <gtest/gtest.h>

#include <regex>

#include "abci/rest_proxy.h"
#include "node/node_harness.h"

namespace cmln::client {
namespace {

using namespace cmln::node::testing;

json WaitReady(Child& devnet, size_t from) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(4);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string log = devnet.Log().substr(from);
    std::istringstream lines(log);
    std::string line;
    while (std::getline(lines, line)) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("devnet", "") == "ready") return j;
    }
    if (!devnet.Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "devnet not ready:\n" << devnet.Log();
  return json();
}

bool Reachable(const std::string& url) {
  httplib::Client c(url);
  c.set_connection_timeout(1, 0);
  return static_cast<bool>(c.Get("/status"));
}

TEST(DevnetE2e, StartsChatsStopsAndRestartsOnTheSameHome) {
  const std::string dir = ::testing::TempDir() + "/client_devnet_e2e";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const TinyModel model = TinyModel::Write(dir);
  const std::vector<std::string> args = {"devnet", "--nodes", "2", "--home", dir + "/home", "--proxy-listen",
                                         "127.0.0.1:0", "--chain-listen", "127.0.0.1:0", "--model-path", model.path,
                                         "--sim-pki", Devnet::SharedSimPki()};
  WriteText(dir + "/devnet.log", "");  // exists before the child opens it, so the test can read it at once
  Child devnet(args, dir + "/devnet.log");
  json ready = WaitReady(devnet, 0);
  ASSERT_TRUE(ready.is_object());
  const std::string log = devnet.Log();
  EXPECT_NE(log.find("devnet: first start"), std::string::npos) << log;
  EXPECT_NE(log.find("every node's attestation is VERIFIED on chain"), std::string::npos) << log;
  ASSERT_EQ(ready["nodes"].size(), 2u);
  const std::string chain = ready["chain"].get<std::string>();
  EXPECT_TRUE(Reachable(chain));

  // An encrypted chat through the library, configured by the devnet's client.json.
  auto chat = cmln::testing::RunProcess(CmlnBin() + " chat --config '" + ready["client_config"].get<std::string>() +
                                        "' --max-tokens 4 'Hello there' 2>&1");
  ASSERT_EQ(chat.exit_code, 0) << chat.out << "\n" << devnet.Log();
  EXPECT_NE(chat.out.find("receipt: node=node-"), std::string::npos) << chat.out;
  EXPECT_NE(chat.out.find("verified=yes"), std::string::npos) << chat.out;

  // The proxy answers too.
  httplib::Client proxy(ready["proxy"].get<std::string>());
  proxy.set_read_timeout(120, 0);
  auto r = proxy.Post("/v1/chat/completions", ChatRequestJson("hi", false), "application/json");
  ASSERT_TRUE(r);
  // The devnet's model id is the demo one, not the tiny model's: an OpenAI-shaped 404 for cmln-tiny ...
  EXPECT_EQ(r->status, 404) << r->body;
  json req = json::parse(ChatRequestJson("hi", false));
  req["model"] = "smollm2-135m-instruct";
  r = proxy.Post("/v1/chat/completions", req.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(r->has_header("x-gonka-node"));

  // SIGTERM stops every child cleanly.
  EXPECT_EQ(devnet.Terminate(), 0) << devnet.Log();
  EXPECT_NE(devnet.Log().find("devnet: stopped"), std::string::npos);
  EXPECT_FALSE(Reachable(chain));

  // A second start reuses the home: same chain id and keys, no new genesis.
  const size_t from = devnet.Log().size();
  Child again(args, dir + "/devnet.log");
  json ready2 = WaitReady(again, from);
  ASSERT_TRUE(ready2.is_object());
  EXPECT_NE(again.Log().substr(from).find("reusing the existing genesis"), std::string::npos);
  auto chat2 = cmln::testing::RunProcess(CmlnBin() + " chat --config '" + ready2["client_config"].get<std::string>() +
                                         "' --max-tokens 4 --no-stream 'Hello again' 2>&1");
  EXPECT_EQ(chat2.exit_code, 0) << chat2.out;
  EXPECT_EQ(again.Terminate(), 0);
}


// The app's JSON answer to `path` at validator `rpc` (abci_query), or null.
json AbciQuery(const std::string& rpc, const std::string& path) {
  auto r = abci::CometRpcCall(rpc, "abci_query", {{"path", path}});
  if (!r.ok() || (*r)["response"].value("code", 0) != 0) return json();
  auto value = Base64Decode((*r)["response"].value("value", std::string()));
  if (!value.ok()) return json();
  return json::parse(std::string(AsChars(*value)), nullptr, false);
}

// `cmln devnet --validators 4`: four CometBFT validators, each with its own `cmln chain abci`; nodes, proxy
// and `cmln chat` use it through the same REST API (also as a relay); the node's signed usage settles on it and every
// validator's app reports the same escrow; SIGTERM stops every process; the home is bound to its consensus.
TEST(DevnetE2e, ValidatorsRunTheSameMainJobOnCometbft) {
  const std::string dir = ::testing::TempDir() + "/client_devnet_comet_e2e";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const TinyModel model = TinyModel::Write(dir);
  std::vector<std::string> args = {"devnet", "--nodes", "1", "--validators", "4", "--home", dir + "/home",
                                   "--proxy-listen", "127.0.0.1:0", "--chain-listen", "127.0.0.1:0", "--model-path",
                                   model.path, "--sim-pki", Devnet::SharedSimPki()};
  WriteText(dir + "/devnet.log", "");
  Child devnet(args, dir + "/devnet.log");
  json ready = WaitReady(devnet, 0);
  ASSERT_TRUE(ready.is_object());
  ASSERT_EQ(ready["validators"].size(), 4u) << ready.dump();
  EXPECT_NE(devnet.Log().find("starting 4 CometBFT validators"), std::string::npos);

  auto chat = cmln::testing::RunProcess(CmlnBin() + " chat --config '" + ready["client_config"].get<std::string>() +
                                        "' --max-tokens 4 'Hello there' 2>&1");
  ASSERT_EQ(chat.exit_code, 0) << chat.out << "\n" << devnet.Log();
  std::smatch m;
  const std::regex receipt("receipt: node=node-1 escrow=([0-9]+) .* cost=([0-9]+) ngonka verified=yes");
  ASSERT_TRUE(std::regex_search(chat.out, m, receipt)) << chat.out;
  const std::string escrow_id = m[1];
  const std::string cost = m[2];
  // The same through `cmln chain rest` as an Oblivious Relay: the node sees the relay, not the user.
  auto relayed = cmln::testing::RunProcess(CmlnBin() + " chat --config '" + ready["client_config"].get<std::string>() +
                                           "' --relay " + ready["chain"].get<std::string>() +
                                           " --max-tokens 4 --no-stream 'Hello via relay' 2>&1");
  ASSERT_EQ(relayed.exit_code, 0) << relayed.out;
  ASSERT_TRUE(std::regex_search(relayed.out, m, receipt)) << relayed.out;
  ASSERT_EQ(std::string(m[1]), escrow_id);  // the same escrow pays for both
  const std::string total = std::to_string(std::stoull(cost) + std::stoull(std::string(m[2])));

  // The node's signed batch settles through CometBFT; every validator's app has the same escrow record.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  json escrow;
  while (std::chrono::steady_clock::now() < deadline) {
    escrow = AbciQuery(ready["validators"][0]["rpc"], "/escrows/" + escrow_id);
    if (escrow.is_object() && escrow.value("settled", "0") == total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_TRUE(escrow.is_object());
  ASSERT_EQ(escrow.value("settled", "0"), total) << escrow.dump() << "\n" << devnet.Log();
  for (const json& v : ready["validators"]) {
    json e;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do {
      e = AbciQuery(v["rpc"], "/escrows/" + escrow_id);
      if (e == escrow) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } while (std::chrono::steady_clock::now() < until);
    EXPECT_EQ(e, escrow) << "validator " << v["validator"];
  }

  EXPECT_EQ(devnet.Terminate(), 0) << devnet.Log();
  EXPECT_NE(devnet.Log().find("devnet: stopped"), std::string::npos);
  for (const json& v : ready["validators"]) {
    EXPECT_FALSE(abci::CometRpcCall(v["rpc"], "status", json::object()).ok()) << "validator " << v["validator"];
  }

  // The home is bound to the consensus it was made with.
  args[4] = "0";
  const size_t from = devnet.Log().size();
  Child embedded(args, dir + "/devnet.log");
  for (int i = 0; i < 600 && embedded.Running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_FALSE(embedded.Running());
  EXPECT_NE(embedded.Log().substr(from).find("this home runs 4 validators; use --validators 4"), std::string::npos)
      << embedded.Log().substr(from);
}

}  // namespace
}  // namespace cmln::client
