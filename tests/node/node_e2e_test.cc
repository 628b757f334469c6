// The Confidential MLNode against real processes (issue 7 "Must show"): `cmln chain start` on a devnet
// initialized with --allow-simulated-tee, a sim-tdx release for a tiny GGUF model, and `cmln node start`
// with the built-in engine. The client side is built here from the seal primitives, so these tests see
// exactly the bytes on the wire. Each TEST runs in its own process (ctest), with its own devnet.
#include <gtest/gtest.h>

#include "chain/usage_batch.h"
#include "node/node_harness.h"

namespace cmln::node::testing {
namespace {

constexpr const char* kNodeId = "node-e2e";

class NodeE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    devnet_ = std::make_unique<Devnet>(::testing::TempDir() + "/node_e2e_" + name);
    ASSERT_FALSE(devnet_->url().empty());
    chain_id_ = devnet_->ChainId();
    node_ = std::make_unique<NodeProcess>(devnet_->dir(), kNodeId, devnet_->NodeConfig(kNodeId));
    ASSERT_FALSE(node_->url().empty());
    config_ = FetchKeyConfig(node_->url());
    auto att = devnet_->Get(std::string("/attestations?node=") + kNodeId);
    ASSERT_EQ(att["status"], "ATTESTATION_STATUS_VERIFIED");
    sign_pk_ = *HexDecode(att["sign_public_key"].get<std::string>());
  }

  // A signed, sealed non-streamed request for `escrow` by `user`.
  ChatResult Ask(const seal::AccountPrivateKey& user, uint64_t escrow, const std::string& prompt = "hello world") {
    const std::string content = ChatRequestJson(prompt, false);
    return PostOhttp(node_->url(), config_, InnerRequest(content, AuthorizationHeader(user, chain_id_, kNodeId, escrow, content)));
  }
  static std::string ErrorCodeOf(const std::string& body) {
    auto j = json::parse(body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }

  std::unique_ptr<Devnet> devnet_;
  std::unique_ptr<NodeProcess> node_;
  std::string chain_id_;
  seal::ohttp::KeyConfig config_;
  Bytes sign_pk_;
};

// The attestation the node serves is the one the chain verified, and binds the key config it serves.
TEST_F(NodeE2e, ServesTheAttestedBundleAndKeyConfig) {
  httplib::Client c(node_->url());
  auto bundle = c.Get("/v1/attestation");
  ASSERT_TRUE(bundle && bundle->status == 200);
  auto rec = devnet_->Get(std::string("/attestations?node=") + kNodeId);
  EXPECT_EQ(Base64Encode(AsBytes(bundle->body)), rec["bundle"]);
  EXPECT_EQ(rec["ohttp_key_config"], HexEncode(*seal::ohttp::EncodeKeyConfig(config_)));
  EXPECT_EQ(rec["participant"], devnet_->Address("host"));
  EXPECT_EQ(rec["simulated"], true);
  auto health = json::parse(c.Get("/health")->body);
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["node_id"], kNodeId);
  EXPECT_EQ(health["key_id"], config_.key_id);
  // The envelope v1 identity names the same X25519 key.
  auto identity = seal::envelope_v1::DecodeIdentity(c.Get("/api/v1/encrypted/identity")->body);
  ASSERT_TRUE(identity.ok()) << identity.error().ToString();
  EXPECT_EQ(ToBytes(identity->public_key), config_.public_key);
}

// Non-streamed, streamed (chunked OHTTP) and envelope v1 completions; each receipt verifies under the
// attested sign_pk and matches the answer; after settlement the escrow and the host's earnings moved by
// exactly the sum of the receipts' costs.
TEST_F(NodeE2e, EncryptedCompletionsCarryVerifiableReceiptsAndSettleExactly) {
  const auto user = seal::AccountPrivateKey::Generate();
  const uint64_t escrow = devnet_->NewUserWithEscrow(user, 100000, "user");
  const std::string host = devnet_->Address("host");
  const uint64_t earnings_before = U64(devnet_->Get("/earnings/" + host), "pending");
  uint64_t total_cost = 0;
  uint64_t last_sequence = 0;
  auto check = [&](const Bytes& encoded, const std::string& content, const Bytes& response_bytes) {
    seal::Receipt r = CheckReceipt(encoded, sign_pk_);
    EXPECT_EQ(r.chain_id, chain_id_);
    EXPECT_EQ(r.node_id, kNodeId);
    EXPECT_EQ(r.escrow_id, escrow);
    EXPECT_EQ(r.requester_key_hash, seal::RequesterKeyHash(user.public_key()));
    EXPECT_EQ(r.request_digest, seal::Sha256(AsBytes(content)));
    EXPECT_EQ(r.response_digest, seal::Sha256(response_bytes));
    EXPECT_EQ(r.cost, (r.prompt_tokens + r.completion_tokens) * kTinyPrice);
    EXPECT_GT(r.sequence, last_sequence);
    last_sequence = r.sequence;
    total_cost += r.cost;
    return r;
  };

  // 1. Non-streamed over OHTTP.
  const std::string content = ChatRequestJson("hello world", false);
  ChatResult plain = PostOhttp(node_->url(), config_, InnerRequest(content, AuthorizationHeader(user, chain_id_, kNodeId, escrow, content)));
  ASSERT_EQ(plain.outer_status, 200) << plain.outer_body;
  ASSERT_EQ(plain.status, 200) << plain.content;
  EXPECT_FALSE(plain.indeterminate);
  ASSERT_TRUE(plain.receipt.has_value());
  auto completion = json::parse(plain.content);
  EXPECT_EQ(completion["object"], "chat.completion");
  EXPECT_EQ(completion["model"], kTinyModelId);
  seal::Receipt r1 = check(*plain.receipt, content, ToBytes(plain.content));
  EXPECT_EQ(r1.prompt_tokens, completion["usage"]["prompt_tokens"].get<uint64_t>());
  EXPECT_EQ(r1.completion_tokens, completion["usage"]["completion_tokens"].get<uint64_t>());
  EXPECT_GE(r1.completion_tokens, 1u);

  // 2. Streamed over chunked OHTTP: every SSE event arrives as its own sealed chunk, the receipt in the trailer.
  const std::string stream_content = ChatRequestJson("hello world", true);
  ChatResult streamed = PostChunkedOhttp(
      node_->url(), config_, InnerRequest(stream_content, AuthorizationHeader(user, chain_id_, kNodeId, escrow, stream_content)));
  ASSERT_EQ(streamed.outer_status, 200) << streamed.outer_body;
  ASSERT_EQ(streamed.status, 200) << streamed.content;
  EXPECT_TRUE(streamed.indeterminate);
  ASSERT_TRUE(streamed.receipt.has_value());
  // Events: role, >= 1 content, finish, usage, [DONE]; head chunk + one chunk per event before the final one.
  size_t events = 0;
  json usage;
  for (size_t at = 0; (at = streamed.content.find("data: ", at)) != std::string::npos; at += 6) {
    ++events;
    const size_t end = streamed.content.find("\n\n", at);
    auto ev = json::parse(streamed.content.substr(at + 6, end - at - 6), nullptr, false);
    if (ev.is_object() && ev.contains("usage") && ev["usage"].is_object()) usage = ev["usage"];
  }
  EXPECT_GE(events, 4u);  // role, content (unless the model ends at once), finish, usage, [DONE]
  EXPECT_EQ(streamed.sealed_chunks, events + 1);
  EXPECT_NE(streamed.content.find("data: [DONE]\n\n"), std::string::npos);
  seal::Receipt r2 = check(*streamed.receipt, stream_content, ToBytes(streamed.content));
  ASSERT_TRUE(usage.is_object());
  EXPECT_EQ(r2.prompt_tokens, usage["prompt_tokens"].get<uint64_t>());
  EXPECT_EQ(r2.completion_tokens, usage["completion_tokens"].get<uint64_t>());

  // 3. A non-streamed request over chunked OHTTP: one known-length BHTTP response in the final chunk.
  // (Each request has its own content: the same content, escrow and second is the same authorization.)
  const std::string content3 = ChatRequestJson("hello again", false);
  ChatResult chunked_plain = PostChunkedOhttp(
      node_->url(), config_, InnerRequest(content3, AuthorizationHeader(user, chain_id_, kNodeId, escrow, content3)));
  ASSERT_EQ(chunked_plain.status, 200) << chunked_plain.content;
  EXPECT_FALSE(chunked_plain.indeterminate);
  ASSERT_TRUE(chunked_plain.receipt.has_value());
  check(*chunked_plain.receipt, content3, ToBytes(chunked_plain.content));

  // 4. Envelope v1: the receipt spliced into the JSON; its digest covers the JSON without it.
  {
    const std::string content4 = ChatRequestJson("hello envelope", false);
    auto identity = seal::envelope_v1::DecodeIdentity(httplib::Client(node_->url()).Get("/api/v1/encrypted/identity")->body);
    ASSERT_TRUE(identity.ok());
    auto sealed = seal::envelope_v1::SealRequest(identity->public_key, "session-1", 1, AsBytes(content4));
    ASSERT_TRUE(sealed.ok());
    auto [status, body] = PostRaw(node_->url(), "/api/v1/encrypted/chat/completions", sealed->json, "application/json",
                                  {{"Gonka-Authorization", AuthorizationHeader(user, chain_id_, kNodeId, escrow, content4)}});
    ASSERT_EQ(status, 200) << body;
    auto opened = seal::envelope_v1::OpenResponse(sealed->context, body);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    std::string text(AsChars(*opened));
    auto j = json::parse(text);
    ASSERT_TRUE(j.contains("gonka_receipt"));
    const std::string member = ",\"gonka_receipt\":\"" + j["gonka_receipt"].get<std::string>() + "\"";
    const size_t at = text.find(member);
    ASSERT_NE(at, std::string::npos);
    const std::string without = text.substr(0, at) + text.substr(at + member.size());
    check(*Base64Decode(j["gonka_receipt"].get<std::string>()), content4, ToBytes(without));
  }

  // 5. Settlement: the batches reach the chain; escrow and earnings move by exactly the receipts' costs.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  json esc;
  while (std::chrono::steady_clock::now() < deadline) {
    esc = devnet_->Get("/escrows/" + std::to_string(escrow));
    if (U64(esc, "settled") >= total_cost) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(U64(esc, "settled"), total_cost);
  EXPECT_EQ(U64(esc, "remaining"), 100000 - total_cost);
  EXPECT_EQ(U64(devnet_->Get("/earnings/" + host), "pending") - earnings_before, total_cost);
  auto att = devnet_->Get(std::string("/attestations?node=") + kNodeId);
  EXPECT_GE(U64(att, "last_batch_seq"), 1u);
  // No batch is left in the journal once settled.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(devnet_->dir() + "/" + kNodeId + "-data/batches")) files += e.is_regular_file();
  EXPECT_EQ(files, 0u);
  // The metrics count what happened and carry no content.
  auto metrics = httplib::Client(node_->url()).Get("/metrics")->body;
  EXPECT_NE(metrics.find("cmln_node_requests_total{transport=\"ohttp\",outcome=\"ok\"} 1"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("hello"), std::string::npos);
  EXPECT_EQ(node_->Log().find("hello world"), std::string::npos);
}

// B1: plaintext chat requests get 403 plaintext_refused and never reach the engine.
TEST_F(NodeE2e, B1_PlaintextRequestRefused) {
  for (const char* path : {"/v1/chat/completions", "/v1/completions", "/chat/completions"}) {
    auto [status, body] = PostRaw(node_->url(), path, ChatRequestJson("hello", false), "application/json");
    EXPECT_EQ(status, 403) << path;
    EXPECT_EQ(ErrorCodeOf(body), "plaintext_refused") << path;
  }
  auto metrics = httplib::Client(node_->url()).Get("/metrics")->body;
  EXPECT_EQ(metrics.find("cmln_node_tokens_total{kind=\"prompt\"} 0") != std::string::npos, true) << metrics;
}

// B2: any changed byte of the encapsulated request gets one generic error (no oracle); a changed key id
// is an unknown key (stale_key); a wrong media type is 415.
TEST_F(NodeE2e, B2_TamperedCiphertextRejected) {
  const auto user = seal::AccountPrivateKey::Generate();
  const uint64_t escrow = devnet_->NewUserWithEscrow(user, 10000, "user");
  const std::string content = ChatRequestJson("hi", false);
  const Bytes inner = InnerRequest(content, AuthorizationHeader(user, chain_id_, kNodeId, escrow, content));
  std::set<std::string> bodies;
  // Offsets: in the encapsulated key (10), in the ciphertext (60), the last tag byte, a suite id byte (4).
  for (size_t which : {10u, 60u, 100000u, 4u}) {
    ChatResult r = PostOhttp(node_->url(), config_, inner, [&](Bytes& b) {
      const size_t at = which == 100000u ? b.size() - 1 : which;
      b[at] ^= 0x01;
    });
    EXPECT_EQ(r.outer_status, 400) << which;
    EXPECT_EQ(ErrorCodeOf(r.outer_body), "bad_encapsulation") << which;
    bodies.insert(r.outer_body);
  }
  EXPECT_EQ(bodies.size(), 1u);  // the same bytes whatever failed
  ChatResult truncated = PostOhttp(node_->url(), config_, inner, [](Bytes& b) { b.resize(20); });
  EXPECT_EQ(truncated.outer_status, 400);
  EXPECT_EQ(ErrorCodeOf(truncated.outer_body), "bad_encapsulation");
  ChatResult key_id = PostOhttp(node_->url(), config_, inner, [](Bytes& b) { b[0] ^= 0x80; });
  EXPECT_EQ(key_id.outer_status, 400);
  EXPECT_EQ(json::parse(key_id.outer_body)["code"], "stale_key");
  auto [status, body] = PostRaw(node_->url(), "/v1/ohttp", "x", "application/json");
  EXPECT_EQ(status, 415);
  // Nothing was charged.
  EXPECT_EQ(U64(devnet_->Get("/escrows/" + std::to_string(escrow)), "remaining"), 10000u);
  // The precise reason is in the local log, without content.
  const std::string log = node_->Log();
  EXPECT_NE(log.find("decrypt_failed"), std::string::npos);
  EXPECT_EQ(log.find("\"hi\""), std::string::npos);
}

// B3: the same encapsulated request sent twice: answered once, then replayed_request (inside the
// encryption, so the replayer cannot read even that; the node's log says it).
TEST_F(NodeE2e, B3_ReplayedRequestRefused) {
  const auto user = seal::AccountPrivateKey::Generate();
  const uint64_t escrow = devnet_->NewUserWithEscrow(user, 10000, "user");
  const std::string content = ChatRequestJson("hi", false);
  const Bytes inner = InnerRequest(content, AuthorizationHeader(user, chain_id_, kNodeId, escrow, content));
  std::optional<Bytes> sent;
  ChatResult first = PostOhttp(node_->url(), config_, inner, nullptr, &sent);
  ASSERT_EQ(first.status, 200);
  // A fresh encapsulation of the same inner request (the replayer re-encrypts): refused, readable by us.
  ChatResult again = PostOhttp(node_->url(), config_, inner);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(ErrorCodeOf(again.content), "replayed_request");
  EXPECT_FALSE(again.receipt.has_value());
  // The identical bytes: 200 outer (an encapsulated answer), a refusal inside, nothing charged twice.
  auto [status, body] = PostRaw(node_->url(), "/v1/ohttp", std::string(AsChars(*sent)), "message/ohttp-req");
  EXPECT_EQ(status, 200);
  const std::string log = node_->Log();
  size_t replays = 0;
  for (size_t at = 0; (at = log.find("\"code\":\"replayed_request\"", at)) != std::string::npos; ++at) ++replays;
  EXPECT_EQ(replays, 2u);
  auto metrics = httplib::Client(node_->url()).Get("/metrics")->body;
  EXPECT_NE(metrics.find("outcome=\"ok\"} 1\n"), std::string::npos) << metrics;
}

// Quota: a reservation (prompt_tokens + max_tokens) x price above remaining − unsettled − in-flight is 402.
TEST_F(NodeE2e, QuotaExhaustedRefused402) {
  const auto user = seal::AccountPrivateKey::Generate();
  const std::string addr = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(user.public_key()));
  const uint64_t big = devnet_->NewUserWithEscrow(user, 100000, "user");
  // The prompt's token count (template applied), from a first receipt; max_tokens is 6 (ChatRequestJson).
  ChatResult probe = Ask(user, big, "hi");
  ASSERT_EQ(probe.status, 200) << probe.content;
  const seal::Receipt r = CheckReceipt(*probe.receipt, sign_pk_);
  const uint64_t reservation = (r.prompt_tokens + 6) * kTinyPrice;
  // One ngonka short of the reservation: refused before anything runs.
  const uint64_t short_escrow = devnet_->CreateEscrow(devnet_->dir() + "/user.json", addr, reservation - 1);
  ChatResult refused = Ask(user, short_escrow, "ha");
  EXPECT_EQ(refused.status, 402);
  EXPECT_EQ(ErrorCodeOf(refused.content), "quota_exhausted");
  EXPECT_FALSE(refused.receipt.has_value());
  // Exactly the reservation: served; the next one does not fit beside the first's unsettled cost.
  const uint64_t exact = devnet_->CreateEscrow(devnet_->dir() + "/user.json", addr, reservation);
  ChatResult ok = Ask(user, exact, "hi");
  ASSERT_EQ(ok.status, 200) << ok.content;
  ChatResult over = Ask(user, exact, "ho");  // as many tokens as "hi"; another content, so not a replay
  EXPECT_EQ(over.status, 402);
  EXPECT_EQ(ErrorCodeOf(over.content), "quota_exhausted");
  // Unknown escrow.
  ChatResult missing = Ask(user, 999999);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCodeOf(missing.content), "escrow_not_found");
}

// C1: a request for the user's escrow signed by someone else, by nobody, or with a broken signature.
TEST_F(NodeE2e, C1_RequestSignedBySomeoneElseForUsersEscrowRefused) {
  const auto user = seal::AccountPrivateKey::Generate();
  const auto mallory = seal::AccountPrivateKey::Generate();
  const uint64_t escrow = devnet_->NewUserWithEscrow(user, 10000, "user");
  devnet_->NewUserWithEscrow(mallory, 10000, "mallory");  // mallory has an account and a key on chain
  ChatResult other = Ask(mallory, escrow);
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(ErrorCodeOf(other.content), "not_escrow_owner");
  const std::string content = ChatRequestJson("hi", false);
  ChatResult nobody = PostOhttp(node_->url(), config_, InnerRequest(content, ""));
  EXPECT_EQ(nobody.status, 401);
  EXPECT_EQ(ErrorCodeOf(nobody.content), "bad_authorization");
  // The user's authorization with one signature bit flipped.
  auto auth = *Base64Decode(AuthorizationHeader(user, chain_id_, kNodeId, escrow, content));
  auth[auth.size() - 5] ^= 0x01;
  ChatResult forged = PostOhttp(node_->url(), config_, InnerRequest(content, Base64Encode(auth)));
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(ErrorCodeOf(forged.content), "bad_signature");
  // Signed for another content (digest), another node, or an old timestamp.
  ChatResult digest = PostOhttp(node_->url(), config_,
                                InnerRequest(content, AuthorizationHeader(user, chain_id_, kNodeId, escrow, content + " ")));
  EXPECT_EQ(ErrorCodeOf(digest.content), "digest_mismatch");
  ChatResult node = PostOhttp(node_->url(), config_,
                              InnerRequest(content, AuthorizationHeader(user, chain_id_, "node-other", escrow, content)));
  EXPECT_EQ(ErrorCodeOf(node.content), "wrong_node");
  ChatResult stale = PostOhttp(
      node_->url(), config_, InnerRequest(content, AuthorizationHeader(user, chain_id_, kNodeId, escrow, content, UnixNow() - 3600)));
  EXPECT_EQ(ErrorCodeOf(stale.content), "stale_timestamp");
  EXPECT_EQ(U64(devnet_->Get("/escrows/" + std::to_string(escrow)), "remaining"), 10000u);
}

// D4: a body over max_request_bytes (1 MiB) is refused with 413 before it is decrypted.
TEST_F(NodeE2e, D4_OversizedBodyRefused413) {
  const std::string big((1 << 20) + 1, 'x');
  auto [status, body] = PostRaw(node_->url(), "/v1/ohttp", big, "message/ohttp-req");
  EXPECT_EQ(status, 413);
  EXPECT_EQ(ErrorCodeOf(body), "request_too_large");
  auto [status2, body2] = PostRaw(node_->url(), "/api/v1/encrypted/chat/completions", big, "application/json");
  EXPECT_EQ(status2, 413);
  // The node still serves.
  EXPECT_EQ(httplib::Client(node_->url()).Get("/health")->status, 200);
}

}  // namespace
}  // namespace cmln::node::testing
