// Gonka envelope v1: round trips, the exact wire layout, every tampered field (threat B2), replay (B3),
// response tampering (B5), and malformed JSON at every field with its precise error code.
#include "seal/envelope_v1.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "testing/test_util.h"

namespace cmln::seal::envelope_v1 {
namespace {

using json = nlohmann::json;
using testing::Hex;

X25519KeyPair NodeKey(uint8_t fill = 0x42) {
  auto kp = X25519FromPrivate(Bytes(32, fill));
  EXPECT_TRUE(kp.ok());
  return std::move(kp).value();
}

const Bytes kBody = ToBytes(std::string_view(R"({"model":"qwen","messages":[{"role":"user","content":"hi"}]})"));

SealedRequest Seal(const X25519KeyPair& node, std::string_view session, uint64_t nonce, ByteView body = kBody) {
  auto sealed = SealRequest(node.public_key, session, nonce, body);
  EXPECT_TRUE(sealed.ok()) << sealed.error().ToString();
  return std::move(sealed).value();
}

// Re-serializes `text` after `edit` changed its JSON (field order is irrelevant to the parser).
std::string Edit(const std::string& text, const std::function<void(json&)>& edit) {
  json j = json::parse(text);
  edit(j);
  return j.dump();
}

std::string FlipBase64Byte(const std::string& b64, size_t index) {
  auto raw = Base64Decode(b64);
  EXPECT_TRUE(raw.ok());
  (*raw)[index] ^= 0x01;
  return Base64Encode(*raw);
}

ErrorCode OpenCode(const X25519KeyPair& node, const std::string& text) {
  ReplayGuard guard;
  auto opened = OpenRequest(node, text, guard);
  if (opened.ok()) return ErrorCode::kOk;
  EXPECT_EQ(guard.session_count(), 0u) << "a failed open must not record a nonce";
  return opened.error().code();
}

// --- Layout and labels ----------------------------------------------------------------------------------------

TEST(EnvelopeV1, RecipientKeyIdIsHexOfFirst8BytesOfSha256) {
  X25519PublicKey pk{};
  for (size_t i = 0; i < pk.size(); ++i) pk[i] = static_cast<uint8_t>(i + 1);
  // sha256(01 02 .. 20) computed independently (Python hashlib).
  EXPECT_EQ(RecipientKeyId(pk), "ae216c2ef5247a37");
}

TEST(EnvelopeV1, AadLayoutsAreLabelsJoinedByZeroBytes) {
  Digest32 hash{};
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(0xa0 + i);
  const Bytes want_req = Concat(std::string_view("gonka/devshard/req/v1"), Bytes{0}, std::string_view("sess"), Bytes{0},
                                Hex("0102030405060708"), Bytes{0}, ByteView(hash));
  EXPECT_EQ(RequestAad("sess", 0x0102030405060708ull, hash), want_req);
  const Bytes want_resp = Concat(std::string_view("gonka/devshard/resp/v1"), Bytes{0}, std::string_view("sess"),
                                 Bytes{0}, Hex("00000000000000ff"));
  EXPECT_EQ(ResponseAad("sess", 255), want_resp);
}

TEST(EnvelopeV1, RequestJsonHasExactlyTheSpecFieldsInOrder) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s-1", 7);
  const auto j = nlohmann::ordered_json::parse(sealed.json);
  std::vector<std::string> keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"version", "session_id", "nonce", "recipient_key_id", "kem_id", "kdf_id",
                                            "aead_id", "enc", "prompt_hash", "ciphertext"}));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["session_id"], "s-1");
  EXPECT_EQ(j["nonce"], 7);
  EXPECT_EQ(j["recipient_key_id"], RecipientKeyId(node.public_key));
  EXPECT_EQ(j["kem_id"], 0x20);
  EXPECT_EQ(j["kdf_id"], 1);
  EXPECT_EQ(j["aead_id"], 3);
  EXPECT_EQ(Base64Decode(j["enc"].get<std::string>())->size(), 32u);
  const Digest32 h = Sha256(kBody);
  EXPECT_EQ(j["prompt_hash"], Base64Encode(h));
  EXPECT_EQ(Base64Decode(j["ciphertext"].get<std::string>())->size(), kBody.size() + 16);
}

TEST(EnvelopeV1, ForTestingVariantsAreDeterministic) {
  const auto node = NodeKey();
  const Bytes eph(32, 0x07);
  auto a = SealRequestForTesting(node.public_key, "s", 1, kBody, eph);
  auto b = SealRequestForTesting(node.public_key, "s", 1, kBody, eph);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->json, b->json);
  auto eph_kp = X25519FromPrivate(eph);
  ASSERT_TRUE(eph_kp.ok());
  EXPECT_EQ(json::parse(a->json)["enc"], Base64Encode(eph_kp->public_key));
  EXPECT_NE(a->json, Seal(node, "s", 1).json);

  const Bytes rn = Hex("000102030405060708090a0b");
  auto r1 = SealResponseForTesting(a->context, kBody, rn);
  auto r2 = SealResponseForTesting(b->context, kBody, rn);
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(*r1, *r2);
  EXPECT_EQ(json::parse(*r1)["response_nonce"], Base64Encode(rn));
  EXPECT_EQ(SealResponseForTesting(a->context, kBody, Hex("0001")).error().code(), ErrorCode::kInvalidArgument);
}

// --- Round trips ------------------------------------------------------------------------------------------------

TEST(EnvelopeV1, RoundTripRequestAndResponse) {
  const auto node = NodeKey();
  ReplayGuard guard;
  uint64_t nonce = 0;
  for (size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{65536}}) {
    SCOPED_TRACE("body size " + std::to_string(size));
    Bytes body(size);
    for (size_t i = 0; i < size; ++i) body[i] = static_cast<uint8_t>(i * 7);
    auto sealed = Seal(node, "session-a", ++nonce, body);
    auto opened = OpenRequest(node, sealed.json, guard);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    EXPECT_EQ(opened->body, body);
    EXPECT_EQ(opened->context.session_id, "session-a");
    EXPECT_EQ(opened->context.nonce, nonce);
    EXPECT_EQ(ToBytes(opened->context.response_key.view()), ToBytes(sealed.context.response_key.view()));

    const Bytes answer = Concat(std::string_view("answer:"), body);
    auto response = SealResponse(opened->context, answer);
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    auto got = OpenResponse(sealed.context, *response);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, answer);
  }
  EXPECT_EQ(guard.session_count(), 1u);
}

TEST(EnvelopeV1, ResponseNoncesAreFresh) {
  const auto node = NodeKey();
  auto sealed = Seal(node, "s", 1);
  auto a = SealResponse(sealed.context, kBody);
  auto b = SealResponse(sealed.context, kBody);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(json::parse(*a)["response_nonce"], json::parse(*b)["response_nonce"]);
}

// --- B2: tampered requests --------------------------------------------------------------------------------------

TEST(EnvelopeV1, B2_TamperedCiphertextRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  const std::string ct = json::parse(sealed.json)["ciphertext"];
  const size_t ct_len = Base64Decode(ct)->size();
  for (size_t index : {size_t{0}, ct_len / 2, ct_len - 17, ct_len - 16, ct_len - 1}) {
    SCOPED_TRACE("flipped ciphertext byte " + std::to_string(index));
    const auto tampered = Edit(sealed.json, [&](json& j) { j["ciphertext"] = FlipBase64Byte(ct, index); });
    EXPECT_EQ(OpenCode(node, tampered), ErrorCode::kDecryptFailed);
  }
  // Truncated by one byte, and cut below the tag size.
  auto raw = *Base64Decode(ct);
  raw.pop_back();
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j["ciphertext"] = Base64Encode(raw); })),
            ErrorCode::kDecryptFailed);
  raw.resize(15);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j["ciphertext"] = Base64Encode(raw); })),
            ErrorCode::kMalformed);
  // The untouched request still opens: the failures recorded nothing.
  EXPECT_EQ(OpenCode(node, sealed.json), ErrorCode::kOk);
}

TEST(EnvelopeV1, B2_TamperedEncRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  const std::string enc = json::parse(sealed.json)["enc"];
  for (size_t index : {size_t{0}, size_t{15}, size_t{30}}) {
    SCOPED_TRACE("flipped enc byte " + std::to_string(index));
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j["enc"] = FlipBase64Byte(enc, index); })),
              ErrorCode::kDecryptFailed);
  }
  // A small-order point (all zeros) yields the all-zero shared secret: refused as an invalid key.
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j["enc"] = Base64Encode(Bytes(32, 0)); })),
            ErrorCode::kInvalidKey);
}

TEST(EnvelopeV1, B2_TamperedAadFieldsRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "session-x", 41);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["session_id"] = "session-y"; })),
            ErrorCode::kDecryptFailed);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["nonce"] = 42; })), ErrorCode::kDecryptFailed);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["nonce"] = 40; })), ErrorCode::kDecryptFailed);
  const std::string hash = json::parse(sealed.json)["prompt_hash"];
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j["prompt_hash"] = FlipBase64Byte(hash, 31); })),
            ErrorCode::kDecryptFailed);
}

TEST(EnvelopeV1, B2_TamperedRecipientKeyIdRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["recipient_key_id"] = "0000000000000000"; })),
            ErrorCode::kUnknownKeyId);
  // Upper case is not the format's spelling.
  std::string upper = RecipientKeyId(node.public_key);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != RecipientKeyId(node.public_key)) {
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j["recipient_key_id"] = upper; })),
              ErrorCode::kMalformed);
  }
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["recipient_key_id"] = "00000000000000"; })),
            ErrorCode::kMalformed);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["recipient_key_id"] = "000000000000000g"; })),
            ErrorCode::kMalformed);
}

TEST(EnvelopeV1, B4_RequestToAnotherNodeKeyIsUnknownKeyId) {
  const auto old_node = NodeKey(0x42);
  const auto new_node = NodeKey(0x43);
  const auto sealed = Seal(old_node, "s", 1);
  EXPECT_EQ(OpenCode(new_node, sealed.json), ErrorCode::kUnknownKeyId);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnknownKeyId), 421);
  // Claiming the new node's key id does not help: the HPKE open fails.
  EXPECT_EQ(OpenCode(new_node,
                     Edit(sealed.json, [&](json& j) { j["recipient_key_id"] = RecipientKeyId(new_node.public_key); })),
            ErrorCode::kDecryptFailed);
}

TEST(EnvelopeV1, B2_PromptHashNotMatchingBodyRejected) {
  // A sender that seals a body with a prompt_hash of something else: authentic AEAD, wrong hash.
  const auto node = NodeKey();
  Digest32 wrong_hash = Sha256(AsBytes("another prompt"));
  auto setup = hpke::SetupBaseSender(kSuite, node.public_key, AsBytes(kHpkeInfo));
  ASSERT_TRUE(setup.ok());
  auto ct = setup->context.Seal(RequestAad("s", 1, wrong_hash), kBody);
  ASSERT_TRUE(ct.ok());
  Request r;
  r.session_id = "s";
  r.nonce = 1;
  r.recipient_key_id = RecipientKeyId(node.public_key);
  r.enc = setup->enc;
  r.prompt_hash = wrong_hash;
  r.ciphertext = *ct;
  EXPECT_EQ(OpenCode(node, SerializeRequest(r)), ErrorCode::kDecryptFailed);
  // The same with the right hash opens: the check above failed only on the hash.
  auto setup2 = hpke::SetupBaseSender(kSuite, node.public_key, AsBytes(kHpkeInfo));
  ASSERT_TRUE(setup2.ok());
  r.prompt_hash = Sha256(kBody);
  r.enc = setup2->enc;
  r.ciphertext = *setup2->context.Seal(RequestAad("s", 1, r.prompt_hash), kBody);
  EXPECT_EQ(OpenCode(node, SerializeRequest(r)), ErrorCode::kOk);
}

// --- B3: replay --------------------------------------------------------------------------------------------------

TEST(EnvelopeV1, B3_ReplayedRequestRejected) {
  const auto node = NodeKey();
  ReplayGuard guard;
  const auto first = Seal(node, "s", 10);
  ASSERT_TRUE(OpenRequest(node, first.json, guard).ok());
  auto again = OpenRequest(node, first.json, guard);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kReplay);
  EXPECT_EQ(HttpStatusFor(again.error().code()), 409);
  // Same nonce, fresh ciphertext; and an older nonce: both replays.
  EXPECT_EQ(OpenRequest(node, Seal(node, "s", 10).json, guard).error().code(), ErrorCode::kReplay);
  EXPECT_EQ(OpenRequest(node, Seal(node, "s", 9).json, guard).error().code(), ErrorCode::kReplay);
  // Higher nonce in the session, and the same nonce in another session: accepted.
  EXPECT_TRUE(OpenRequest(node, Seal(node, "s", 11).json, guard).ok());
  EXPECT_TRUE(OpenRequest(node, Seal(node, "t", 10).json, guard).ok());
  EXPECT_EQ(OpenRequest(node, Seal(node, "s", 11).json, guard).error().code(), ErrorCode::kReplay);
}

TEST(EnvelopeV1, B3_ReplayGuardIsMonotonicPerSession) {
  ReplayGuard guard;
  EXPECT_TRUE(guard.Accept("a", 0).ok());
  EXPECT_EQ(guard.Accept("a", 0).error().code(), ErrorCode::kReplay);
  EXPECT_TRUE(guard.Accept("a", 5).ok());
  EXPECT_EQ(guard.Accept("a", 4).error().code(), ErrorCode::kReplay);
  EXPECT_TRUE(guard.Accept("a", UINT64_MAX).ok());
  EXPECT_EQ(guard.Accept("a", UINT64_MAX).error().code(), ErrorCode::kReplay);
  EXPECT_TRUE(guard.Accept("b", 4).ok());
  EXPECT_EQ(guard.session_count(), 2u);
}

TEST(EnvelopeV1, ReplayGuardEvictsLeastRecentlyUsedSession) {
  ReplayGuard guard(2);
  ASSERT_TRUE(guard.Accept("a", 1).ok());
  ASSERT_TRUE(guard.Accept("b", 1).ok());
  ASSERT_TRUE(guard.Accept("a", 2).ok());  // "a" is now the most recent
  ASSERT_TRUE(guard.Accept("c", 1).ok());  // evicts "b"
  EXPECT_EQ(guard.session_count(), 2u);
  EXPECT_EQ(guard.Accept("a", 2).error().code(), ErrorCode::kReplay);  // "a" remembered
  EXPECT_EQ(guard.Accept("c", 1).error().code(), ErrorCode::kReplay);  // "c" remembered
  // The documented weakness: a forgotten session starts over.
  EXPECT_TRUE(guard.Accept("b", 1).ok());
}

TEST(EnvelopeV1, B3_ConcurrentReplaysAcceptExactlyOnce) {
  ReplayGuard guard;
  std::atomic<int> accepted{0};
  std::atomic<int> replayed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (uint64_t n = 1; n <= 200; ++n) {
        auto s = guard.Accept("shared", n);
        if (s.ok()) {
          ++accepted;
        } else if (s.error().code() == ErrorCode::kReplay) {
          ++replayed;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  // Each nonce is accepted at most once, and the total accounts for every call.
  EXPECT_LE(accepted.load(), 200);
  EXPECT_GE(accepted.load(), 1);
  EXPECT_EQ(accepted.load() + replayed.load(), 8 * 200);
  EXPECT_EQ(guard.Accept("shared", 200).error().code(), ErrorCode::kReplay);
}

// --- Malformed requests ------------------------------------------------------------------------------------------

TEST(EnvelopeV1, A16_MalformedJsonRejectedWithPreciseCodes) {
  const auto node = NodeKey();
  EXPECT_EQ(OpenCode(node, ""), ErrorCode::kBadEncoding);
  EXPECT_EQ(OpenCode(node, "{"), ErrorCode::kBadEncoding);
  EXPECT_EQ(OpenCode(node, "not json"), ErrorCode::kBadEncoding);
  EXPECT_EQ(OpenCode(node, "{\"session_id\":\"\xff\xfe\"}"), ErrorCode::kBadEncoding);  // invalid UTF-8
  EXPECT_EQ(OpenCode(node, "[]"), ErrorCode::kMalformed);
  EXPECT_EQ(OpenCode(node, "1"), ErrorCode::kMalformed);
  EXPECT_EQ(OpenCode(node, "\"x\""), ErrorCode::kMalformed);
  EXPECT_EQ(OpenCode(node, "{}"), ErrorCode::kMalformed);
  EXPECT_EQ(OpenCode(node, std::string(100000, '[')), ErrorCode::kMalformed);  // depth, before parsing
  const auto sealed = Seal(node, "s", 1);
  EXPECT_EQ(OpenCode(node, sealed.json + " x"), ErrorCode::kBadEncoding);
  EXPECT_EQ(OpenCode(node, sealed.json + " "), ErrorCode::kOk);  // whitespace is JSON
}

TEST(EnvelopeV1, D4_OversizedBodyRejectedBeforeParsing) {
  const auto node = NodeKey();
  std::string big = "{\"pad\":\"" + std::string(kMaxJsonSize, 'a') + "\"}";
  EXPECT_EQ(OpenCode(node, big), ErrorCode::kLengthTooLarge);
  EXPECT_EQ(OpenResponse(ResponseContext{"s", 1, SecretBytes(32)}, big).error().code(), ErrorCode::kLengthTooLarge);
  // The client refuses to seal what the node would refuse.
  auto too_big = SealRequest(node.public_key, "s", 1, Bytes(kMaxJsonSize * 3 / 4));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code(), ErrorCode::kLengthTooLarge);
}

TEST(EnvelopeV1, A16_EveryMissingFieldRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  const json fields = json::parse(sealed.json);
  for (const auto& item : fields.items()) {
    SCOPED_TRACE("without " + item.key());
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j.erase(item.key()); })), ErrorCode::kMalformed);
  }
}

TEST(EnvelopeV1, A16_EveryWronglyTypedFieldRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  const std::vector<json> wrong_values = {json(nullptr), json(true), json::array(), json::object(),
                                          json(-1),      json(1.5),  json("1")};
  const json fields = json::parse(sealed.json);
  for (const auto& item : fields.items()) {
    for (const auto& wrong : wrong_values) {
      if (wrong.type() == item.value().type()) continue;
      SCOPED_TRACE(item.key() + " = " + wrong.dump());
      const std::string text = Edit(sealed.json, [&](json& j) { j[item.key()] = wrong; });
      // Containers exceed the flat layout's depth; everything else is the wrong type. Both are kMalformed.
      EXPECT_EQ(OpenCode(node, text), ErrorCode::kMalformed);
    }
  }
}

TEST(EnvelopeV1, A16_UnknownAndDuplicateFieldsRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["extra"] = 1; })), ErrorCode::kMalformed);
  // Duplicate key: nlohmann would silently keep the last one, other parsers the first.
  std::string dup = sealed.json;
  dup.insert(1, "\"session_id\":\"other\",");
  EXPECT_EQ(OpenCode(node, dup), ErrorCode::kMalformed);
}

TEST(EnvelopeV1, A16_UnsupportedVersionAndSuiteRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["version"] = 2; })), ErrorCode::kUnsupported);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["version"] = 0; })), ErrorCode::kUnsupported);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["kem_id"] = 0x10; })), ErrorCode::kUnsupported);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["kdf_id"] = 2; })), ErrorCode::kUnsupported);
  // B6 downgrade of the AEAD: AES-128-GCM is a fine HPKE suite but not this format's.
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["aead_id"] = 1; })), ErrorCode::kUnsupported);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["aead_id"] = 0xFFFF; })), ErrorCode::kUnsupported);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["aead_id"] = 0x10003; })), ErrorCode::kMalformed);
}

TEST(EnvelopeV1, A16_NonceOutOfRangeRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  auto with_nonce = [&](const std::string& literal) {
    json j = json::parse(sealed.json);
    j["nonce"] = 0;
    std::string text = j.dump();
    const std::string needle = "\"nonce\":0";
    text.replace(text.find(needle), needle.size(), "\"nonce\":" + literal);
    return text;
  };
  EXPECT_EQ(OpenCode(node, with_nonce("18446744073709551616")), ErrorCode::kMalformed);  // 2^64
  EXPECT_EQ(OpenCode(node, with_nonce("-1")), ErrorCode::kMalformed);
  EXPECT_EQ(OpenCode(node, with_nonce("1.0")), ErrorCode::kMalformed);
  EXPECT_EQ(OpenCode(node, with_nonce("1e0")), ErrorCode::kMalformed);
  EXPECT_EQ(OpenCode(node, with_nonce("1")), ErrorCode::kOk);
  // 2^64-1 parses; the AAD then differs from the sealed one.
  EXPECT_EQ(OpenCode(node, with_nonce("18446744073709551615")), ErrorCode::kDecryptFailed);
}

TEST(EnvelopeV1, A16_BadBase64AndWrongSizesRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  for (const char* field : {"enc", "prompt_hash", "ciphertext"}) {
    SCOPED_TRACE(field);
    const std::string good = json::parse(sealed.json)[field];
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j[field] = good.substr(0, good.size() - 1); })),
              ErrorCode::kBadEncoding);  // padding removed
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j[field] = "!!!!" + good; })), ErrorCode::kBadEncoding);
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j[field] = " " + good; })), ErrorCode::kBadEncoding);
  }
  for (const char* field : {"enc", "prompt_hash"}) {
    SCOPED_TRACE(field);
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j[field] = Base64Encode(Bytes(31, 1)); })),
              ErrorCode::kTruncated);
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j[field] = Base64Encode(Bytes(33, 1)); })),
              ErrorCode::kTrailingData);
    EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j[field] = ""; })), ErrorCode::kTruncated);
  }
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [&](json& j) { j["ciphertext"] = ""; })), ErrorCode::kMalformed);
}

TEST(EnvelopeV1, A16_SessionIdBoundsRejected) {
  const auto node = NodeKey();
  const auto sealed = Seal(node, "s", 1);
  EXPECT_EQ(OpenCode(node, Edit(sealed.json, [](json& j) { j["session_id"] = ""; })), ErrorCode::kMalformed);
  EXPECT_EQ(
      OpenCode(node, Edit(sealed.json, [](json& j) { j["session_id"] = std::string(kMaxSessionIdSize + 1, 'a'); })),
      ErrorCode::kLengthTooLarge);
  // The longest allowed session id round-trips.
  EXPECT_EQ(OpenCode(node, Seal(node, std::string(kMaxSessionIdSize, 'a'), 1).json), ErrorCode::kOk);
  // Non-ASCII UTF-8 is carried as is (AAD uses its UTF-8 bytes).
  EXPECT_EQ(OpenCode(node, Seal(node, "séance-\xe2\x9c\x93", 1).json), ErrorCode::kOk);
}

TEST(EnvelopeV1, SealRequestRefusesUnusableArguments) {
  const auto node = NodeKey();
  EXPECT_EQ(SealRequest(node.public_key, "", 1, kBody).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SealRequest(node.public_key, std::string(kMaxSessionIdSize + 1, 'a'), 1, kBody).error().code(),
            ErrorCode::kLengthTooLarge);
  EXPECT_EQ(SealRequest(node.public_key, "bad\xff", 1, kBody).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(SealRequest(X25519PublicKey{}, "s", 1, kBody).error().code(), ErrorCode::kInvalidKey);
}

// --- Responses (B5) ----------------------------------------------------------------------------------------------

struct Exchange {
  SealedRequest request;
  std::string response;
};

Exchange MakeExchange(const X25519KeyPair& node, std::string_view session, uint64_t nonce) {
  ReplayGuard guard;
  Exchange ex{Seal(node, session, nonce), ""};
  auto opened = OpenRequest(node, ex.request.json, guard);
  EXPECT_TRUE(opened.ok());
  auto response = SealResponse(opened->context, AsBytes("the answer"));
  EXPECT_TRUE(response.ok());
  ex.response = *response;
  return ex;
}

ErrorCode OpenResponseCode(const ResponseContext& ctx, const std::string& text) {
  auto r = OpenResponse(ctx, text);
  return r.ok() ? ErrorCode::kOk : r.error().code();
}

TEST(EnvelopeV1, B5_TamperedResponseRejected) {
  const auto node = NodeKey();
  const auto ex = MakeExchange(node, "s", 5);
  const auto& ctx = ex.request.context;
  ASSERT_EQ(OpenResponseCode(ctx, ex.response), ErrorCode::kOk);
  const std::string ct = json::parse(ex.response)["ciphertext"];
  const size_t ct_len = Base64Decode(ct)->size();
  for (size_t index : {size_t{0}, ct_len - 1}) {
    EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [&](json& j) { j["ciphertext"] = FlipBase64Byte(ct, index); })),
              ErrorCode::kDecryptFailed);
  }
  auto raw = *Base64Decode(ct);
  raw.pop_back();
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [&](json& j) { j["ciphertext"] = Base64Encode(raw); })),
            ErrorCode::kDecryptFailed);
  const std::string rn = json::parse(ex.response)["response_nonce"];
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [&](json& j) { j["response_nonce"] = FlipBase64Byte(rn, 0); })),
            ErrorCode::kDecryptFailed);
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [&](json& j) { j["response_nonce"] = Base64Encode(Bytes(11)); })),
            ErrorCode::kTruncated);
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [&](json& j) { j["response_nonce"] = Base64Encode(Bytes(13)); })),
            ErrorCode::kTrailingData);
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [](json& j) { j["session_id"] = "t"; })), ErrorCode::kMalformed);
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [](json& j) { j["nonce"] = 6; })), ErrorCode::kMalformed);
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [](json& j) { j["aead_id"] = 1; })), ErrorCode::kUnsupported);
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [](json& j) { j["version"] = 2; })), ErrorCode::kUnsupported);
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [](json& j) { j["more"] = 2; })), ErrorCode::kMalformed);
  EXPECT_EQ(OpenResponseCode(ctx, Edit(ex.response, [](json& j) { j.erase("response_nonce"); })),
            ErrorCode::kMalformed);
  EXPECT_EQ(OpenResponseCode(ctx, "[1]"), ErrorCode::kMalformed);
  EXPECT_EQ(OpenResponseCode(ctx, "{"), ErrorCode::kBadEncoding);
}

TEST(EnvelopeV1, B5_ResponseOfAnotherRequestRejected) {
  const auto node = NodeKey();
  const auto first = MakeExchange(node, "s", 1);
  const auto second = MakeExchange(node, "s", 2);
  // The second response under the first request's context: the nonce says it is not ours.
  EXPECT_EQ(OpenResponseCode(first.request.context, second.response), ErrorCode::kMalformed);
  // Relabelled to look like ours: the key (and AAD) differ, so authentication fails.
  EXPECT_EQ(OpenResponseCode(first.request.context, Edit(second.response, [](json& j) { j["nonce"] = 1; })),
            ErrorCode::kDecryptFailed);
}

TEST(EnvelopeV1, HttpStatusMapping) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kOk), 200);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnknownKeyId), 421);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kReplay), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInternal), 500);
  for (ErrorCode c :
       {ErrorCode::kDecryptFailed, ErrorCode::kMalformed, ErrorCode::kBadEncoding, ErrorCode::kUnsupported,
        ErrorCode::kTruncated, ErrorCode::kTrailingData, ErrorCode::kLengthTooLarge, ErrorCode::kInvalidKey}) {
    EXPECT_EQ(HttpStatusFor(c), 400) << ErrorCodeName(c);
  }
}

// --- Identity ----------------------------------------------------------------------------------------------------

Identity SampleIdentity() {
  Identity id;
  id.provider = "gonka-node-1";
  id.public_key = NodeKey().public_key;
  id.key_id = RecipientKeyId(id.public_key);
  id.quote = Hex("040002008100000000");
  id.measurement = Bytes(48, 0xab);
  id.extra = json{{"gpu", "H100"}, {"nested", {{"a", 1}}}};
  return id;
}

TEST(EnvelopeV1, IdentityRoundTrip) {
  const Identity id = SampleIdentity();
  auto text = EncodeIdentity(id);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  const auto j = json::parse(*text);
  EXPECT_EQ(j["envelope_version"], "v1");
  EXPECT_EQ(j["public_key"], Base64Encode(id.public_key));
  std::string want_measurement;
  for (int i = 0; i < 48; ++i) want_measurement += "ab";
  EXPECT_EQ(j["measurement"], want_measurement);
  auto back = DecodeIdentity(*text);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->provider, id.provider);
  EXPECT_EQ(back->envelope_version, "v1");
  EXPECT_EQ(back->public_key, id.public_key);
  EXPECT_EQ(back->key_id, id.key_id);
  EXPECT_EQ(back->quote, id.quote);
  EXPECT_EQ(back->measurement, id.measurement);
  EXPECT_EQ(back->extra, id.extra);
}

TEST(EnvelopeV1, A16_BadIdentityRejected) {
  const std::string text = *EncodeIdentity(SampleIdentity());
  auto code = [](const std::string& t) {
    auto r = DecodeIdentity(t);
    return r.ok() ? ErrorCode::kOk : r.error().code();
  };
  EXPECT_EQ(code(text), ErrorCode::kOk);
  EXPECT_EQ(code(Edit(text, [](json& j) { j["envelope_version"] = "v2"; })), ErrorCode::kUnsupported);
  EXPECT_EQ(code(Edit(text, [](json& j) { j["key_id"] = "0011223344556677"; })), ErrorCode::kChecksumMismatch);
  EXPECT_EQ(code(Edit(text, [](json& j) { j["public_key"] = Base64Encode(Bytes(31)); })), ErrorCode::kTruncated);
  EXPECT_EQ(code(Edit(text, [](json& j) { j["quote"] = "abc"; })), ErrorCode::kBadEncoding);
  EXPECT_EQ(code(Edit(text, [](json& j) { j["measurement"] = "abz"; })), ErrorCode::kBadEncoding);
  EXPECT_EQ(code(Edit(text, [](json& j) { j["provider"] = 5; })), ErrorCode::kMalformed);
  EXPECT_EQ(code(Edit(text, [](json& j) { j.erase("extra"); })), ErrorCode::kMalformed);
  EXPECT_EQ(code(Edit(text, [](json& j) { j["unknown"] = 1; })), ErrorCode::kMalformed);

  Identity bad = SampleIdentity();
  bad.key_id = "0011223344556677";
  EXPECT_EQ(EncodeIdentity(bad).error().code(), ErrorCode::kInvalidArgument);
  bad = SampleIdentity();
  bad.envelope_version = "v2";
  EXPECT_EQ(EncodeIdentity(bad).error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace cmln::seal::envelope_v1
