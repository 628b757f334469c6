// The client library without processes: local verification of chain records against bundles built by
// the TEE simulator (A9-A12, A15, B7), the encrypted exchange against seal's own gateway (OHTTP and
// chunked OHTTP, authorization, receipt checks, B5), the SSE passthrough, and the chain record parsers.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "attest/bundle.h"
#include "attest/sim_pki.h"
#include "client/chain_reader.h"
#include "client/client_options.h"
#include "client/exchange.h"
#include "client/node_verifier.h"
#include "client/sse.h"
#include "seal/bhttp.h"
#include "seal/chunked_ohttp.h"
#include "seal/inference_protocol.h"
#include "seal/ohttp.h"

namespace cmln::client {
namespace {

namespace fs = std::filesystem;
namespace bhttp = seal::bhttp;
namespace ohttp = seal::ohttp;

constexpr int64_t kCreated = 1750377600;
constexpr int64_t kNow = kCreated + 3600;
constexpr uint64_t kEpoch = 7;
const char* const kChainId = "cmln-test";
const char* const kModel = "smollm2-135m-instruct";
const char* const kParticipant = "gonka1hostparticipant";

template <typename T>
ErrorCode CodeOf(const Result<T>& r) {
  return r.ok() ? ErrorCode::kOk : r.error().code();
}

struct NodeKeys {
  ohttp::KeyConfig config;
  SecretBytes hpke_private;
  seal::Ed25519PrivateKey sign = seal::Ed25519PrivateKey::Generate();
};

NodeKeys MakeNodeKeys(uint8_t key_id) {
  NodeKeys k;
  auto kp = seal::X25519Generate();
  k.config.key_id = key_id;
  k.config.kem_id = 0x0020;
  k.config.public_key = Bytes(kp.public_key.begin(), kp.public_key.end());
  k.config.algorithms = {{0x0001, 0x0001}};
  k.hpke_private = std::move(kp.private_key);
  return k;
}

// ---------------------------------------------------------------------------------------------
// Local verification of the chain's records.

class VerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    attest::SimPkiOptions o;
    o.now = kCreated;
    o.rsa_bits = 2048;
    auto pki = attest::GenerateSimPki(o);
    ASSERT_TRUE(pki.ok()) << pki.error().ToString();
    pki_ = new attest::SimPki(std::move(pki).value());
    dir_ = new std::string(::testing::TempDir() + "/client_test_pki_" + std::to_string(getpid()));
    fs::remove_all(*dir_);
    ASSERT_TRUE(attest::WriteSimPki(*pki_, *dir_).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete pki_;
  }

  attest::BundleTrust Trust(bool allow_simulated = true) const {
    TrustConfig tc;
    tc.allow_simulated = allow_simulated;
    tc.sim_trust_dir = allow_simulated ? *dir_ : "";
    auto t = MakeBundleTrust(tc, {});
    EXPECT_TRUE(t.ok()) << t.error().ToString();
    return *t;
  }

  attest::SimBundleSpec Spec() const {
    attest::SimBundleSpec s;
    s.platform = "sim-tdx";
    s.binding = attest::BundleBinding{kChainId, kEpoch, Bytes(32, 0xE7), kParticipant, "node-1"};
    s.ohttp_key_config = *ohttp::EncodeKeyConfig(keys_.config);
    s.sign_pk = Bytes(keys_.sign.public_key().begin(), keys_.sign.public_key().end());
    s.model_id = kModel;
    s.model_digest = Bytes(32, 0x5D);
    s.release_id = "rel-1";
    s.tdx.mr_td.fill(0xA1);
    s.tdx.rtmr[0].fill(0x01);
    return s;
  }

  ReleaseInfo Release() const {
    ReleaseInfo r;
    r.release_id = "rel-1";
    r.platform = "sim-tdx";
    r.measurements["MRTD"] = Bytes(48, 0xA1);
    r.measurements["RTMR0"] = Bytes(48, 0x01);
    r.model_id = kModel;
    r.model_digest = Bytes(32, 0x5D);
    r.min_tcb = "UpToDate";
    return r;
  }

  // The record the chain would list for a bundle.
  AttestationRecord RecordOf(const attest::AttestationBundle& b) const {
    AttestationRecord r;
    r.node_id = b.binding.node_id;
    r.participant = kParticipant;
    r.model_id = kModel;
    r.endpoint = "http://127.0.0.1:1";
    r.release_id = b.release_id;
    r.platform = b.platform;
    r.simulated = true;
    r.status = std::string(chain::kAttestationStatusVerified);
    r.sign_public_key = b.sign_pk;
    r.ohttp_key_config = b.ohttp_key_config;
    r.bundle_json = *attest::SerializeBundle(b);
    const auto h = seal::Sha256(AsBytes(r.bundle_json));
    r.bundle_hash = Bytes(h.begin(), h.end());
    r.attested_epoch = kEpoch;
    r.expires_after_epoch = kEpoch + 2;
    return r;
  }

  attest::AttestationBundle Build(const attest::SimBundleSpec& s) const {
    auto b = attest::BuildSimBundle(*pki_, s);
    EXPECT_TRUE(b.ok()) << b.error().ToString();
    return *b;
  }

  Result<VerifiedNode> Verify(const AttestationRecord& r, const std::vector<ReleaseInfo>& releases,
                              bool allow_simulated = true) const {
    return VerifyNodeRecord(r, kModel, releases, Trust(allow_simulated), kChainId, kEpoch, kNow);
  }

  static attest::SimPki* pki_;
  static std::string* dir_;
  NodeKeys keys_ = MakeNodeKeys(3);
};
attest::SimPki* VerifyTest::pki_ = nullptr;
std::string* VerifyTest::dir_ = nullptr;

TEST_F(VerifyTest, GenuineRecordVerified) {
  const AttestationRecord rec = RecordOf(Build(Spec()));
  auto v = Verify(rec, {Release()});
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  EXPECT_EQ(v->node_id, "node-1");
  EXPECT_EQ(v->participant, kParticipant);
  EXPECT_EQ(v->release_id, "rel-1");
  EXPECT_EQ(v->platform, "sim-tdx");
  EXPECT_TRUE(v->simulated);
  EXPECT_EQ(v->key_config, keys_.config);
  EXPECT_EQ(v->sign_public_key, Bytes(keys_.sign.public_key().begin(), keys_.sign.public_key().end()));
}

// A10 / B7: the bundle edited after the evidence was made (another sign key): the report data no longer
// commits to it. The chain record is made consistent with the edit, so only local verification catches it.
TEST_F(VerifyTest, B7_TamperedBundleRefusedEvenIfChainListsIt) {
  attest::AttestationBundle b = Build(Spec());
  auto other = seal::Ed25519PrivateKey::Generate();
  b.sign_pk = Bytes(other.public_key().begin(), other.public_key().end());
  EXPECT_EQ(CodeOf(Verify(RecordOf(b), {Release()})), ErrorCode::kBindingMismatch);
}

// A9: measurements not those the release approves.
TEST_F(VerifyTest, A9_UnapprovedMeasurementRefused) {
  attest::SimBundleSpec s = Spec();
  s.tdx.mr_td.fill(0xEE);
  EXPECT_EQ(CodeOf(Verify(RecordOf(Build(s)), {Release()})), ErrorCode::kMeasurementNotApproved);
  // A release that is not registered, retired, or for another model digest.
  EXPECT_EQ(CodeOf(Verify(RecordOf(Build(Spec())), {})), ErrorCode::kMeasurementNotApproved);
  ReleaseInfo retired = Release();
  retired.retired = true;
  EXPECT_EQ(CodeOf(Verify(RecordOf(Build(Spec())), {retired})), ErrorCode::kNotActive);
  ReleaseInfo later = Release();
  later.not_before_epoch = kEpoch + 1;
  EXPECT_EQ(CodeOf(Verify(RecordOf(Build(Spec())), {later})), ErrorCode::kNotActive);
  ReleaseInfo other_digest = Release();
  other_digest.model_digest = Bytes(32, 0x00);
  EXPECT_EQ(CodeOf(Verify(RecordOf(Build(Spec())), {other_digest})), ErrorCode::kModelMismatch);
}

// B7: the chain record names keys other than the attested ones (a node whose key does not match its
// attestation). The client never encrypts to them.
TEST_F(VerifyTest, B7_RecordKeysNotTheAttestedOnesRefused) {
  const attest::AttestationBundle b = Build(Spec());
  AttestationRecord wrong_sign = RecordOf(b);
  wrong_sign.sign_public_key = Bytes(32, 0x77);
  EXPECT_EQ(CodeOf(Verify(wrong_sign, {Release()})), ErrorCode::kBindingMismatch);
  AttestationRecord wrong_hpke = RecordOf(b);
  wrong_hpke.ohttp_key_config = *ohttp::EncodeKeyConfig(MakeNodeKeys(3).config);
  EXPECT_EQ(CodeOf(Verify(wrong_hpke, {Release()})), ErrorCode::kBindingMismatch);
}

// A11 / A12: the bundle is bound to another participant, node or chain than the record says.
TEST_F(VerifyTest, A11_BindingToAnotherParticipantNodeOrChainRefused) {
  const attest::AttestationBundle b = Build(Spec());
  AttestationRecord stolen = RecordOf(b);
  stolen.participant = "gonka1thief";
  EXPECT_EQ(CodeOf(Verify(stolen, {Release()})), ErrorCode::kBindingMismatch);
  AttestationRecord renamed = RecordOf(b);
  renamed.node_id = "node-2";
  EXPECT_EQ(CodeOf(Verify(renamed, {Release()})), ErrorCode::kBindingMismatch);
  auto other_chain = VerifyNodeRecord(RecordOf(b), kModel, {Release()}, Trust(), "another-chain", kEpoch, kNow);
  EXPECT_EQ(CodeOf(other_chain), ErrorCode::kBindingMismatch);
}

// A15: simulated evidence is refused unless the user opted in.
TEST_F(VerifyTest, A15_SimulatedRefusedWithoutOptIn) {
  EXPECT_EQ(CodeOf(Verify(RecordOf(Build(Spec())), {Release()}, /*allow_simulated=*/false)),
            ErrorCode::kSimulatedNotAllowed);
  TrustConfig no_dir;
  no_dir.allow_simulated = true;
  EXPECT_EQ(CodeOf(MakeBundleTrust(no_dir, {})), ErrorCode::kInvalidArgument);
}

TEST_F(VerifyTest, RecordChecks) {
  const attest::AttestationBundle b = Build(Spec());
  AttestationRecord hash = RecordOf(b);
  hash.bundle_hash[0] ^= 1;
  EXPECT_EQ(CodeOf(Verify(hash, {Release()})), ErrorCode::kChecksumMismatch);
  AttestationRecord revoked = RecordOf(b);
  revoked.status = "ATTESTATION_STATUS_REVOKED";
  EXPECT_EQ(CodeOf(Verify(revoked, {Release()})), ErrorCode::kAttestationRevoked);
  AttestationRecord expired = RecordOf(b);
  expired.expires_after_epoch = kEpoch - 1;
  EXPECT_EQ(CodeOf(Verify(expired, {Release()})), ErrorCode::kAttestationExpired);
  auto other_model = VerifyNodeRecord(RecordOf(b), "another-model", {Release()}, Trust(), kChainId, kEpoch, kNow);
  EXPECT_EQ(CodeOf(other_model), ErrorCode::kModelMismatch);
}

// ---------------------------------------------------------------------------------------------
// The exchange, against seal's gateway playing the node.

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(gateway_.AddKey(keys_.config, keys_.hpke_private.Clone()).ok());
    node_.node_id = "node-1";
    node_.key_config = keys_.config;
    node_.sign_public_key = Bytes(keys_.sign.public_key().begin(), keys_.sign.public_key().end());
  }

  // What the node does with a decrypted request: checks and returns the authorization.
  seal::RequestAuthorization CheckInner(ByteView bhttp_request, const std::string& content) {
    auto req = bhttp::DecodeRequest(bhttp_request);
    EXPECT_TRUE(req.ok());
    EXPECT_EQ(req->method, "POST");
    EXPECT_EQ(req->path, "/v1/chat/completions");
    EXPECT_EQ(AsChars(req->content), content);
    auto header = FindField(req->headers, seal::kAuthorizationHeader);
    EXPECT_TRUE(header.has_value());
    auto auth = seal::DecodeAuthorization(*Base64Decode(*header));
    EXPECT_TRUE(auth.ok());
    EXPECT_TRUE(seal::VerifyAuthorizationSignature(*auth).ok());
    EXPECT_EQ(auth->request_digest, seal::Sha256(AsBytes(content)));
    EXPECT_EQ(auth->node_id, "node-1");
    EXPECT_EQ(auth->chain_id, kChainId);
    EXPECT_EQ(auth->escrow_id, 42u);
    EXPECT_EQ(auth->requester_public_key, user_.public_key());
    return *auth;
  }

  std::string ReceiptFor(const seal::RequestAuthorization& auth, ByteView response_content, uint64_t prompt,
                         uint64_t completion, const seal::Ed25519PrivateKey* key = nullptr) {
    seal::Receipt r;
    r.chain_id = kChainId;
    r.node_id = "node-1";
    r.escrow_id = auth.escrow_id;
    r.requester_key_hash = seal::RequesterKeyHash(auth.requester_public_key);
    r.request_digest = auth.request_digest;
    r.response_digest = seal::Sha256(response_content);
    r.prompt_tokens = prompt;
    r.completion_tokens = completion;
    r.cost = (prompt + completion) * kPrice;
    r.sequence = 1;
    auto signed_r = seal::SignReceipt(key ? *key : keys_.sign, r);
    EXPECT_TRUE(signed_r.ok());
    return Base64Encode(*seal::EncodeReceipt(*signed_r));
  }

  ReceiptExpectation Want(const SealedRequest& s, ByteView content, Usage usage) const {
    ReceiptExpectation w;
    w.chain_id = kChainId;
    w.node_id = "node-1";
    w.escrow_id = 42;
    w.requester_public_key = user_.public_key();
    w.request_digest = s.request_digest();
    w.response_content = Bytes(content.begin(), content.end());
    w.usage = usage;
    w.price_per_token = kPrice;
    w.sign_public_key = node_.sign_public_key;
    return w;
  }

  // A streamed answer: the sealed chunks the node sends, one per SSE event, plus the final chunk.
  struct SealedStream {
    std::vector<Bytes> pieces;  // pieces[0] starts with the response nonce
    std::string sse;
  };
  SealedStream NodeStreams(ohttp::ChunkedRequestOpener& opener, const std::string& content, bool with_receipt = true) {
    SealedStream out;
    auto auth = CheckInner(last_request_, content);
    auto sealer = opener.NewResponseSealer();
    EXPECT_TRUE(sealer.ok());
    bhttp::Response head;
    head.status = 200;
    head.headers = {{"content-type", "text/event-stream"}};
    out.pieces.push_back(*sealer->SealChunk(*bhttp::EncodeIndeterminateResponseHead(head)));
    const std::vector<std::string> events = {
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
        "data: [DONE]\n\n"};
    for (const std::string& e : events) {
      out.sse += e;
      out.pieces.push_back(*sealer->SealChunk(*bhttp::EncodeIndeterminateContentChunk(AsBytes(e))));
    }
    bhttp::Fields trailers;
    if (with_receipt) trailers.push_back({std::string(seal::kReceiptHeader), ReceiptFor(auth, AsBytes(out.sse), 5, 2)});
    out.pieces.push_back(*sealer->SealFinalChunk(*bhttp::EncodeIndeterminateResponseTail(trailers)));
    return out;
  }

  static constexpr uint64_t kPrice = 3;
  NodeKeys keys_ = MakeNodeKeys(1);
  ohttp::Gateway gateway_;
  VerifiedNode node_;
  seal::AccountPrivateKey user_ = seal::AccountPrivateKey::Generate();
  Bytes last_request_;
};

TEST_F(ExchangeTest, NonStreamRoundTripWithVerifiedReceipt) {
  const std::string content = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
  auto sealed = SealedRequest::Create(node_, user_, kChainId, 42, 1000, AsBytes(content), false);
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(sealed->media_type(), ohttp::kRequestMediaType);
  auto opened = gateway_.DecapsulateRequest(sealed->body());
  ASSERT_TRUE(opened.ok());
  auto auth = CheckInner(opened->bhttp_request, content);

  const std::string answer = R"({"object":"chat.completion","usage":{"prompt_tokens":9,"completion_tokens":4}})";
  bhttp::Response resp;
  resp.status = 200;
  resp.headers = {{"content-type", "application/json"},
                  {std::string(seal::kReceiptHeader), ReceiptFor(auth, AsBytes(answer), 9, 4)}};
  resp.content = ToBytes(answer);
  auto wire = opened->context.EncapsulateResponse(*bhttp::EncodeResponse(resp));
  ASSERT_TRUE(wire.ok());
  auto got = sealed->Open(*wire);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->content_type, "application/json");
  EXPECT_EQ(AsChars(got->content), answer);
  auto usage = UsageOfCompletion(got->content);
  ASSERT_TRUE(usage.ok());
  auto receipt = VerifyReceiptField(got->headers, Want(*sealed, got->content, *usage));
  ASSERT_TRUE(receipt.ok()) << receipt.error().ToString();
  EXPECT_EQ(receipt->cost, 13 * kPrice);

  // Receipt checks: counts that are not the answer's usage, another content, another signer, none.
  Usage lied = *usage;
  lied.completion_tokens = 3;
  EXPECT_EQ(CodeOf(VerifyReceiptField(got->headers, Want(*sealed, got->content, lied))), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(VerifyReceiptField(got->headers, Want(*sealed, AsBytes(std::string("other")), *usage))),
            ErrorCode::kChecksumMismatch);
  auto impostor = seal::Ed25519PrivateKey::Generate();
  bhttp::Fields forged = {{std::string(seal::kReceiptHeader), ReceiptFor(auth, AsBytes(answer), 9, 4, &impostor)}};
  EXPECT_EQ(CodeOf(VerifyReceiptField(forged, Want(*sealed, got->content, *usage))), ErrorCode::kBadSignature);
  EXPECT_EQ(CodeOf(VerifyReceiptField({}, Want(*sealed, got->content, *usage))), ErrorCode::kNotFound);
  ReceiptExpectation other_escrow = Want(*sealed, got->content, *usage);
  other_escrow.escrow_id = 43;
  EXPECT_EQ(CodeOf(VerifyReceiptField(got->headers, other_escrow)), ErrorCode::kBindingMismatch);
}

// B2 at the client: a response byte flipped does not open.
TEST_F(ExchangeTest, B2_TamperedResponseRefused) {
  const std::string content = R"({"model":"m"})";
  auto sealed = SealedRequest::Create(node_, user_, kChainId, 42, 1000, AsBytes(content), false);
  ASSERT_TRUE(sealed.ok());
  auto opened = gateway_.DecapsulateRequest(sealed->body());
  ASSERT_TRUE(opened.ok());
  bhttp::Response resp;
  resp.status = 200;
  resp.content = ToBytes(std::string("{}"));
  Bytes wire = *opened->context.EncapsulateResponse(*bhttp::EncodeResponse(resp));
  wire[wire.size() - 3] ^= 0x01;
  EXPECT_EQ(CodeOf(sealed->Open(wire)), ErrorCode::kDecryptFailed);
}

TEST_F(ExchangeTest, StreamDeliveredIncrementallyThenReceiptVerified) {
  const std::string content = R"({"model":"m","stream":true})";
  auto sealed = SealedRequest::Create(node_, user_, kChainId, 42, 1000, AsBytes(content), true);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->media_type(), ohttp::kChunkedRequestMediaType);
  ohttp::ChunkedRequestOpener opener(gateway_);
  ASSERT_TRUE(opener.Push(sealed->body()).ok());
  auto inner = opener.Finish();
  ASSERT_TRUE(inner.ok());
  last_request_ = *inner;
  SealedStream s = NodeStreams(opener, content);

  std::string delivered;
  bool head = false;
  for (size_t i = 0; i < s.pieces.size(); ++i) {
    // Split each piece in two fragments, as a network would.
    const Bytes& p = s.pieces[i];
    for (ByteView f : {ByteView(p).first(p.size() / 2), ByteView(p).subspan(p.size() / 2)}) {
      auto ev = sealed->PushStream(f);
      ASSERT_TRUE(ev.ok()) << ev.error().ToString();
      head = head || ev->head;
      delivered += std::string(AsChars(ev->content));
    }
    if (i == 1) {  // the head and the first event arrived before the stream ended
      EXPECT_TRUE(head);
      EXPECT_EQ(sealed->answer().status, 200);
      EXPECT_EQ(sealed->answer().content_type, "text/event-stream");
      EXPECT_EQ(delivered, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n");
    }
  }
  auto fin = sealed->FinishStream();
  ASSERT_TRUE(fin.ok()) << fin.error().ToString();
  delivered += std::string(AsChars(fin->content));
  EXPECT_EQ(delivered, s.sse);
  auto usage = UsageOfSseStream(sealed->answer().content);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->prompt_tokens, 5u);
  EXPECT_EQ(usage->completion_tokens, 2u);
  auto receipt = VerifyReceiptField(sealed->answer().trailers, Want(*sealed, sealed->answer().content, *usage));
  ASSERT_TRUE(receipt.ok()) << receipt.error().ToString();
}

// B5: a chunk dropped or two chunks swapped fail at once; a stream without its final chunk fails at the end.
TEST_F(ExchangeTest, B5_DroppedReorderedOrTruncatedStreamIsAnError) {
  const std::string content = R"({"model":"m","stream":true})";
  for (const std::string mode : {"drop", "reorder", "truncate"}) {
    SCOPED_TRACE(mode);
    auto sealed = SealedRequest::Create(node_, user_, kChainId, 42, 1000, AsBytes(content), true);
    ASSERT_TRUE(sealed.ok());
    ohttp::ChunkedRequestOpener opener(gateway_);
    ASSERT_TRUE(opener.Push(sealed->body()).ok());
    last_request_ = *opener.Finish();
    SealedStream s = NodeStreams(opener, content);
    std::vector<Bytes> pieces = s.pieces;
    if (mode == "drop") pieces.erase(pieces.begin() + 2);
    if (mode == "reorder") std::swap(pieces[2], pieces[3]);
    if (mode == "truncate") pieces.pop_back();
    std::optional<Error> err;
    for (const Bytes& p : pieces) {
      auto ev = sealed->PushStream(p);
      if (!ev.ok()) {
        err = ev.error();
        break;
      }
    }
    if (!err) {
      auto fin = sealed->FinishStream();
      ASSERT_FALSE(fin.ok());
      err = fin.error();
    }
    EXPECT_EQ(err->code(), mode == "truncate" ? ErrorCode::kTruncated : ErrorCode::kDecryptFailed);
  }
}

// A known-length BHTTP error answer inside a chunked response (the node refusing a streamed request).
TEST_F(ExchangeTest, KnownLengthErrorInsideChunkedResponse) {
  const std::string content = R"({"model":"m","stream":true})";
  auto sealed = SealedRequest::Create(node_, user_, kChainId, 42, 1000, AsBytes(content), true);
  ASSERT_TRUE(sealed.ok());
  ohttp::ChunkedRequestOpener opener(gateway_);
  ASSERT_TRUE(opener.Push(sealed->body()).ok());
  ASSERT_TRUE(opener.Finish().ok());
  auto sealer = opener.NewResponseSealer();
  bhttp::Response err;
  err.status = 402;
  err.headers = {{"content-type", "application/json"}};
  err.content = ToBytes(std::string(R"({"error":{"message":"no quota","type":"insufficient_quota","code":"quota_exhausted"}})"));
  Bytes wire = *sealer->SealFinalChunk(*bhttp::EncodeResponse(err));
  ASSERT_TRUE(sealed->PushStream(wire).ok());
  auto fin = sealed->FinishStream();
  ASSERT_TRUE(fin.ok()) << fin.error().ToString();
  EXPECT_EQ(sealed->answer().status, 402);
  EXPECT_EQ(sealed->answer().content, err.content);
}

// ---------------------------------------------------------------------------------------------
// SSE passthrough, usage, parsers, options.

TEST(Sse, SplitsEventsAndHoldsBackDone) {
  SseEventSplitter s;
  auto a = s.Push(AsBytes(std::string("data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\ndata: {\"x\"")));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(DeltaContentOfEvent(a[0]), "A");
  EXPECT_EQ(s.pending(), "data: {\"x\"");
  auto b = s.Push(AsBytes(std::string(":1}\r\n\r\ndata: [DONE]\n\n")));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0], "data: {\"x\":1}\r\n\r\n");
  EXPECT_EQ(DeltaContentOfEvent(b[0]), "");
  EXPECT_TRUE(s.done_seen());
  EXPECT_TRUE(s.pending().empty());
}

TEST(Usage, FromCompletionAndStream) {
  EXPECT_EQ(CodeOf(UsageOfCompletion(AsBytes(std::string("not json")))), ErrorCode::kBadEncoding);
  EXPECT_EQ(CodeOf(UsageOfCompletion(AsBytes(std::string("{\"usage\":{\"prompt_tokens\":-1}}")))), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(UsageOfSseStream(AsBytes(std::string("data: {\"choices\":[]}\n\ndata: [DONE]\n\n")))),
            ErrorCode::kMalformed);
}

TEST(ClientOptions, ConfigFileStrict) {
  ClientOptions o;
  ASSERT_TRUE(ParseClientOptionsJson(R"({"chain":"http://c","key":"k.json","budget":5,"allow_simulated":true,
                                         "sim_trust":"/p","listen":"127.0.0.1:0","model":"m"})",
                                     o)
                  .ok());
  EXPECT_EQ(o.chain, "http://c");
  EXPECT_EQ(o.budget, 5u);
  EXPECT_TRUE(o.allow_simulated);
  EXPECT_EQ(CodeOf(ParseClientOptionsJson(R"({"chian":"x"})", o)), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(ParseClientOptionsJson(R"({"budget":-1})", o)), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(ParseClientOptionsJson("nope", o)), ErrorCode::kBadEncoding);
  ClientOptions sim_without_dir;
  sim_without_dir.chain = "http://c";
  sim_without_dir.allow_simulated = true;
  EXPECT_EQ(CodeOf(ToClientConfig(sim_without_dir)), ErrorCode::kInvalidArgument);
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:0", host, port).ok());
  EXPECT_EQ(port, 0);
  EXPECT_EQ(CodeOf(ParseHostPort("localhost", host, port)), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::client
