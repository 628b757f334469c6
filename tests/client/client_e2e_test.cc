// The client library against real processes on loopback: a `cmln chain start` devnet that accepts
// simulated TEEs and real `cmln node start` processes (tests/node/node_harness.h).
//   D3   failover: one of two nodes stopped mid-run; every request still succeeds with a verified receipt,
//        and after settlement the escrow was charged exactly the sum of the receipts (nothing lost, nothing
//        charged twice);
//   B4   a node restarted with new keys answers stale_key; the client re-attests once and succeeds;
//   B7   a network node whose listing was tampered with (bundle edited, release measurements not the
//        evidence's, record keys not the attested ones) — the client refuses that node even though the
//        chain REST API lists it, and serves from the other.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "client/client.h"
#include "node/node_harness.h"

namespace cmln::client {
namespace {

using namespace cmln::node::testing;

template <typename T>
ErrorCode CodeOf(const Result<T>& r) {
  return r.ok() ? ErrorCode::kOk : r.error().code();
}

// A user account funded by alice (its escrows are created by the client itself).
seal::AccountPrivateKey FundedUser(Devnet& net) {
  seal::AccountPrivateKey user = seal::AccountPrivateKey::Generate();
  const std::string addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(user.public_key()));
  EXPECT_EQ(CmlnJson("tx send --node " + net.url() + " --key " + net.KeyFile("alice") + " --to " + addr +
                     " --amount 10000000")["code"],
            0);
  return user;
}

std::unique_ptr<Client> MakeClient(const std::string& chain_url, seal::AccountPrivateKey user, int refresh_s = 1,
                                   uint64_t budget = 1000000, uint64_t escrow_amount = 200000,
                                   const std::string& relay_url = "") {
  ClientConfig c;
  c.chain_url = chain_url;
  c.relay_url = relay_url;
  c.trust.allow_simulated = true;
  c.trust.sim_trust_dir = Devnet::SharedSimPki();
  c.budget = budget;
  c.escrow_amount = escrow_amount;
  c.refresh_interval_s = refresh_s;
  c.connect_timeout_ms = 1000;
  c.read_timeout_s = 120;
  auto client = Client::Create(std::move(c), std::move(user));
  EXPECT_TRUE(client.ok()) << (client.ok() ? "" : client.error().ToString());
  return client.ok() ? std::move(*client) : nullptr;
}

// A loopback port free right now (the socket is closed again before the node binds it).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Waits until the chain lists `n` VERIFIED attestations of the tiny model.
void WaitVerified(Devnet& net, size_t n) {
  for (int i = 0; i < 600; ++i) {
    size_t verified = 0;
    for (const auto& a : net.Get(std::string("/attestations?model=") + kTinyModelId)) {
      if (a.value("status", "") == "ATTESTATION_STATUS_VERIFIED") ++verified;
    }
    if (verified >= n) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "attestations not VERIFIED in time";
}

TEST(ClientE2e, D3_FailoverMidRunNoQuotaLostOrDoubleCharged) {
  Devnet net(::testing::TempDir() + "/client_e2e_failover");
  ASSERT_FALSE(net.url().empty());
  NodeProcess a(net.dir(), "node-a", net.NodeConfig("node-a"));
  NodeProcess b(net.dir(), "node-b", net.NodeConfig("node-b"));
  ASSERT_FALSE(a.url().empty());
  ASSERT_FALSE(b.url().empty());
  WaitVerified(net, 2);
  auto client = MakeClient(net.url(), FundedUser(net));
  ASSERT_NE(client, nullptr);
  auto nodes = client->VerifiedNodes(kTinyModelId);
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 2u);

  std::map<std::string, int> served;
  std::map<uint64_t, uint64_t> receipts_cost;  // escrow id -> sum of receipt costs
  std::atomic<bool> stopped{false};
  std::thread stopper;
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    if (i == 3) {
      // Stop node-a while requests keep coming (mid-run, not between runs).
      stopper = std::thread([&] {
        EXPECT_EQ(a.child().Terminate(), 0);
        stopped = true;
      });
    }
    const bool stream = i % 2 == 1;
    std::string streamed;
    StreamSink sink;
    sink.on_content = [&](ByteView c) { streamed += std::string(AsChars(c)); };
    auto r = client->Complete(AsBytes(ChatRequestJson("request number " + std::to_string(i), stream)), &sink);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    ASSERT_EQ(r->answer.status, 200) << AsChars(r->answer.content);
    ASSERT_TRUE(r->receipt.has_value());
    EXPECT_EQ(r->receipt->node_id, r->node_id);
    if (stream) {
      EXPECT_EQ(streamed, std::string(AsChars(r->answer.content)));  // the caller saw every byte
    }
    ++served[r->node_id];
    receipts_cost[r->escrow_id] += r->receipt->cost;
    if (stopped) {
      EXPECT_EQ(r->node_id, "node-b");
    }
  }
  stopper.join();
  EXPECT_GE(served["node-a"], 1);  // both served before the stop (round robin)
  EXPECT_GE(served["node-b"], 1);

  // Settlement: each escrow ends up charged exactly what the receipts say.
  for (const auto& [escrow, cost] : receipts_cost) {
    json e;
    for (int i = 0; i < 600; ++i) {
      e = net.Get("/escrows/" + std::to_string(escrow));
      if (U64(e, "settled") >= cost) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // anything more would show up now
    e = net.Get("/escrows/" + std::to_string(escrow));
    EXPECT_EQ(U64(e, "settled"), cost) << e.dump();
    EXPECT_EQ(U64(e, "remaining"), U64(e, "amount") - cost) << e.dump();
  }
  EXPECT_EQ(client->created_escrows().size(), receipts_cost.size());
}

TEST(ClientE2e, B4_StaleKeyReattestsOnceAndSucceeds) {
  Devnet net(::testing::TempDir() + "/client_e2e_stale");
  ASSERT_FALSE(net.url().empty());
  // A fixed port, so the restarted node is found at the same endpoint with new keys.
  const int port = FreePort();
  json config = net.NodeConfig("node-a");
  config["listen_port"] = port;
  NodeProcess a(net.dir(), "node-a", config);
  ASSERT_FALSE(a.url().empty());
  WaitVerified(net, 1);
  // The listing is not re-read on its own during the test: only the stale key makes the client re-attest.
  auto client = MakeClient(net.url(), FundedUser(net), /*refresh_s=*/3600);
  ASSERT_NE(client, nullptr);
  auto first = client->Complete(AsBytes(ChatRequestJson("before the restart", false)));
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_EQ(first->answer.status, 200);
  const auto old_nodes = client->VerifiedNodes(kTinyModelId);
  ASSERT_TRUE(old_nodes.ok() && old_nodes->size() == 1u);

  ASSERT_EQ(a.child().Terminate(), 0);
  a.Start();  // new boot: new HPKE and signing keys, a new key id, re-attested on chain
  ASSERT_FALSE(a.url().empty());
  auto second = client->Complete(AsBytes(ChatRequestJson("after the restart", true)));
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  ASSERT_EQ(second->answer.status, 200) << AsChars(second->answer.content);
  EXPECT_EQ(second->node_id, "node-a");
  EXPECT_EQ(second->attempts, 2);  // stale_key, then the re-attested key
  const auto new_nodes = client->VerifiedNodes(kTinyModelId);  // the re-attested listing, cached
  ASSERT_TRUE(new_nodes.ok() && new_nodes->size() == 1u);
  EXPECT_NE(new_nodes->front().key_config, old_nodes->front().key_config);
  // The receipt verified under the new attested signing key.
  EXPECT_TRUE(seal::VerifyReceiptSignature(*second->receipt, new_nodes->front().sign_public_key).ok());
}

// IP privacy (issue 8): with a relay configured, every encapsulated request goes through the network
// node's Oblivious Relay (POST /v1/relay/{node_id}) instead of straight to the node; the answers (one-shot
// and chunked) still decrypt and their receipts verify. The same client with a relay that is down reaches
// nothing, though the node itself is up: the client never falls back to a direct connection.
TEST(ClientE2e, RelayedCompletionVerifies) {
  Devnet net(::testing::TempDir() + "/client_e2e_relay");
  ASSERT_FALSE(net.url().empty());
  NodeProcess a(net.dir(), "node-a", net.NodeConfig("node-a"));
  ASSERT_FALSE(a.url().empty());
  WaitVerified(net, 1);
  auto relayed = MakeClient(net.url(), FundedUser(net), 1, 1000000, 200000, /*relay_url=*/net.url());
  ASSERT_NE(relayed, nullptr);
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "chunked OHTTP" : "one-shot OHTTP");
    auto r = relayed->Complete(AsBytes(ChatRequestJson("through the relay", stream)));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    ASSERT_EQ(r->answer.status, 200) << AsChars(r->answer.content);
    EXPECT_EQ(r->node_id, "node-a");
    ASSERT_TRUE(r->receipt.has_value());
    EXPECT_GT(r->receipt->completion_tokens, 0u);
  }
  auto unreachable = MakeClient(net.url(), FundedUser(net), 1, 1000000, 200000,
                                /*relay_url=*/"http://127.0.0.1:" + std::to_string(FreePort()));
  ASSERT_NE(unreachable, nullptr);
  auto r = unreachable->Complete(AsBytes(ChatRequestJson("no way through", false)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kIoError) << r.error().ToString();
}

// Quota: small escrows run out; the client opens the next one itself (top-up) and retries, until the budget
// is spent — then the node's quota_exhausted answer is what the caller gets. Every escrow settles to exactly
// the receipts issued against it.
TEST(ClientE2e, EscrowTopUpWithinBudget) {
  Devnet net(::testing::TempDir() + "/client_e2e_topup");
  ASSERT_FALSE(net.url().empty());
  NodeProcess a(net.dir(), "node-a", net.NodeConfig("node-a"));
  ASSERT_FALSE(a.url().empty());
  WaitVerified(net, 1);
  constexpr uint64_t kBudget = 400, kEscrow = 120;
  auto client = MakeClient(net.url(), FundedUser(net), 1, kBudget, kEscrow);
  ASSERT_NE(client, nullptr);
  std::map<uint64_t, uint64_t> receipts_cost;
  bool exhausted = false;
  for (int i = 0; i < 20 && !exhausted; ++i) {
    auto r = client->Complete(AsBytes(ChatRequestJson("request " + std::to_string(i), i % 2 == 0)));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    if (r->answer.status == 402) {
      EXPECT_NE(std::string(AsChars(r->answer.content)).find("quota_exhausted"), std::string::npos);
      exhausted = true;
      break;
    }
    ASSERT_EQ(r->answer.status, 200) << AsChars(r->answer.content);
    receipts_cost[r->escrow_id] += r->receipt->cost;
  }
  EXPECT_TRUE(exhausted);
  EXPECT_GE(client->created_escrows().size(), 2u);  // at least one top-up happened
  EXPECT_LE(client->locked(), kBudget);
  EXPECT_EQ(client->locked(), kEscrow * client->created_escrows().size());
  for (const auto& [escrow, cost] : receipts_cost) {
    json e;
    for (int i = 0; i < 600; ++i) {
      e = net.Get("/escrows/" + std::to_string(escrow));
      if (U64(e, "settled") >= cost) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(U64(e, "settled"), cost) << e.dump();
  }
}

// A network node (the chain REST API the user talks to) that lies about node-b. Everything else passes
// through to the real chain.
class LyingNetworkNode {
 public:
  enum class Lie { kTamperedBundle, kUnapprovedMeasurement, kRecordKeyMismatch };

  LyingNetworkNode(std::string chain_url, Lie lie) : chain_url_(std::move(chain_url)), lie_(lie) {
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::string target = req.path;
      if (!req.params.empty()) {
        target += "?";
        for (const auto& [k, v] : req.params) target += k + "=" + v + "&";
        target.pop_back();
      }
      httplib::Client up(chain_url_);
      auto r = up.Get(target.c_str());
      if (!r) {
        res.status = 503;
        return;
      }
      res.status = r->status;
      std::string body = r->body;
      auto j = json::parse(body, nullptr, false);
      if (r->status == 200 && j.is_array() && req.path == "/attestations") body = RewriteAttestations(j).dump();
      if (r->status == 200 && j.is_array() && req.path == "/releases") body = RewriteReleases(j).dump();
      res.set_content(body, "application/json");
    });
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      httplib::Client up(chain_url_);
      auto r = up.Post(req.path.c_str(), req.body, "application/json");
      res.status = r ? r->status : 503;
      res.set_content(r ? r->body : "", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LyingNetworkNode() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  static void Rehash(json& rec, const std::string& bundle_text) {
    rec["bundle"] = Base64Encode(AsBytes(bundle_text));
    rec["bundle_hash"] = HexEncode(seal::Sha256(AsBytes(bundle_text)));
  }

  json RewriteAttestations(json list) const {
    for (auto& rec : list) {
      if (rec.value("node_id", "") != "node-b") continue;
      const Bytes bundle_bytes = *Base64Decode(rec["bundle"].get<std::string>());
      json bundle = json::parse(AsChars(bundle_bytes));
      if (lie_ == Lie::kTamperedBundle) {
        // Another signing key in the bundle and the record, hash recomputed: only the evidence disagrees.
        auto key = seal::Ed25519PrivateKey::Generate();
        bundle["sign_pk"] = HexEncode(key.public_key());
        rec["sign_public_key"] = bundle["sign_pk"];
        Rehash(rec, bundle.dump());
      } else if (lie_ == Lie::kUnapprovedMeasurement) {
        // The bundle claims a release whose measurements are not the ones its evidence reports.
        bundle["release_id"] = "rel-unapproved";
        rec["release_id"] = "rel-unapproved";
        Rehash(rec, bundle.dump());
      } else {
        // The record announces an HPKE key other than the attested one.
        seal::ohttp::KeyConfig kc;
        kc.key_id = 9;
        kc.kem_id = 0x0020;
        auto kp = seal::X25519Generate();
        kc.public_key = Bytes(kp.public_key.begin(), kp.public_key.end());
        kc.algorithms = {{0x0001, 0x0001}};
        rec["ohttp_key_config"] = HexEncode(*seal::ohttp::EncodeKeyConfig(kc));
      }
    }
    return list;
  }

  json RewriteReleases(json list) const {
    if (lie_ != Lie::kUnapprovedMeasurement || list.empty()) return list;
    json other = list[0];
    other["release"]["release_id"] = "rel-unapproved";
    for (auto& m : other["release"]["measurements"]) m["value"] = std::string(96, 'e');
    list.push_back(other);
    return list;
  }

  std::string chain_url_;
  Lie lie_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(ClientE2e, B7_NodeRefusedByClientEvenIfChainListsIt) {
  Devnet net(::testing::TempDir() + "/client_e2e_b7");
  ASSERT_FALSE(net.url().empty());
  NodeProcess a(net.dir(), "node-a", net.NodeConfig("node-a"));
  NodeProcess b(net.dir(), "node-b", net.NodeConfig("node-b"));
  ASSERT_FALSE(a.url().empty());
  ASSERT_FALSE(b.url().empty());
  WaitVerified(net, 2);
  // The real chain lists both as VERIFIED.
  auto honest = MakeClient(net.url(), FundedUser(net));
  ASSERT_NE(honest, nullptr);
  ASSERT_EQ(honest->VerifiedNodes(kTinyModelId)->size(), 2u);

  const std::vector<std::pair<LyingNetworkNode::Lie, ErrorCode>> lies = {
      {LyingNetworkNode::Lie::kTamperedBundle, ErrorCode::kBindingMismatch},
      {LyingNetworkNode::Lie::kUnapprovedMeasurement, ErrorCode::kMeasurementNotApproved},
      {LyingNetworkNode::Lie::kRecordKeyMismatch, ErrorCode::kBindingMismatch},
  };
  for (const auto& [lie, code] : lies) {
    SCOPED_TRACE("lie " + std::to_string(static_cast<int>(lie)));
    LyingNetworkNode liar(net.url(), lie);
    auto client = MakeClient(liar.url(), FundedUser(net));
    ASSERT_NE(client, nullptr);
    auto nodes = client->VerifiedNodes(kTinyModelId);
    ASSERT_TRUE(nodes.ok());
    ASSERT_EQ(nodes->size(), 1u);
    EXPECT_EQ(nodes->front().node_id, "node-a");
    auto refused = client->RefusedNodes(kTinyModelId);
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].first, "node-b");
    EXPECT_EQ(refused[0].second.code(), code) << refused[0].second.ToString();
    for (int i = 0; i < 3; ++i) {  // round robin would reach node-b: it is never sent anything
      auto r = client->Complete(AsBytes(ChatRequestJson("hello " + std::to_string(i), i == 1)));
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      EXPECT_EQ(r->answer.status, 200);
      EXPECT_EQ(r->node_id, "node-a");
    }
  }
}

}  // namespace
}  // namespace cmln::client
