// Unit tests of the node library without processes: configuration, replay cache, quota ledger, usage
// aggregation, the batch journal, and admission/receipts of the InferenceService over a fake engine.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "chain/usage_batch.h"
#include "node/config.h"
#include "node/ledger.h"
#include "node/service.h"
#include "node/settlement.h"
#include "seal/account_key.h"
#include "seal/inference_protocol.h"

namespace cmln::node {
namespace {

namespace fs = std::filesystem;

// --- config ---------------------------------------------------------------------------------------------

std::string MinimalConfig(const std::string& extra = "") {
  return R"({"node_id":"n1","host_key_file":"/k.json","model_id":"m","release_id":"r","data_dir":"/d",)"
         R"("model_path":"/m.gguf","sim_pki_dir":"/pki")" +
         extra + "}";
}

TEST(NodeConfig, DefaultsAndRequiredKeys) {
  auto c = ParseNodeConfig(MinimalConfig());
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->max_request_bytes, 1u << 20);
  EXPECT_EQ(c->max_clock_skew_s, 300);
  EXPECT_EQ(c->platform, "sim-tdx");
  EXPECT_EQ(c->upstream_model, "m");
  EXPECT_EQ(AdvertisedEndpoint(*c, 1234), "http://127.0.0.1:1234");
  auto missing = ParseNodeConfig(R"({"node_id":"n1"})");
  EXPECT_EQ(missing.error().code(), ErrorCode::kInvalidArgument);
}

TEST(NodeConfig, StrictParsing) {
  EXPECT_EQ(ParseNodeConfig(MinimalConfig(R"(,"surprise":1)")).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseNodeConfig(MinimalConfig(R"(,"listen_port":"80")")).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseNodeConfig(MinimalConfig(R"(,"listen_port":70000)")).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseNodeConfig(MinimalConfig(R"(,"platform":"sgx")")).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseNodeConfig(MinimalConfig(R"(,"sim_measurements":{"MRTD":"00"})")).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseNodeConfig(MinimalConfig(R"(,"sim_measurements":{"XX":"00"})")).error().code(), ErrorCode::kMalformed);
  EXPECT_EQ(ParseNodeConfig("{").error().code(), ErrorCode::kBadEncoding);
  EXPECT_EQ(ParseNodeConfig(std::string(kMaxConfigBytes + 1, ' ')).error().code(), ErrorCode::kLengthTooLarge);
  auto ok = ParseNodeConfig(MinimalConfig(R"(,"sim_measurements":{"MRTD":")" + std::string(96, 'a') + "\"}"));
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->sim_measurements.at("MRTD"), Bytes(48, 0xaa));
}

// --- replay cache -------------------------------------------------------------------------------------------

TEST(ReplayCache, B3_SeenAuthorizationRefusedUntilItExpires) {
  ReplayCache cache(2);
  seal::Digest32 a{}, b{}, c{};
  a[0] = 1;
  b[0] = 2;
  c[0] = 3;
  ASSERT_TRUE(cache.Accept(a, 100, 50).ok());
  EXPECT_EQ(cache.Accept(a, 100, 60).error().code(), ErrorCode::kReplay);
  ASSERT_TRUE(cache.Accept(b, 200, 60).ok());
  // Full of live entries: refused rather than forgetting one.
  EXPECT_EQ(cache.Accept(c, 200, 60).error().code(), ErrorCode::kLimitExceeded);
  // Once `a` expired it is evicted and space returns.
  EXPECT_TRUE(cache.Accept(c, 200, 101).ok());
  EXPECT_EQ(cache.size(), 2u);
}

// --- quota ledger ---------------------------------------------------------------------------------------------

struct FakeChain {
  std::map<uint64_t, EscrowState> escrows;
  bool reachable = true;
  int reads = 0;
  Result<EscrowState> operator()(uint64_t id) {
    ++reads;
    if (!reachable) return Error(ErrorCode::kIoError, "down");
    auto it = escrows.find(id);
    if (it == escrows.end()) return Error(ErrorCode::kNotFound, "no escrow");
    return it->second;
  }
};

seal::Digest32 KeyHash(uint8_t b) {
  seal::Digest32 d{};
  d.fill(b);
  return d;
}

TEST(QuotaLedger, ChecksInOrderAndReservesAgainstRemainingMinusUnsettledMinusInFlight) {
  auto chain = std::make_shared<FakeChain>();
  chain->escrows[1] = EscrowState{1, true, "m", 1000, KeyHash(7)};
  chain->escrows[2] = EscrowState{2, false, "m", 1000, KeyHash(7)};
  chain->escrows[3] = EscrowState{3, true, "other", 1000, KeyHash(7)};
  QuotaLedger ledger([chain](uint64_t id) { return (*chain)(id); }, std::chrono::milliseconds(0));
  EXPECT_EQ(ledger.Reserve(9, KeyHash(7), "m", 1).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ledger.Reserve(2, KeyHash(7), "m", 1).error().code(), ErrorCode::kNotActive);
  EXPECT_EQ(ledger.Reserve(3, KeyHash(7), "m", 1).error().code(), ErrorCode::kModelMismatch);
  EXPECT_EQ(ledger.Reserve(1, KeyHash(8), "m", 1).error().code(), ErrorCode::kUnauthorized);
  auto r1 = ledger.Reserve(1, KeyHash(7), "m", 600);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(ledger.Reserve(1, KeyHash(7), "m", 401).error().code(), ErrorCode::kInsufficientFunds);
  ledger.Commit(*r1, 300);  // actual cost below the reservation: the rest is released
  EXPECT_EQ(ledger.unsettled(1), 300u);
  EXPECT_EQ(ledger.in_flight(1), 0u);
  auto r2 = ledger.Reserve(1, KeyHash(7), "m", 700);
  ASSERT_TRUE(r2.ok());
  ledger.Release(*r2);
  EXPECT_EQ(ledger.Reserve(1, KeyHash(7), "m", 701).error().code(), ErrorCode::kInsufficientFunds);
  // The chain settles the 300: remaining drops, unsettled drops, the cache is re-read.
  chain->escrows[1].remaining = 700;
  ledger.Settled(1, 300);
  EXPECT_TRUE(ledger.Reserve(1, KeyHash(7), "m", 700).ok());
}

TEST(QuotaLedger, D5_UnreachableChainUsesTheLastKnownState) {
  auto chain = std::make_shared<FakeChain>();
  chain->escrows[1] = EscrowState{1, true, "m", 100, KeyHash(7)};
  QuotaLedger ledger([chain](uint64_t id) { return (*chain)(id); }, std::chrono::milliseconds(0));
  auto r = ledger.Reserve(1, KeyHash(7), "m", 50);
  ASSERT_TRUE(r.ok());
  ledger.Commit(*r, 50);
  chain->reachable = false;
  EXPECT_TRUE(ledger.Reserve(1, KeyHash(7), "m", 50).ok());  // known quota: 100 - 50 unsettled
  EXPECT_EQ(ledger.Reserve(1, KeyHash(7), "m", 1).error().code(), ErrorCode::kInsufficientFunds);
  EXPECT_EQ(ledger.Reserve(2, KeyHash(7), "m", 1).error().code(), ErrorCode::kIoError);  // never seen
}

TEST(UsageAggregator, SumsPerEscrowAndTakesInEscrowOrder) {
  UsageAggregator agg;
  ASSERT_TRUE(agg.Add(5, KeyHash(1), 10, 2, 24).ok());
  ASSERT_TRUE(agg.Add(2, KeyHash(2), 3, 1, 8).ok());
  ASSERT_TRUE(agg.Add(5, KeyHash(1), 1, 1, 4).ok());
  const uint64_t up_to = agg.Close();
  auto seg = agg.TakeSegment(up_to);
  ASSERT_TRUE(seg.has_value());
  ASSERT_EQ(seg->entries.size(), 2u);
  EXPECT_EQ(seg->entries[0].escrow_id, 2u);
  EXPECT_EQ(seg->entries[1].requests, 2u);
  EXPECT_EQ(seg->entries[1].prompt_tokens, 11u);
  EXPECT_EQ(seg->entries[1].cost, 28u);
  EXPECT_FALSE(agg.TakeSegment(up_to).has_value());
  agg.Return(std::move(*seg));
  EXPECT_FALSE(agg.empty());
}

// --- journal --------------------------------------------------------------------------------------------------

SignedBatch MakeBatch(const seal::Ed25519PrivateKey& key, uint64_t seq) {
  SignedBatch b;
  chain::UsageEntry e;
  e.escrow_id = 3;
  e.requester_key_hash = KeyHash(9);
  e.requests = 1;
  e.prompt_tokens = 5;
  e.completion_tokens = 6;
  e.cost = 22;
  b.decoded = chain::UsageBatch{"chain", "node", seq, {e}};
  b.batch = *chain::EncodeUsageBatch(b.decoded);
  b.sign_pk = key.public_key();
  b.signature = *chain::SignUsageBatch(key, b.batch);
  return b;
}

TEST(BatchJournal, RecordRoundTripsAndRefusesEveryCorruption) {
  const auto key = seal::Ed25519PrivateKey::Generate();
  const SignedBatch b = MakeBatch(key, 7);
  auto rec = EncodeJournalRecord(b);
  ASSERT_TRUE(rec.ok());
  auto back = DecodeJournalRecord(*rec);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->decoded.batch_seq, 7u);
  EXPECT_EQ(back->batch, b.batch);
  Bytes torn = *rec;
  torn.resize(torn.size() - 1);
  EXPECT_EQ(DecodeJournalRecord(torn).error().code(), ErrorCode::kTruncated);
  Bytes flipped = *rec;
  flipped[120] ^= 1;  // inside the batch
  EXPECT_EQ(DecodeJournalRecord(flipped).error().code(), ErrorCode::kChecksumMismatch);
  Bytes magic = *rec;
  magic[0] = 'X';
  EXPECT_EQ(DecodeJournalRecord(magic).error().code(), ErrorCode::kMalformed);
  Bytes extra = *rec;
  extra.push_back(0);
  EXPECT_EQ(DecodeJournalRecord(extra).error().code(), ErrorCode::kTrailingData);
  // Signed by another key but recorded under this one (checksum recomputed): the signature fails.
  SignedBatch forged = b;
  forged.sign_pk = seal::Ed25519PrivateKey::Generate().public_key();
  EXPECT_EQ(DecodeJournalRecord(*EncodeJournalRecord(forged)).error().code(), ErrorCode::kBadSignature);
}

TEST(BatchJournal, D2_WrittenBatchesSurviveAndCorruptFilesAreSetAside) {
  const std::string dir = ::testing::TempDir() + "/node_journal_unit";
  fs::remove_all(dir);
  auto j = BatchJournal::Open(dir);
  ASSERT_TRUE(j.ok());
  const auto key = seal::Ed25519PrivateKey::Generate();
  ASSERT_TRUE(j->Write(MakeBatch(key, 2)).ok());
  ASSERT_TRUE(j->Write(MakeBatch(key, 1)).ok());
  EXPECT_EQ(j->Write(MakeBatch(key, 1)).error().code(), ErrorCode::kAlreadyExists);
  { std::ofstream(j->PathOf(3)) << "torn"; }
  auto listed = j->List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].decoded.batch_seq, 1u);
  EXPECT_EQ((*listed)[1].decoded.batch_seq, 2u);
  EXPECT_TRUE(fs::exists(dir + "/rejected/batch-00000000000000000003.bin"));
  ASSERT_TRUE(j->Remove(1).ok());
  EXPECT_EQ(j->List()->size(), 1u);
}

// --- the inference service over a fake engine -------------------------------------------------------------

class FakeEngine : public engine::Engine {
 public:
  std::string model_name() const override { return "m"; }
  Result<seal::Digest32> ModelDigest() const override { return seal::Digest32{}; }
  Result<uint32_t> CountTokens(std::string_view text) override { return static_cast<uint32_t>(text.size()); }
  Result<engine::Completion> Complete(const engine::CompletionRequest& r) override {
    ++calls;
    engine::Completion c;
    c.text = "ok";
    c.usage.prompt_tokens = 10;
    c.usage.completion_tokens = 2;
    if (r.on_text) r.on_text("ok");
    return c;
  }
  int calls = 0;
};

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest()
      : user_(seal::AccountPrivateKey::Generate()),
        ledger_([this](uint64_t id) { return chain_(id); }, std::chrono::milliseconds(0)),
        replay_(1000),
        service_(Options(), engine_, ledger_, replay_, usage_, metrics_, [this] { return now_; }) {
    chain_.escrows[1] = EscrowState{1, true, "m", 1000, seal::RequesterKeyHash(user_.public_key())};
    keys_ = *KeySet::Generate(1);
  }
  static ServiceOptions Options() {
    ServiceOptions o;
    o.chain_id = "c";
    o.node_id = "n";
    o.model_id = "m";
    o.price_per_token = 3;
    o.default_max_tokens = 10;
    o.max_in_flight = 1;
    return o;
  }
  std::string Auth(const std::string& content, uint64_t escrow = 1, const std::string& node = "n") {
    return Base64Encode(*seal::EncodeAuthorization(*seal::SignAuthorization(user_, "c", node, escrow, now_, AsBytes(content))));
  }
  static std::string Code(const std::variant<AdmittedRequest, Refusal>& v) {
    return std::holds_alternative<Refusal>(v) ? std::get<Refusal>(v).code : "admitted";
  }

  seal::AccountPrivateKey user_;
  FakeChain chain_;
  FakeEngine engine_;
  QuotaLedger ledger_;
  ReplayCache replay_;
  UsageAggregator usage_;
  Metrics metrics_;
  int64_t now_ = 1'700'000'000;
  InferenceService service_;
  std::shared_ptr<KeySet> keys_;
};

const std::string kContent = R"({"model":"m","messages":[{"role":"user","content":"hello"}]})";

TEST_F(ServiceTest, RefusalsFollowTheProtocolTableAndChargeNothing) {
  EXPECT_EQ(Code(service_.Admit("", AsBytes(kContent), true, "t")), "bad_authorization");
  EXPECT_EQ(Code(service_.Admit("!!", AsBytes(kContent), true, "t")), "bad_authorization");
  EXPECT_EQ(Code(service_.Admit(Auth(kContent, 1, "other"), AsBytes(kContent), true, "t")), "wrong_node");
  EXPECT_EQ(Code(service_.Admit(Auth(kContent + " "), AsBytes(kContent), true, "t")), "digest_mismatch");
  const std::string fresh = Auth(kContent);
  now_ += 301;
  EXPECT_EQ(Code(service_.Admit(fresh, AsBytes(kContent), true, "t")), "stale_timestamp");
  now_ -= 301;
  EXPECT_EQ(Code(service_.Admit(Auth(kContent, 9), AsBytes(kContent), true, "t")), "escrow_not_found");
  const std::string bad_json = "{\"model\":\"m\"}";
  EXPECT_EQ(Code(service_.Admit(Auth(bad_json), AsBytes(bad_json), true, "t")), "invalid_request");
  const std::string stream = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hello"}]})";
  EXPECT_EQ(Code(service_.Admit(Auth(stream), AsBytes(stream), false, "t")), "stream_unsupported");
  const std::string huge = R"({"model":"m","max_tokens":400,"messages":[{"role":"user","content":"hello"}]})";
  EXPECT_EQ(Code(service_.Admit(Auth(huge), AsBytes(huge), true, "t")), "quota_exhausted");
  EXPECT_EQ(engine_.calls, 0);
  EXPECT_EQ(ledger_.in_flight(1), 0u);
  EXPECT_TRUE(usage_.empty());
}

TEST_F(ServiceTest, ReceiptBillsTheActualUsageAndSequencesPerKey) {
  auto first = service_.Admit(Auth(kContent), AsBytes(kContent), true, "t");
  ASSERT_EQ(Code(first), "admitted");
  // The reservation is (CountTokens("hello") + 8 + max_tokens 10) x 3 = 69 while in flight.
  EXPECT_EQ(ledger_.in_flight(1), 69u);
  // max_in_flight = 1: a second admission is overloaded (its authorization is then spent).
  const std::string other = R"({"model":"m","messages":[{"role":"user","content":"hello!"}]})";
  EXPECT_EQ(Code(service_.Admit(Auth(other), AsBytes(other), true, "t")), "overloaded");
  auto answer = service_.Complete(std::move(std::get<AdmittedRequest>(first)), *keys_);
  ASSERT_TRUE(std::holds_alternative<Answer>(answer));
  const Answer& a = std::get<Answer>(answer);
  auto receipt = seal::DecodeReceipt(a.receipt);
  ASSERT_TRUE(receipt.ok());
  EXPECT_TRUE(seal::VerifyReceiptSignature(*receipt, keys_->sign_key.public_key()).ok());
  EXPECT_EQ(receipt->cost, 36u);  // (10 + 2) x 3
  EXPECT_EQ(receipt->sequence, 1u);
  EXPECT_EQ(receipt->response_digest, seal::Sha256(AsBytes(a.content)));
  EXPECT_EQ(ledger_.in_flight(1), 0u);
  EXPECT_EQ(ledger_.unsettled(1), 36u);
  // The same authorization again: replayed.
  EXPECT_EQ(Code(service_.Admit(Auth(kContent), AsBytes(kContent), true, "t")), "replayed_request");
  // A stream: events, then the receipt over exactly their bytes.
  const std::string stream = R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hey"}]})";
  auto admitted = service_.Admit(Auth(stream), AsBytes(stream), true, "t");
  ASSERT_EQ(Code(admitted), "admitted");
  std::string events;
  auto streamed = service_.Stream(std::move(std::get<AdmittedRequest>(admitted)), *keys_, [&](std::string_view e) {
    events += e;
    return true;
  });
  ASSERT_TRUE(std::holds_alternative<Bytes>(streamed));
  auto r2 = *seal::DecodeReceipt(std::get<Bytes>(streamed));
  EXPECT_EQ(r2.sequence, 2u);
  EXPECT_EQ(r2.response_digest, seal::Sha256(AsBytes(events)));
  EXPECT_NE(events.find("data: [DONE]\n\n"), std::string::npos);
  auto taken = usage_.TakeSegment(usage_.Close());
  ASSERT_TRUE(taken.has_value());
  ASSERT_EQ(taken->entries.size(), 1u);
  EXPECT_EQ(taken->entries[0].requests, 2u);
  EXPECT_EQ(taken->entries[0].cost, 72u);
}

TEST(SpliceReceipt, AddsTheMemberBeforeTheFinalBrace) {
  auto s = SpliceReceipt(R"({"a":1})", Bytes{1, 2});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, R"({"a":1,"gonka_receipt":"AQI="})");
  EXPECT_EQ(SpliceReceipt("[]", Bytes{1}).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::node
