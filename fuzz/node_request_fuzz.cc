// Fuzzes the Confidential MLNode's parsers of outside bytes. The first input byte picks the target, the
// rest is the input:
//   0  admission of a request with an arbitrary authorization header and content: "HEADER\0CONTENT"
//      (the node's check order: base64, authorization layout, ids, freshness, digest, signature, ...)
//   1  admission of arbitrary content under a VALID authorization signed here for exactly that content,
//      so the fuzzer reaches the OpenAI request parser, the model check, escrow/quota and (with a fake
//      engine) the receipt
//   2  the chunked OHTTP request path of the frontend: ChunkedRequestOpener under a fixed key, then the
//      inner BHTTP request decode
//   3  the batch journal record (DecodeJournalRecord, CMLNBAT2 and the older CMLNBAT1) — files a crash may
//      have torn
//   4  the configuration file (ParseNodeConfig)
//   5  one usage log record (UsageAggregator::DecodeRecord) — the usage log's tail a crash may have torn
// Checks that nothing crashes or leaks; whatever admission accepts is run and billed, and its receipt must
// verify under the node key and bill exactly (prompt + completion) x price.
#include <cstdint>
#include <cstdlib>

#include "node/config.h"
#include "node/ledger.h"
#include "node/service.h"
#include "node/settlement.h"
#include "seal/account_key.h"
#include "seal/bhttp.h"
#include "seal/chunked_ohttp.h"
#include "seal/inference_protocol.h"

namespace {

using namespace cmln;
using namespace cmln::node;

constexpr int64_t kNow = 1'700'000'000;
constexpr uint64_t kPrice = 3;

class FakeEngine : public engine::Engine {
 public:
  std::string model_name() const override { return "m"; }
  Result<seal::Digest32> ModelDigest() const override { return seal::Digest32{}; }
  Result<uint32_t> CountTokens(std::string_view text) override { return static_cast<uint32_t>(text.size() / 4); }
  Result<engine::Completion> Complete(const engine::CompletionRequest& r) override {
    engine::Completion c;
    c.text = "x";
    c.usage.prompt_tokens = static_cast<uint32_t>(r.messages.size());
    c.usage.completion_tokens = 1;
    if (r.on_text) r.on_text("x");
    return c;
  }
};

const seal::AccountPrivateKey& User() {
  static const seal::AccountPrivateKey key = std::move(seal::AccountPrivateKey::FromBytes(Bytes(32, 0x11))).value();
  return key;
}

const KeySet& Keys() {
  static const std::shared_ptr<KeySet> keys = std::move(KeySet::Generate(7)).value();
  return *keys;
}

void Admission(std::string_view header, ByteView content) {
  FakeEngine engine;
  QuotaLedger ledger(
      [](uint64_t id) -> Result<EscrowState> {
        if (id != 1) return Error(ErrorCode::kNotFound, "no escrow");
        return EscrowState{1, true, "m", 100000, seal::RequesterKeyHash(User().public_key())};
      },
      std::chrono::milliseconds(0));
  ReplayCache replay(16);
  UsageAggregator usage;
  Metrics metrics;
  ServiceOptions o;
  o.chain_id = "c";
  o.node_id = "n";
  o.model_id = "m";
  o.price_per_token = kPrice;
  InferenceService service(o, engine, ledger, replay, usage, metrics, [] { return kNow; });
  auto admitted = service.Admit(header, content, /*stream_allowed=*/true, "fuzz");
  if (!std::holds_alternative<AdmittedRequest>(admitted)) return;
  AdmittedRequest& request = std::get<AdmittedRequest>(admitted);
  Bytes receipt;
  if (request.stream()) {
    auto out = service.Stream(std::move(request), Keys(), [](std::string_view) { return true; });
    if (!std::holds_alternative<Bytes>(out)) abort();
    receipt = std::get<Bytes>(out);
  } else {
    auto out = service.Complete(std::move(request), Keys());
    if (!std::holds_alternative<Answer>(out)) abort();
    receipt = std::get<Answer>(out).receipt;
  }
  auto r = seal::DecodeReceipt(receipt);
  if (!r.ok() || !seal::VerifyReceiptSignature(*r, Keys().sign_key.public_key()).ok()) abort();
  if (r->cost != (r->prompt_tokens + r->completion_tokens) * kPrice) abort();
  if (ledger.in_flight(1) != 0 || ledger.unsettled(1) != r->cost) abort();
}

void SignedAdmission(ByteView content) {
  auto auth = seal::SignAuthorization(User(), "c", "n", 1, kNow, content);
  if (!auth.ok()) abort();
  auto bytes = seal::EncodeAuthorization(*auth);
  if (!bytes.ok()) abort();
  Admission(Base64Encode(*bytes), content);
}

void ChunkedRequest(ByteView data) {
  seal::ohttp::ChunkedOptions opts;
  opts.max_total_plaintext = 1 << 20;
  seal::ohttp::ChunkedRequestOpener opener(Keys().gateway, opts);
  auto chunks = opener.Push(data);
  if (!chunks.ok()) return;
  auto last = opener.Finish();
  if (!last.ok()) return;
  Bytes plaintext;
  for (const auto& c : *chunks) Append(plaintext, c);
  Append(plaintext, *last);
  (void)seal::bhttp::DecodeRequest(plaintext);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ByteView in(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      const std::string_view text = AsChars(in);
      const size_t split = text.find('\0');
      const std::string_view header = text.substr(0, split);
      const std::string_view content = split == std::string_view::npos ? std::string_view() : text.substr(split + 1);
      Admission(header, AsBytes(content));
      break;
    }
    case 1: SignedAdmission(in); break;
    case 2: ChunkedRequest(in); break;
    case 3: {
      auto rec = DecodeJournalRecord(in);
      if (rec.ok()) {
        auto again = EncodeJournalRecord(*rec);  // always the current layout (CMLNBAT2)
        if (!again.ok()) abort();
        if (AsChars(in.first(kJournalMagic.size())) == kJournalMagic) {
          if (Bytes(in.begin(), in.end()) != *again) abort();
        } else {  // a CMLNBAT1 record: the same batch, no usage segment
          auto back = DecodeJournalRecord(*again);
          if (!back.ok() || back->batch != rec->batch || back->usage_segment != 0 ||
              back->signature != rec->signature || back->sign_pk != rec->sign_pk) {
            abort();
          }
        }
      }
      break;
    }
    case 4: (void)ParseNodeConfig(AsChars(in)); break;
    case 5: {
      auto e = UsageAggregator::DecodeRecord(in);
      if (e.ok()) {
        const Bytes again = UsageAggregator::EncodeRecord(e->escrow_id, e->requester_key_hash, e->prompt_tokens,
                                                          e->completion_tokens, e->cost);
        if (in.size() < again.size() || Bytes(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(again.size())) != again) {
          abort();
        }
      }
      break;
    }
  }
  return 0;
}
