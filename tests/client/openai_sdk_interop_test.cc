// The official OpenAI SDKs as real clients of `cmln proxy` on a devnet (a real chain, two real nodes with
// the TEE simulator, the proxy as a real process): npm `openai` (tests/interop/js/openai_proxy_peer.mjs) and
// PyPI `openai` (tests/interop/py/openai_proxy_peer.py), streaming and non-streaming, unchanged SDK code
// pointed at the proxy's base URL. Needs `node` with tests/interop/js/node_modules and .venv-peers with
// `openai` (scripts/setup installs both); a missing peer is a failure, not a skip.
#include <gtest/gtest.h>

#include "node/node_harness.h"

namespace cmln::client {
namespace {

using namespace cmln::node::testing;

const std::string kSource = CMLN_SOURCE_DIR;

class OpenAiSdkInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    net_ = std::make_unique<Devnet>(::testing::TempDir() + "/client_sdk_interop");
    ASSERT_FALSE(net_->url().empty());
    a_ = std::make_unique<NodeProcess>(net_->dir(), "node-a", net_->NodeConfig("node-a"));
    b_ = std::make_unique<NodeProcess>(net_->dir(), "node-b", net_->NodeConfig("node-b"));
    ASSERT_FALSE(a_->url().empty());
    ASSERT_FALSE(b_->url().empty());
    for (int i = 0; i < 600; ++i) {
      size_t verified = 0;
      for (const auto& rec : net_->Get(std::string("/attestations?model=") + kTinyModelId)) {
        if (rec.value("status", "") == "ATTESTATION_STATUS_VERIFIED") ++verified;
      }
      if (verified == 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    proxy_ = std::make_unique<Child>(
        std::vector<std::string>{"proxy", "--listen", "127.0.0.1:0", "--chain", net_->url(), "--key",
                                 net_->KeyFile("alice"), "--allow-simulated", "--sim-trust", Devnet::SharedSimPki()},
        net_->dir() + "/proxy.log");
    proxy_url_ = proxy_->WaitListening(60000);
    ASSERT_FALSE(proxy_url_.empty()) << proxy_->Log();
  }

  // Runs a peer and checks what the SDK saw.
  void CheckPeer(const std::string& command) {
    auto r = cmln::testing::RunProcess(command + " '" + proxy_url_ + "/v1' " + kTinyModelId + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out << "\nproxy log:\n" << proxy_->Log();
    auto j = json::parse(r.out.substr(r.out.find('{')), nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.out;
    const std::set<std::string> nodes = {"node-a", "node-b"};

    const json& plain = j["non_stream"];
    EXPECT_EQ(plain["object"], "chat.completion");
    EXPECT_TRUE(nodes.count(plain["node"].get<std::string>())) << plain.dump();
    EXPECT_GE(plain["usage"]["prompt_tokens"].get<int>(), 1);
    EXPECT_GE(plain["usage"]["completion_tokens"].get<int>(), 1);
    EXPECT_LE(plain["usage"]["completion_tokens"].get<int>(), 6);
    EXPECT_TRUE(plain["content"].is_string());

    const json& stream = j["stream"];
    EXPECT_TRUE(nodes.count(stream["node"].get<std::string>())) << stream.dump();
    EXPECT_GE(stream["chunks"].get<int>(), 2);
    ASSERT_TRUE(stream["usage"].is_object()) << stream.dump();
    EXPECT_GE(stream["usage"]["completion_tokens"].get<int>(), 1);
    EXPECT_LE(stream["usage"]["completion_tokens"].get<int>(), 6);
    // Deterministic decoding (temperature 0) through either node gives the same text both ways.
    EXPECT_EQ(stream["content"], plain["content"]);

    // Errors in OpenAI's shape, as the SDK parses them.
    EXPECT_EQ(j["unknown_model"]["status"], 404) << j.dump();
    EXPECT_EQ(j["unknown_model"]["code"], "model_not_available") << j.dump();
  }

  std::unique_ptr<Devnet> net_;
  std::unique_ptr<NodeProcess> a_, b_;
  std::unique_ptr<Child> proxy_;
  std::string proxy_url_;
};

TEST_F(OpenAiSdkInterop, NpmOpenAiStreamAndNonStream) {
  ASSERT_TRUE(std::filesystem::exists(kSource + "/tests/interop/js/node_modules/openai/package.json"))
      << "run scripts/setup (npm ci in tests/interop/js)";
  CheckPeer("node '" + kSource + "/tests/interop/js/openai_proxy_peer.mjs'");
}

TEST_F(OpenAiSdkInterop, PypiOpenAiStreamAndNonStream) {
  ASSERT_EQ(cmln::testing::RunProcess("'" + kSource + "/.venv-peers/bin/python' -c 'import openai'").exit_code, 0)
      << "run scripts/setup (PyPI openai into .venv-peers)";
  CheckPeer("'" + kSource + "/.venv-peers/bin/python' '" + kSource + "/tests/interop/py/openai_proxy_peer.py'");
}

TEST_F(OpenAiSdkInterop, ModelsListAndPlainHttpErrors) {
  httplib::Client c(proxy_url_);
  c.set_read_timeout(60, 0);
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  auto m = json::parse(models->body);
  EXPECT_EQ(m["object"], "list");
  ASSERT_EQ(m["data"].size(), 1u);
  EXPECT_EQ(m["data"][0]["id"], kTinyModelId);
  auto bad = c.Post("/v1/chat/completions", "not json", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)["error"]["code"], "invalid_json");
  auto missing = c.Get("/v1/embeddings");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["error"]["code"], "not_found");
}

}  // namespace
}  // namespace cmln::client
