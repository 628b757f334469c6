// The chain under real CometBFT v0.38.25 (scripts/setup installs it into .gobin/): a 4-validator network on
// loopback, each validator a `cometbft start` process with its own `cmln chain abci` process on a unix
// socket, set up and run by abci::LocalNetwork (what `cmln devnet --validators N` runs). Transactions go through CometBFT's JSON-RPC (broadcast_tx_sync), reads through abci_query.
//
//   Scenario              fund a new user (MsgSend), register a release (authority), create an escrow; the
//                         balances are as computed by hand, and every validator reports the same app hash at
//                         every height (the app's own block record and CometBFT's block headers).
//   KillOneValidator      kill -9 one validator's app and its CometBFT: the other three keep producing blocks
//                         (and include a tx); the restarted pair replays and catches up to the same app hash.
//   CrashBeforeCommit     CMLN_ABCI_CRASH_BEFORE_COMMIT_AT_HEIGHT stops one app between FinalizeBlock and
//                         Commit (exit 86); its store stays at the previous height; after restart CometBFT's
//                         handshake replays the block and the heights and app hashes converge.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "abci/local_network.h"
#include "chain/node.h"
#include "chain/tx.h"
#include "common/child_process.h"
#include "testing/test_util.h"

namespace cmln::abci {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kValidators = 4;
constexpr const char* kChainId = "cmln-devnet";

const std::string kCmln = std::string(CMLN_BINARY_DIR) + "/cmln";
const std::string kCometbft = std::string(CMLN_SOURCE_DIR) + "/.gobin/cometbft";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// CometBFT JSON-RPC over HTTP.
class Rpc {
 public:
  explicit Rpc(int port) : cli_("127.0.0.1", port) {
    cli_.set_connection_timeout(2);
    cli_.set_read_timeout(5);
  }
  // The "result" member, or nullopt when the node is unreachable or answers with an error.
  std::optional<json> Call(const std::string& method, const json& params) {
    json body = {{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", params}};
    auto res = cli_.Post("/", body.dump(), "application/json");
    if (!res || res->status != 200) return std::nullopt;
    auto j = json::parse(res->body, nullptr, false);
    if (!j.is_object() || !j.contains("result")) return std::nullopt;
    return j["result"];
  }
  int64_t Height() {
    auto s = Call("status", json::object());
    if (!s) return -1;
    return std::stoll((*s)["sync_info"]["latest_block_height"].get<std::string>());
  }
  // abci_query: the app's JSON document, or nullopt (with the code in *code) on a refusal.
  std::optional<json> Query(const std::string& path, uint32_t* code = nullptr) {
    auto r = Call("abci_query", {{"path", path}});
    if (!r) return std::nullopt;
    const json& resp = (*r)["response"];
    uint32_t c = resp.value("code", 0u);
    if (code != nullptr) *code = c;
    if (c != 0) return std::nullopt;
    auto value = Base64Decode(resp.value("value", std::string()));
    if (!value.ok()) return std::nullopt;
    return json::parse(std::string(AsChars(*value)), nullptr, false);
  }
  std::optional<json> BroadcastSync(ByteView tx) {
    return Call("broadcast_tx_sync", {{"tx", Base64Encode(tx)}});
  }
  // CometBFT's block header app hash at `height` (the app hash after height-1), uppercase hex.
  std::optional<std::string> HeaderAppHash(int64_t height) {
    auto b = Call("block", {{"height", std::to_string(height)}});
    if (!b) return std::nullopt;
    return (*b)["block"]["header"]["app_hash"].get<std::string>();
  }

 private:
  httplib::Client cli_;
  int id_ = 0;
};

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

class CometNetwork : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kCometbft)) << kCometbft << " missing: run scripts/setup";
    ASSERT_TRUE(fs::exists(kCmln)) << kCmln;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("cmln-comet-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Our genesis (authority, alice, bob, host keys) from `cmln chain init`; it goes into CometBFT's app_state.
    const int64_t genesis_time = std::time(nullptr) - 1;
    auto init = testing::RunProcess(kCmln + " chain init --home " + dir_ + "/chain --chain-id " + kChainId +
                                    " --epoch-length 1000 --genesis-time " + std::to_string(genesis_time));
    ASSERT_EQ(init.exit_code, 0) << init.out;
    abci::LocalNetworkOptions o;
    o.dir = dir_ + "/network";
    o.validators = kValidators;
    o.cometbft_path = kCometbft;
    o.cmln_path = kCmln;
    o.app_genesis = json::parse(ReadText(dir_ + "/chain/config/genesis.json"));
    auto net = LocalNetwork::Prepare(o);
    ASSERT_TRUE(net.ok()) << net.error().ToString();
    net_ = std::move(*net);
    Status started = net_->StartAll(2, std::chrono::seconds(60));
    ASSERT_TRUE(started.ok()) << started.error().ToString() << "\n" << net_->LogTails(0);
    for (int i = 0; i < kValidators; ++i) ASSERT_TRUE(WaitHeight(i, 2, std::chrono::seconds(60))) << Logs(i);
  }

  void TearDown() override {
    if (net_) net_->StopAll(std::chrono::seconds(0));
    if (!HasFailure()) fs::remove_all(dir_);
  }

  LocalValidator& Val(int i) { return net_->validator(i); }
  void StartApp(int i, const std::vector<std::string>& env = {}) {
    Status s = net_->StartApp(i, env);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }
  void StartComet(int i) {
    Status s = net_->StartComet(i);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }
  std::string Logs(int i) { return net_->LogTails(i); }

  Rpc RpcOf(int i) { return Rpc(Val(i).rpc_port); }
  int64_t Height(int i) { return net_->Height(i); }
  bool WaitHeight(int i, int64_t h, std::chrono::seconds timeout) { return net_->WaitHeight(i, h, timeout); }
  json AppStatus(int i) {
    auto s = RpcOf(i).Query("/status");
    return s ? *s : json();
  }
  // The height the app has committed (its own store), -1 if unreachable.
  int64_t AppHeight(int i) {
    json s = AppStatus(i);
    return s.is_object() ? s["height"].get<int64_t>() : -1;
  }

  std::string KeyAddress(const std::string& name) {
    return json::parse(ReadText(dir_ + "/chain/keys/" + name + ".json"))["address"];
  }
  seal::AccountPrivateKey Key(const std::string& name) {
    return std::move(*chain::LoadKeyFile(dir_ + "/chain/keys/" + name + ".json"));
  }

  // Signs with the sender's on-chain sequence, broadcasts through validator `via`, and waits until the tx
  // is in a committed block of validator `via`'s app. Returns the app's tx record.
  json SendTx(int via, const seal::AccountPrivateKey& key, const std::vector<chain::v1::Msg>& msgs) {
    Rpc rpc = RpcOf(via);
    const std::string addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(key.public_key()));
    auto account = rpc.Query("/accounts/" + addr);
    EXPECT_TRUE(account.has_value());
    if (!account) return json();
    uint64_t seq = std::stoull((*account)["sequence"].get<std::string>());
    auto tx = chain::BuildSignedTx(key, kChainId, seq, 0, msgs);
    EXPECT_TRUE(tx.ok());
    auto res = rpc.BroadcastSync(*tx);
    EXPECT_TRUE(res.has_value());
    if (!res) return json();
    EXPECT_EQ((*res)["code"], 0) << res->dump();
    const std::string hash = chain::TxHashHex(*tx);
    EXPECT_EQ(Upper(hash), (*res)["hash"].get<std::string>());
    auto end = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < end) {
      if (auto rec = rpc.Query("/txs/" + hash)) return *rec;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "tx " << hash << " not committed";
    return json();
  }

  uint64_t Balance(int via, const std::string& addr) {
    auto a = RpcOf(via).Query("/accounts/" + addr);
    EXPECT_TRUE(a.has_value());
    return a ? std::stoull((*a)["balance"].get<std::string>()) : 0;
  }

  // Every validator in `which` has the same app hash at every height 1..up_to, both in the app's own block
  // record and in CometBFT's header of the next block; returns how many heights were compared.
  int64_t ExpectSameAppHashes(const std::vector<int>& which, int64_t up_to) {
    for (int64_t h = 1; h <= up_to; ++h) {
      std::string first_app, first_header;
      for (int i : which) {
        auto block = RpcOf(i).Query("/blocks/" + std::to_string(h));
        EXPECT_TRUE(block.has_value()) << "validator " << i << " height " << h;
        if (!block) return h - 1;
        std::string app_hash = Upper((*block)["app_hash"].get<std::string>());
        auto header = RpcOf(i).HeaderAppHash(h + 1);
        EXPECT_TRUE(header.has_value()) << "validator " << i << " header " << h + 1;
        if (!header) return h - 1;
        EXPECT_EQ(app_hash, *header) << "validator " << i << " height " << h;
        if (first_app.empty()) first_app = app_hash;
        EXPECT_EQ(app_hash, first_app) << "validator " << i << " diverges at height " << h;
      }
    }
    return up_to;
  }

  int64_t MinHeight(const std::vector<int>& which) {
    int64_t m = INT64_MAX;
    for (int i : which) m = std::min(m, AppHeight(i));
    return m;
  }

  std::string dir_;
  std::unique_ptr<LocalNetwork> net_;
};

chain::v1::Msg Send(const std::string& from, const std::string& to, uint64_t amount) {
  chain::v1::Msg m;
  m.mutable_send()->set_from_address(from);
  m.mutable_send()->set_to_address(to);
  m.mutable_send()->set_amount(amount);
  return m;
}

TEST_F(CometNetwork, ScenarioSameBalancesAndAppHashOnEveryValidator) {
  const std::string alice = KeyAddress("alice"), authority = KeyAddress("authority");
  auto user = seal::AccountPrivateKey::Generate();
  const std::string user_addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(user.public_key()));
  const uint64_t alice_before = Balance(0, alice);
  auto params = RpcOf(0).Query("/params");
  ASSERT_TRUE(params.has_value());
  ASSERT_EQ((*params)["min_tx_fee"], "0");  // fees are 0, so balances below need no proposer bookkeeping

  // 1. Fund a user through validator 1.
  json r1 = SendTx(1, Key("alice"), {Send(alice, user_addr, 5'000'000)});
  ASSERT_EQ(r1["code"], 0) << r1.dump();
  // 2. Register a release (authority) through validator 2.
  chain::v1::Msg reg;
  reg.mutable_register_release()->set_authority(authority);
  auto* rel = reg.mutable_register_release()->mutable_release();
  rel->set_release_id("rel-1");
  rel->set_platform("tdx");
  auto* ms = rel->add_measurements();
  ms->set_name("MRTD");
  ms->set_value(std::string(48, '\xA1'));
  rel->set_model_id("smollm2-135m-instruct");
  rel->set_model_digest(std::string(32, '\x5D'));
  rel->set_engine("builtin");
  rel->set_min_tcb("UpToDate");
  json r2 = SendTx(2, Key("authority"), {reg});
  ASSERT_EQ(r2["code"], 0) << r2.dump();
  // 3. The user opens an escrow through validator 3.
  chain::v1::Msg esc;
  esc.mutable_create_confidential_escrow()->set_creator(user_addr);
  esc.mutable_create_confidential_escrow()->set_amount(1'500'000);
  esc.mutable_create_confidential_escrow()->set_model_id("smollm2-135m-instruct");
  json r3 = SendTx(3, user, {esc});
  ASSERT_EQ(r3["code"], 0) << r3.dump();
  // 4. A refused tx (replayed sequence) gets its code in CheckTx, through validator 0.
  auto stale = chain::BuildSignedTx(Key("alice"), kChainId, 0, 0, {Send(alice, user_addr, 1)});
  ASSERT_TRUE(stale.ok());
  auto refused = RpcOf(0).BroadcastSync(*stale);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ((*refused)["code"], static_cast<int>(ErrorCode::kReplay));
  EXPECT_EQ((*refused)["codespace"], "replay");

  // Wait until every app has committed the escrow's block, then read the state from each validator.
  const int64_t escrow_height = r3["height"].get<int64_t>();
  for (int i = 0; i < kValidators; ++i) ASSERT_TRUE(WaitHeight(i, escrow_height + 2, std::chrono::seconds(30)));
  for (int i = 0; i < kValidators; ++i) {
    SCOPED_TRACE("validator " + std::to_string(i));
    EXPECT_EQ(Balance(i, alice), alice_before - 5'000'000);
    EXPECT_EQ(Balance(i, user_addr), 5'000'000u - 1'500'000u);
    auto escrows = RpcOf(i).Query("/escrows?creator=" + user_addr);
    ASSERT_TRUE(escrows.has_value());
    ASSERT_EQ(escrows->size(), 1u);
    EXPECT_EQ((*escrows)[0]["amount"], "1500000");
    auto release = RpcOf(i).Query("/releases/rel-1");
    ASSERT_TRUE(release.has_value());
    EXPECT_EQ((*release)["release"]["model_id"], "smollm2-135m-instruct");
  }
  const int64_t compared = ExpectSameAppHashes({0, 1, 2, 3}, escrow_height + 1);
  EXPECT_GE(compared, escrow_height + 1);
}

TEST_F(CometNetwork, KillOneValidatorOthersContinueAndItCatchesUp) {
  const std::string alice = KeyAddress("alice"), bob = KeyAddress("bob");
  ASSERT_TRUE(WaitHeight(0, 4, std::chrono::seconds(30)));
  // kill -9 validator 3's app, then its CometBFT.
  Val(3).app->Kill();
  Val(3).comet->Kill();
  const int64_t h0 = Height(0);
  // Three of four (75% of the voting power) keep committing, including a transfer.
  const uint64_t bob_before = Balance(0, bob);
  json r = SendTx(0, Key("alice"), {Send(alice, bob, 777)});
  ASSERT_EQ(r["code"], 0) << r.dump();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(WaitHeight(i, h0 + 8, std::chrono::seconds(60))) << Logs(i);
  EXPECT_EQ(Balance(1, bob), bob_before + 777);
  // Restart the pair: the handshake replays what the app lacks, block sync fetches the rest.
  StartApp(3);
  StartComet(3);
  const int64_t target = Height(0);
  ASSERT_TRUE(WaitHeight(3, target, std::chrono::seconds(90))) << Logs(3);
  auto end = Clock::now() + std::chrono::seconds(30);
  while (AppHeight(3) < target && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GE(AppHeight(3), target);
  EXPECT_EQ(Balance(3, bob), bob_before + 777);
  EXPECT_GE(ExpectSameAppHashes({0, 1, 2, 3}, target - 1), target - 1);
}

TEST_F(CometNetwork, CrashBetweenFinalizeBlockAndCommitReplaysAndConverges) {
  ASSERT_TRUE(WaitHeight(3, 2, std::chrono::seconds(30)));
  // Restart validator 3's app with the crash hook a few blocks ahead.
  Val(3).comet->Kill();
  Val(3).app->Kill();
  const int64_t crash_at = Height(0) + 4;
  StartApp(3, {"CMLN_ABCI_CRASH_BEFORE_COMMIT_AT_HEIGHT=" + std::to_string(crash_at)});
  StartComet(3);
  const std::optional<int> exited = Val(3).app->WaitExit(std::chrono::seconds(90));
  ASSERT_TRUE(exited.has_value()) << "app did not reach the crash point\n" << Logs(3);
  const int status = *exited;
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 86);
  Val(3).comet->Kill();  // CometBFT stops (or is stopped) when its app goes away
  // The store holds nothing of block crash_at: the restarted app announces crash_at - 1 (Info says the same).
  StartApp(3);
  std::regex last_line("\\{\"app_hash\":\"[0-9a-f]*\",\"height\":([0-9]+),\"listening\"[^\\n]*\\n?$");
  std::smatch m;
  std::string log;
  auto announce_end = Clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = Val(3).app->RunLog();
  } while (!std::regex_search(log, m, last_line) && Clock::now() < announce_end);
  ASSERT_TRUE(std::regex_search(log, m, last_line)) << log;
  EXPECT_EQ(std::stoll(m[1]), crash_at - 1);
  StartComet(3);
  const int64_t target = Height(0) + 2;
  ASSERT_TRUE(WaitHeight(3, target, std::chrono::seconds(90))) << Logs(3);
  auto end = Clock::now() + std::chrono::seconds(30);
  while (AppHeight(3) < target && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GE(AppHeight(3), target);
  EXPECT_GE(ExpectSameAppHashes({0, 1, 2, 3}, target - 1), target - 1);
}

TEST_F(CometNetwork, RestProxyServesCmlnTxAndQueryUnchanged) {
  // `cmln chain rest` in front of validator 2: the embedded node's REST API over abci_query/broadcast_tx_sync.
  ChildProcess proxy("rest", dir_ + "/rest.log");
  ASSERT_TRUE(proxy.Start({kCmln, "chain", "rest", "--comet", Val(2).rpc_url(), "--listen", "127.0.0.1:0"}).ok());
  const std::string url = proxy.WaitListening(std::chrono::seconds(10)).value_or("");
  ASSERT_FALSE(url.empty()) << proxy.RunLog();

  auto status = testing::RunProcess(kCmln + " query status --node " + url);
  ASSERT_EQ(status.exit_code, 0) << status.out;
  EXPECT_EQ(json::parse(status.out)["chain_id"], kChainId);
  const std::string bob = KeyAddress("bob");
  const uint64_t bob_before = Balance(0, bob);
  auto sent = testing::RunProcess(kCmln + " tx send --node " + url + " --key " + dir_ + "/chain/keys/alice.json --to " +
                                  bob + " --amount 4242");
  ASSERT_EQ(sent.exit_code, 0) << sent.out;
  json result = json::parse(sent.out);
  EXPECT_EQ(result["code"], 0);
  const int64_t h = result["height"].get<int64_t>();
  for (int i = 0; i < kValidators; ++i) ASSERT_TRUE(WaitHeight(i, h + 1, std::chrono::seconds(30)));
  for (int i = 0; i < kValidators; ++i) EXPECT_EQ(Balance(i, bob), bob_before + 4242) << "validator " << i;
  auto account = testing::RunProcess(kCmln + " query account " + bob + " --node " + url);
  ASSERT_EQ(account.exit_code, 0) << account.out;
  EXPECT_EQ(json::parse(account.out)["balance"], std::to_string(bob_before + 4242));
  // A refusal keeps the embedded node's shape: not_found for an unknown escrow, exit 1.
  auto missing = testing::RunProcess(kCmln + " query escrow 999 --node " + url);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("not_found"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace cmln::abci
