// OHTTP (RFC 9458) and chunked OHTTP: round trips for every AEAD, key configs, and the channel attacks
// of THREATS.md (B2 tampering without a decryption oracle, B5 stream tampering and truncation).
#include "seal/ohttp.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "seal/bhttp.h"
#include "seal/chunked_ohttp.h"
#include "testing/test_util.h"

namespace cmln::seal::ohttp {
namespace {

constexpr uint8_t kKeyId = 7;
const SymmetricAlgorithm kAes128{1, 1};
const SymmetricAlgorithm kAes256{1, 2};
const SymmetricAlgorithm kChaCha{1, 3};

hpke::Suite SuiteWith(hpke::AeadId aead) {
  return hpke::Suite{hpke::KemId::kX25519HkdfSha256, hpke::KdfId::kHkdfSha256, aead};
}

struct TestKey {
  KeyConfig config;
  SecretBytes private_key;
};

TestKey MakeKey(uint8_t key_id, std::vector<SymmetricAlgorithm> algorithms) {
  X25519KeyPair kp = X25519Generate();
  KeyConfig c;
  c.key_id = key_id;
  c.kem_id = 0x0020;
  c.public_key = Bytes(kp.public_key.begin(), kp.public_key.end());
  c.algorithms = std::move(algorithms);
  return TestKey{std::move(c), std::move(kp.private_key)};
}

Gateway MakeGateway(const TestKey& key) {
  Gateway g;
  Status s = g.AddKey(key.config, key.private_key.Clone());
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return g;
}

Bytes SampleBhttpRequest() {
  bhttp::Request r;
  r.method = "POST";
  r.scheme = "https";
  r.authority = "node.example";
  r.path = "/v1/chat/completions";
  r.headers = {{"content-type", "application/json"}};
  r.content = ToBytes(std::string_view(R"({"messages":[{"role":"user","content":"hello"}],"stream":true})"));
  auto e = bhttp::EncodeRequest(r);
  EXPECT_TRUE(e.ok());
  return *e;
}

Bytes SampleBhttpResponse() {
  bhttp::Response r;
  r.status = 200;
  r.headers = {{"content-type", "application/json"}};
  r.content = ToBytes(std::string_view(R"({"choices":[{"message":{"content":"hi"}}]})"));
  auto e = bhttp::EncodeResponse(r);
  EXPECT_TRUE(e.ok());
  return *e;
}

// The three fixed gateway messages: nothing beyond the kind of failure.
const char kUnknownKeyIdMessage[] = "ohttp: request key id not recognized";
const char kUnsupportedMessage[] = "ohttp: request algorithms not supported or not offered for this key";
const char kDecryptFailedMessage[] = "ohttp: request decryption failed";

TEST(Ohttp, MediaTypes) {
  EXPECT_EQ(kRequestMediaType, "message/ohttp-req");
  EXPECT_EQ(kResponseMediaType, "message/ohttp-res");
  EXPECT_EQ(kChunkedRequestMediaType, "message/ohttp-chunked-req");
  EXPECT_EQ(kChunkedResponseMediaType, "message/ohttp-chunked-res");
  EXPECT_EQ(kKeysMediaType, "application/ohttp-keys");
}

TEST(Ohttp, RoundTripEveryAead) {
  const TestKey key = MakeKey(kKeyId, {kAes128, kAes256, kChaCha});
  const Gateway gateway = MakeGateway(key);
  for (hpke::AeadId aead : {hpke::AeadId::kAes128Gcm, hpke::AeadId::kAes256Gcm, hpke::AeadId::kChaCha20Poly1305}) {
    SCOPED_TRACE(static_cast<int>(aead));
    const hpke::Suite suite = SuiteWith(aead);
    auto client = EncapsulateRequest(key.config, suite, SampleBhttpRequest());
    ASSERT_TRUE(client.ok()) << client.error().ToString();
    EXPECT_EQ(client->encapsulated_request.size(), kRequestHeaderSize + 32 + SampleBhttpRequest().size() + 16);
    EXPECT_EQ(client->context.suite(), suite);
    auto server = gateway.DecapsulateRequest(client->encapsulated_request);
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    EXPECT_EQ(server->bhttp_request, SampleBhttpRequest());
    EXPECT_EQ(server->context.suite(), suite);
    EXPECT_EQ(server->context.key_id(), kKeyId);
    auto sealed = server->context.EncapsulateResponse(SampleBhttpResponse());
    ASSERT_TRUE(sealed.ok());
    const size_t nonce_len = aead == hpke::AeadId::kAes128Gcm ? 16 : 32;  // max(Nn, Nk)
    EXPECT_EQ(ResponseNonceLength(aead), nonce_len);
    EXPECT_EQ(sealed->size(), nonce_len + SampleBhttpResponse().size() + 16);
    auto opened = client->context.DecapsulateResponse(*sealed);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    EXPECT_EQ(*opened, SampleBhttpResponse());
    // Two encapsulations of the same request differ (fresh ephemeral key), as do two responses.
    auto again = EncapsulateRequest(key.config, suite, SampleBhttpRequest());
    ASSERT_TRUE(again.ok());
    EXPECT_NE(again->encapsulated_request, client->encapsulated_request);
    auto sealed2 = server->context.EncapsulateResponse(SampleBhttpResponse());
    ASSERT_TRUE(sealed2.ok());
    EXPECT_NE(*sealed2, *sealed);
  }
}

// B2: every byte of the encapsulated request flipped (three masks). The key id gives kUnknownKeyId, the
// algorithm ids kUnsupported, the encapsulated key and ciphertext kDecryptFailed; each with one fixed message.
TEST(Ohttp, B2_EveryRequestByteFlipped) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto client = EncapsulateRequest(key.config, SuiteWith(hpke::AeadId::kAes128Gcm), SampleBhttpRequest());
  ASSERT_TRUE(client.ok());
  const Bytes& good = client->encapsulated_request;
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      SCOPED_TRACE("byte " + std::to_string(i) + " mask " + std::to_string(mask));
      Bytes bad = good;
      bad[i] ^= mask;
      auto r = gateway.DecapsulateRequest(bad);
      ASSERT_FALSE(r.ok());
      if (i == 0) {
        EXPECT_EQ(r.error().code(), ErrorCode::kUnknownKeyId);
        EXPECT_EQ(r.error().message(), kUnknownKeyIdMessage);
      } else if (i < kRequestHeaderSize) {
        EXPECT_EQ(r.error().code(), ErrorCode::kUnsupported);
        EXPECT_EQ(r.error().message(), kUnsupportedMessage);
      } else {
        EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
        EXPECT_EQ(r.error().message(), kDecryptFailedMessage);
      }
    }
  }
}

// B2: switching the header to another suite the key does offer is caught by decryption (the header is
// part of the HPKE info), with the same generic error.
TEST(Ohttp, B2_HeaderSwitchedToAnotherOfferedSuite) {
  const TestKey key = MakeKey(kKeyId, {kAes128, kChaCha});
  const Gateway gateway = MakeGateway(key);
  auto client = EncapsulateRequest(key.config, SuiteWith(hpke::AeadId::kAes128Gcm), SampleBhttpRequest());
  ASSERT_TRUE(client.ok());
  Bytes bad = client->encapsulated_request;
  bad[6] = 0x03;  // AEAD id low byte: AES-128-GCM -> ChaCha20-Poly1305
  auto r = gateway.DecapsulateRequest(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
  EXPECT_EQ(r.error().message(), kDecryptFailedMessage);
}

TEST(Ohttp, B2_TruncatedRequest) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto client = EncapsulateRequest(key.config, SuiteWith(hpke::AeadId::kAes128Gcm), SampleBhttpRequest());
  ASSERT_TRUE(client.ok());
  const Bytes& good = client->encapsulated_request;
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = gateway.DecapsulateRequest(ByteView(good).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code(), n < kRequestHeaderSize + 32 ? ErrorCode::kTruncated : ErrorCode::kDecryptFailed)
        << "prefix " << n;
  }
  Bytes longer = good;
  longer.push_back(0);
  auto r = gateway.DecapsulateRequest(longer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
}

TEST(Ohttp, B2_SmallOrderEncapsulatedKeyIsDecryptFailure) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto client = EncapsulateRequest(key.config, SuiteWith(hpke::AeadId::kAes128Gcm), SampleBhttpRequest());
  ASSERT_TRUE(client.ok());
  Bytes bad = client->encapsulated_request;
  std::fill(bad.begin() + kRequestHeaderSize, bad.begin() + kRequestHeaderSize + 32, 0);  // the zero point
  auto r = gateway.DecapsulateRequest(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
  EXPECT_EQ(r.error().message(), kDecryptFailedMessage);
}

TEST(Ohttp, B2_SameKeyIdOtherKeyFailsDecryption) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const TestKey impostor = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(impostor);
  auto client = EncapsulateRequest(key.config, SuiteWith(hpke::AeadId::kAes128Gcm), SampleBhttpRequest());
  ASSERT_TRUE(client.ok());
  auto r = gateway.DecapsulateRequest(client->encapsulated_request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
}

TEST(Ohttp, B5_ResponseTamperingAndTruncationRejected) {
  const TestKey key = MakeKey(kKeyId, {kAes128, kChaCha});
  const Gateway gateway = MakeGateway(key);
  for (hpke::AeadId aead : {hpke::AeadId::kAes128Gcm, hpke::AeadId::kChaCha20Poly1305}) {
    auto client = EncapsulateRequest(key.config, SuiteWith(aead), SampleBhttpRequest());
    ASSERT_TRUE(client.ok());
    auto server = gateway.DecapsulateRequest(client->encapsulated_request);
    ASSERT_TRUE(server.ok());
    auto sealed = server->context.EncapsulateResponse(SampleBhttpResponse());
    ASSERT_TRUE(sealed.ok());
    for (size_t i = 0; i < sealed->size(); ++i) {
      Bytes bad = *sealed;
      bad[i] ^= 0x01;
      auto r = client->context.DecapsulateResponse(bad);
      ASSERT_FALSE(r.ok()) << i;
      EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed) << i;
    }
    const size_t nonce_len = ResponseNonceLength(aead);
    for (size_t n = 0; n < sealed->size(); ++n) {
      auto r = client->context.DecapsulateResponse(ByteView(*sealed).first(n));
      ASSERT_FALSE(r.ok()) << n;
      EXPECT_EQ(r.error().code(), n < nonce_len ? ErrorCode::kTruncated : ErrorCode::kDecryptFailed) << n;
    }
    // A response sealed for another exchange does not open.
    auto other = EncapsulateRequest(key.config, SuiteWith(aead), SampleBhttpRequest());
    ASSERT_TRUE(other.ok());
    auto r = other->context.DecapsulateResponse(*sealed);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
  }
}

TEST(Ohttp, KeyConfigWithoutSupportedSuiteRejected) {
  TestKey key = MakeKey(kKeyId, {{1, 0xffff}, {2, 1}, {1, 4}});  // export-only, unknown KDF, unknown AEAD
  auto selected = SelectSuite(key.config);
  ASSERT_FALSE(selected.ok());
  EXPECT_EQ(selected.error().code(), ErrorCode::kUnsupported);
  auto enc = EncapsulateRequest(key.config, SuiteWith(hpke::AeadId::kAes128Gcm), SampleBhttpRequest());
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.error().code(), ErrorCode::kUnsupported);
  auto chunked = ChunkedRequestSealer::Create(key.config, SuiteWith(hpke::AeadId::kAes128Gcm));
  ASSERT_FALSE(chunked.ok());
  EXPECT_EQ(chunked.error().code(), ErrorCode::kUnsupported);
  Gateway g;
  Status s = g.AddKey(key.config, key.private_key.Clone());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnsupported);
  // The config still parses (a client must be able to skip unsupported pairs).
  auto bytes = EncodeKeyConfig(key.config);
  ASSERT_TRUE(bytes.ok());
  auto decoded = DecodeKeyConfig(*bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, key.config);
  // Supported pairs after unsupported ones are selected.
  key.config.algorithms.push_back(kChaCha);
  auto chosen = SelectSuite(key.config);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(*chosen, SuiteWith(hpke::AeadId::kChaCha20Poly1305));
}

TEST(Ohttp, SuiteNotOfferedByConfigRejected) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  auto enc = EncapsulateRequest(key.config, SuiteWith(hpke::AeadId::kAes256Gcm), SampleBhttpRequest());
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.error().code(), ErrorCode::kUnsupported);
  auto export_only = EncapsulateRequest(key.config, SuiteWith(hpke::AeadId::kExportOnly), SampleBhttpRequest());
  ASSERT_FALSE(export_only.ok());
  EXPECT_EQ(export_only.error().code(), ErrorCode::kUnsupported);
}

TEST(Ohttp, KeyConfigDecodeErrors) {
  const TestKey key = MakeKey(kKeyId, {kAes128, kChaCha});
  auto good = EncodeKeyConfig(key.config);
  ASSERT_TRUE(good.ok());
  ASSERT_EQ(good->size(), 1u + 2 + 32 + 2 + 8);
  for (size_t n = 0; n < good->size(); ++n) {
    auto r = DecodeKeyConfig(ByteView(*good).first(n));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kTruncated) << n;
  }
  Bytes trailing = *good;
  trailing.push_back(0);
  auto t = DecodeKeyConfig(trailing);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::kTrailingData);

  Bytes unknown_kem = *good;
  unknown_kem[2] = 0x21;  // KEM 0x0021 (X448): key size unknown to us
  auto u = DecodeKeyConfig(unknown_kem);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code(), ErrorCode::kUnsupported);

  for (uint16_t bad_len : {0, 6}) {
    Bytes b(good->begin(), good->begin() + 35);
    b.push_back(static_cast<uint8_t>(bad_len >> 8));
    b.push_back(static_cast<uint8_t>(bad_len));
    b.insert(b.end(), bad_len, 0x01);
    auto r = DecodeKeyConfig(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << bad_len;
  }

  KeyConfig no_algorithms = key.config;
  no_algorithms.algorithms.clear();
  auto e = EncodeKeyConfig(no_algorithms);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
  KeyConfig short_key = key.config;
  short_key.public_key.pop_back();
  e = EncodeKeyConfig(short_key);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
}

TEST(Ohttp, KeyConfigListRoundTripAndSkipsUnknownKem) {
  const TestKey a = MakeKey(1, {kAes128});
  const TestKey b = MakeKey(2, {kChaCha, kAes256});
  const std::vector<KeyConfig> configs = {a.config, b.config};
  auto list = EncodeKeyConfigList(configs);
  ASSERT_TRUE(list.ok());
  auto decoded = DecodeKeyConfigList(*list);
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(*decoded, configs);

  // An entry with a KEM we do not know is skipped, not fatal.
  auto one = EncodeKeyConfig(a.config);
  ASSERT_TRUE(one.ok());
  Bytes x448 = *one;
  x448[2] = 0x21;
  Bytes mixed = {static_cast<uint8_t>(x448.size() >> 8), static_cast<uint8_t>(x448.size())};
  Append(mixed, x448);
  Append(mixed, *list);
  auto skipped = DecodeKeyConfigList(mixed);
  ASSERT_TRUE(skipped.ok()) << skipped.error().ToString();
  EXPECT_EQ(*skipped, configs);

  // Any other error fails the list: truncation of the last entry, a lying length.
  auto cut = DecodeKeyConfigList(ByteView(*list).first(list->size() - 1));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code(), ErrorCode::kTruncated);
  Bytes lying = *list;
  lying[1] += 1;  // first entry claims one byte more: it swallows the next length's first byte
  auto l = DecodeKeyConfigList(lying);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code(), ErrorCode::kTrailingData);

  // More entries than the cap.
  Bytes many;
  for (size_t i = 0; i <= kMaxKeyConfigsInList; ++i) {
    many.push_back(static_cast<uint8_t>(one->size() >> 8));
    many.push_back(static_cast<uint8_t>(one->size()));
    Append(many, *one);
  }
  auto m = DecodeKeyConfigList(many);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kLengthTooLarge);
  auto empty = DecodeKeyConfigList({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(Ohttp, GatewayKeyManagement) {
  const TestKey a = MakeKey(1, {kAes128});
  const TestKey b = MakeKey(2, {kChaCha});
  Gateway g;
  ASSERT_TRUE(g.AddKey(a.config, a.private_key.Clone()).ok());
  // Wrong private half.
  Status wrong = g.AddKey(b.config, a.private_key.Clone());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kInvalidKey);
  ASSERT_TRUE(g.AddKey(b.config, b.private_key.Clone()).ok());
  // Duplicate key id.
  TestKey dup = MakeKey(1, {kAes128});
  Status d = g.AddKey(dup.config, dup.private_key.Clone());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(g.key_count(), 2u);

  auto list = g.EncodedKeyConfigs();
  ASSERT_TRUE(list.ok());
  auto configs = DecodeKeyConfigList(*list);
  ASSERT_TRUE(configs.ok());
  ASSERT_EQ(configs->size(), 2u);
  // A request to each key opens.
  for (const KeyConfig& c : *configs) {
    auto suite = SelectSuite(c);
    ASSERT_TRUE(suite.ok());
    auto client = EncapsulateRequest(c, *suite, SampleBhttpRequest());
    ASSERT_TRUE(client.ok());
    auto server = g.DecapsulateRequest(client->encapsulated_request);
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    EXPECT_EQ(server->context.key_id(), c.key_id);
    EXPECT_EQ(server->bhttp_request, SampleBhttpRequest());
  }
}

// ----------------------------------------------------------------------------------------------
// Chunked OHTTP.

struct ChunkedExchange {
  ChunkedRequestSealer client;
  Bytes request_stream;
};

std::vector<Bytes> SseEvents() {
  std::vector<Bytes> events;
  for (int i = 0; i < 6; ++i) {
    events.push_back(ToBytes("data: {\"choices\":[{\"delta\":{\"content\":\"tok" + std::to_string(i) + "\"}}]}\n\n"));
  }
  return events;
}

// Feeds `stream` to a push function in fragments of 1, 2, 3, ... bytes; collects the chunks.
template <typename Opener>
Result<std::vector<Bytes>> FeedInFragments(Opener& opener, ByteView stream) {
  std::vector<Bytes> out;
  size_t step = 1;
  for (size_t pos = 0; pos < stream.size(); pos += step, step = step % 11 + 1) {
    CMLN_ASSIGN_OR_RETURN(std::vector<Bytes> chunks, opener.Push(stream.subspan(pos, std::min(step, stream.size() - pos))));
    for (auto& c : chunks) out.push_back(std::move(c));
  }
  return out;
}

TEST(ChunkedOhttp, RoundTripEveryAeadWithSseStream) {
  const TestKey key = MakeKey(kKeyId, {kAes128, kAes256, kChaCha});
  const Gateway gateway = MakeGateway(key);
  const Bytes request = SampleBhttpRequest();
  for (hpke::AeadId aead : {hpke::AeadId::kAes128Gcm, hpke::AeadId::kAes256Gcm, hpke::AeadId::kChaCha20Poly1305}) {
    SCOPED_TRACE(static_cast<int>(aead));
    auto client = ChunkedRequestSealer::Create(key.config, SuiteWith(aead));
    ASSERT_TRUE(client.ok()) << client.error().ToString();
    // The request in three pieces, one of them empty (legal: the sealed chunk is still 16 bytes).
    Bytes stream;
    for (auto piece : {ByteView(request).first(10), ByteView(), ByteView(request).subspan(10)}) {
      auto out = client->SealChunk(piece);
      ASSERT_TRUE(out.ok());
      Append(stream, *out);
    }
    auto fin = client->SealFinalChunk({});
    ASSERT_TRUE(fin.ok());
    Append(stream, *fin);
    EXPECT_TRUE(client->finished());

    ChunkedRequestOpener opener(gateway);
    auto chunks = FeedInFragments(opener, stream);
    ASSERT_TRUE(chunks.ok()) << chunks.error().ToString();
    EXPECT_TRUE(opener.header_complete());
    auto last = opener.Finish();
    ASSERT_TRUE(last.ok()) << last.error().ToString();
    ASSERT_EQ(chunks->size(), 3u);
    EXPECT_EQ(Concat((*chunks)[0], (*chunks)[1], (*chunks)[2], *last), request);

    // Gateway streams an indeterminate-length BHTTP response as SSE events, one chunk per event.
    auto sealer = opener.NewResponseSealer();
    ASSERT_TRUE(sealer.ok()) << sealer.error().ToString();
    bhttp::Response head;
    head.headers = {{"content-type", "text/event-stream"}};
    auto head_bytes = bhttp::EncodeIndeterminateResponseHead(head);
    ASSERT_TRUE(head_bytes.ok());
    Bytes response_stream;
    auto first = sealer->SealChunk(*head_bytes);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->size(), ResponseNonceLength(aead) + 1 + head_bytes->size() + 16);
    Append(response_stream, *first);
    for (const Bytes& ev : SseEvents()) {
      auto c = bhttp::EncodeIndeterminateContentChunk(ev);
      ASSERT_TRUE(c.ok());
      auto out = sealer->SealChunk(*c);
      ASSERT_TRUE(out.ok());
      Append(response_stream, *out);
    }
    auto tail = bhttp::EncodeIndeterminateResponseTail({});
    ASSERT_TRUE(tail.ok());
    auto out = sealer->SealFinalChunk(*tail);
    ASSERT_TRUE(out.ok());
    Append(response_stream, *out);

    ChunkedResponseOpener ropener = client->NewResponseOpener();
    auto rchunks = FeedInFragments(ropener, response_stream);
    ASSERT_TRUE(rchunks.ok()) << rchunks.error().ToString();
    auto rlast = ropener.Finish();
    ASSERT_TRUE(rlast.ok()) << rlast.error().ToString();
    ASSERT_EQ(rchunks->size(), 1 + SseEvents().size());
    Bytes plaintext;
    for (const Bytes& c : *rchunks) Append(plaintext, c);
    Append(plaintext, *rlast);
    auto decoded = bhttp::DecodeResponse(plaintext);
    ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
    Bytes want_content;
    for (const Bytes& ev : SseEvents()) Append(want_content, ev);
    EXPECT_EQ(decoded->content, want_content);
    EXPECT_EQ(decoded->headers, head.headers);
  }
}

// Builds a response stream of a nonce, `n` non-final chunks and a final one; returns the pieces.
struct ResponsePieces {
  ChunkedRequestSealer client;
  Bytes nonce_and_first;  // nonce || chunk 0
  std::vector<Bytes> chunks;  // chunks 1..n-1
  Bytes final_chunk;
};

Result<ResponsePieces> MakeResponsePieces(const TestKey& key, const Gateway& gateway, size_t n) {
  CMLN_ASSIGN_OR_RETURN(ChunkedRequestSealer client,
                        ChunkedRequestSealer::Create(key.config, SuiteWith(hpke::AeadId::kAes128Gcm)));
  CMLN_ASSIGN_OR_RETURN(Bytes req, client.SealFinalChunk(SampleBhttpRequest()));
  ChunkedRequestOpener opener(gateway);
  CMLN_TRY(opener.Push(req));
  CMLN_TRY(opener.Finish());
  CMLN_ASSIGN_OR_RETURN(ChunkedResponseSealer sealer, opener.NewResponseSealer());
  ResponsePieces p{std::move(client), {}, {}, {}};
  for (size_t i = 0; i < n; ++i) {
    CMLN_ASSIGN_OR_RETURN(Bytes c, sealer.SealChunk(ToBytes("chunk " + std::to_string(i))));
    if (i == 0) {
      p.nonce_and_first = std::move(c);
    } else {
      p.chunks.push_back(std::move(c));
    }
  }
  CMLN_ASSIGN_OR_RETURN(p.final_chunk, sealer.SealFinalChunk(ToBytes(std::string_view("end"))));
  return p;
}

// Pushes everything and finishes; returns the first error, or OK.
Status OpenWhole(ChunkedResponseOpener& opener, ByteView stream) {
  CMLN_TRY(opener.Push(stream));
  CMLN_TRY(opener.Finish());
  return OkStatus();
}

TEST(ChunkedOhttp, B5_ResponseChunkDropped) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto p = MakeResponsePieces(key, gateway, 4);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  // Intact stream opens.
  {
    ChunkedResponseOpener o = p->client.NewResponseOpener();
    Status s = OpenWhole(o, Concat(p->nonce_and_first, p->chunks[0], p->chunks[1], p->chunks[2], p->final_chunk));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }
  for (size_t drop = 0; drop < 3; ++drop) {
    Bytes stream = p->nonce_and_first;
    for (size_t i = 0; i < 3; ++i) {
      if (i != drop) Append(stream, p->chunks[i]);
    }
    Append(stream, p->final_chunk);
    ChunkedResponseOpener o = p->client.NewResponseOpener();
    Status s = OpenWhole(o, stream);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), ErrorCode::kDecryptFailed) << drop;
  }
}

TEST(ChunkedOhttp, B5_ResponseChunksReordered) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto p = MakeResponsePieces(key, gateway, 3);
  ASSERT_TRUE(p.ok());
  ChunkedResponseOpener o = p->client.NewResponseOpener();
  auto first = o.Push(p->nonce_and_first);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0], ToBytes(std::string_view("chunk 0")));
  auto swapped = o.Push(Concat(p->chunks[1], p->chunks[0]));
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().code(), ErrorCode::kDecryptFailed);
  // Sticky: the opener stays failed.
  auto later = o.Push(p->final_chunk);
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().code(), ErrorCode::kDecryptFailed);
  auto fin = o.Finish();
  ASSERT_FALSE(fin.ok());
  EXPECT_EQ(fin.error().code(), ErrorCode::kDecryptFailed);
}

TEST(ChunkedOhttp, B5_FinalChunkMissing) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto p = MakeResponsePieces(key, gateway, 3);
  ASSERT_TRUE(p.ok());
  // Stream stops after the last non-final chunk: every chunk opened, but Finish says truncated.
  {
    ChunkedResponseOpener o = p->client.NewResponseOpener();
    auto chunks = o.Push(Concat(p->nonce_and_first, p->chunks[0], p->chunks[1]));
    ASSERT_TRUE(chunks.ok());
    EXPECT_EQ(chunks->size(), 3u);
    auto fin = o.Finish();
    ASSERT_FALSE(fin.ok());
    EXPECT_EQ(fin.error().code(), ErrorCode::kTruncated);
    EXPECT_FALSE(o.finished());
  }
  // Stream stops inside the nonce.
  {
    ChunkedResponseOpener o = p->client.NewResponseOpener();
    ASSERT_TRUE(o.Push(ByteView(p->nonce_and_first).first(5)).ok());
    auto fin = o.Finish();
    ASSERT_FALSE(fin.ok());
    EXPECT_EQ(fin.error().code(), ErrorCode::kTruncated);
  }
  // Every prefix of the whole stream is rejected at some point.
  const Bytes whole = Concat(p->nonce_and_first, p->chunks[0], p->chunks[1], p->final_chunk);
  for (size_t n = 0; n < whole.size(); ++n) {
    ChunkedResponseOpener o = p->client.NewResponseOpener();
    Status s = OpenWhole(o, ByteView(whole).first(n));
    ASSERT_FALSE(s.ok()) << n;
    // Cutting inside the final chunk fails authentication; anywhere earlier the final chunk is missing.
    const bool in_final = n > whole.size() - p->final_chunk.size();
    EXPECT_EQ(s.error().code(), in_final ? ErrorCode::kDecryptFailed : ErrorCode::kTruncated) << n;
  }
  // The last non-final chunk relabelled as final (length 0) does not authenticate: the AAD differs.
  {
    Bytes relabelled = p->chunks[1];
    relabelled[0] = 0x00;  // one-byte varint length -> final indicator
    ChunkedResponseOpener o = p->client.NewResponseOpener();
    Status s = OpenWhole(o, Concat(p->nonce_and_first, p->chunks[0], relabelled));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), ErrorCode::kDecryptFailed);
  }
  // And the final chunk framed as non-final does not open either.
  {
    Bytes reframed = p->final_chunk;
    reframed[0] = static_cast<uint8_t>(reframed.size() - 1);
    ChunkedResponseOpener o = p->client.NewResponseOpener();
    auto r = o.Push(Concat(p->nonce_and_first, p->chunks[0], p->chunks[1], reframed));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kDecryptFailed);
  }
}

TEST(ChunkedOhttp, B5_EveryResponseByteFlipped) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto p = MakeResponsePieces(key, gateway, 2);
  ASSERT_TRUE(p.ok());
  const Bytes whole = Concat(p->nonce_and_first, p->chunks[0], p->final_chunk);
  // Offsets of the one-byte chunk length fields: after the 16-byte nonce, and at each chunk start.
  const std::set<size_t> length_bytes = {16, p->nonce_and_first.size(), p->nonce_and_first.size() + p->chunks[0].size()};
  for (size_t i = 0; i < whole.size(); ++i) {
    Bytes bad = whole;
    bad[i] ^= 0x01;
    ChunkedResponseOpener o = p->client.NewResponseOpener();
    Status s = OpenWhole(o, bad);
    ASSERT_FALSE(s.ok()) << i;
    if (!length_bytes.count(i)) {
      EXPECT_EQ(s.error().code(), ErrorCode::kDecryptFailed) << i;
    }
  }
}

TEST(ChunkedOhttp, B5_RequestChunkDroppedReorderedOrFinalMissing) {
  const TestKey key = MakeKey(kKeyId, {kChaCha});
  const Gateway gateway = MakeGateway(key);
  auto client = ChunkedRequestSealer::Create(key.config, SuiteWith(hpke::AeadId::kChaCha20Poly1305));
  ASSERT_TRUE(client.ok());
  std::vector<Bytes> pieces;
  for (int i = 0; i < 3; ++i) {
    auto c = client->SealChunk(ToBytes("part " + std::to_string(i)));
    ASSERT_TRUE(c.ok());
    pieces.push_back(*c);
  }
  auto fin = client->SealFinalChunk({});
  ASSERT_TRUE(fin.ok());
  const size_t header = kRequestHeaderSize + 32;
  const Bytes hdr(pieces[0].begin(), pieces[0].begin() + header);
  const Bytes c0(pieces[0].begin() + header, pieces[0].end());

  auto open = [&](const Bytes& stream) -> Status {
    ChunkedRequestOpener o(gateway);
    CMLN_TRY(o.Push(stream));
    CMLN_TRY(o.Finish());
    return OkStatus();
  };
  ASSERT_TRUE(open(Concat(hdr, c0, pieces[1], pieces[2], *fin)).ok());
  Status dropped = open(Concat(hdr, c0, pieces[2], *fin));
  ASSERT_FALSE(dropped.ok());
  EXPECT_EQ(dropped.error().code(), ErrorCode::kDecryptFailed);
  Status reordered = open(Concat(hdr, pieces[1], c0, pieces[2], *fin));
  ASSERT_FALSE(reordered.ok());
  EXPECT_EQ(reordered.error().code(), ErrorCode::kDecryptFailed);
  Status missing = open(Concat(hdr, c0, pieces[1], pieces[2]));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kTruncated);
}

TEST(ChunkedOhttp, RequestHeaderErrorsLikeOhttp) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto client = ChunkedRequestSealer::Create(key.config, SuiteWith(hpke::AeadId::kAes128Gcm));
  ASSERT_TRUE(client.ok());
  auto stream = client->SealFinalChunk(SampleBhttpRequest());
  ASSERT_TRUE(stream.ok());
  struct Case {
    size_t offset;
    ErrorCode code;
  };
  for (const Case& c : {Case{0, ErrorCode::kUnknownKeyId}, Case{2, ErrorCode::kUnsupported},
                        Case{4, ErrorCode::kUnsupported}, Case{6, ErrorCode::kUnsupported},
                        Case{10, ErrorCode::kDecryptFailed}, Case{60, ErrorCode::kDecryptFailed}}) {
    Bytes bad = *stream;
    bad[c.offset] ^= 0x80;
    ChunkedRequestOpener o(gateway);
    Status s = [&]() -> Status {
      CMLN_TRY(o.Push(bad));
      CMLN_TRY(o.Finish());
      return OkStatus();
    }();
    ASSERT_FALSE(s.ok()) << c.offset;
    EXPECT_EQ(s.error().code(), c.code) << c.offset;
  }
  // A chunked request is not accepted as a plain one (different HPKE info label and framing).
  auto as_chunked = gateway.DecapsulateRequest(*stream);
  ASSERT_FALSE(as_chunked.ok());
  EXPECT_EQ(as_chunked.error().code(), ErrorCode::kDecryptFailed);
  // A stream ending inside the header: truncated.
  ChunkedRequestOpener o(gateway);
  ASSERT_TRUE(o.Push(ByteView(*stream).first(20)).ok());
  EXPECT_FALSE(o.header_complete());
  auto fin = o.Finish();
  ASSERT_FALSE(fin.ok());
  EXPECT_EQ(fin.error().code(), ErrorCode::kTruncated);
  auto no_sealer = o.NewResponseSealer();
  ASSERT_FALSE(no_sealer.ok());
  EXPECT_EQ(no_sealer.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ChunkedOhttp, SequenceOverflowRefused) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto client = ChunkedRequestSealer::Create(key.config, SuiteWith(hpke::AeadId::kAes128Gcm));
  ASSERT_TRUE(client.ok());
  auto first = client->SealChunk(ToBytes(std::string_view("a")));
  ASSERT_TRUE(first.ok());
  ChunkedRequestOpener opener(gateway);
  ASSERT_TRUE(opener.Push(*first).ok());
  client->SetSequenceForTesting(0xffffffff, std::numeric_limits<uint64_t>::max());
  auto overflow = client->SealChunk(ToBytes(std::string_view("b")));
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().code(), ErrorCode::kSequenceOverflow);

  auto sealer = opener.NewResponseSealer();
  ASSERT_TRUE(sealer.ok());
  sealer->SetCounterForTesting(std::numeric_limits<uint64_t>::max() - 1);
  auto last_ok = sealer->SealChunk(ToBytes(std::string_view("x")));
  ASSERT_TRUE(last_ok.ok());
  auto refused = sealer->SealChunk(ToBytes(std::string_view("y")));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kSequenceOverflow);
  auto refused_final = sealer->SealFinalChunk({});
  ASSERT_FALSE(refused_final.ok());
  EXPECT_EQ(refused_final.error().code(), ErrorCode::kSequenceOverflow);

  // The opener refuses at the same counter.
  ChunkedResponseOpener ropener = client->NewResponseOpener();
  ropener.SetCounterForTesting(std::numeric_limits<uint64_t>::max() - 1);
  auto got = ropener.Push(*last_ok);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0], ToBytes(std::string_view("x")));
  auto more = ropener.Push(Bytes{0x11});
  ASSERT_TRUE(more.ok());  // waiting for the chunk's bytes
  auto done = ropener.Push(Bytes(17, 0));
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code(), ErrorCode::kSequenceOverflow);
}

TEST(ChunkedOhttp, MisuseAfterFinalRefused) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto client = ChunkedRequestSealer::Create(key.config, SuiteWith(hpke::AeadId::kAes128Gcm));
  ASSERT_TRUE(client.ok());
  auto fin = client->SealFinalChunk(SampleBhttpRequest());
  ASSERT_TRUE(fin.ok());
  auto again = client->SealChunk(ToBytes(std::string_view("more")));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kInvalidArgument);

  ChunkedRequestOpener opener(gateway);
  ASSERT_TRUE(opener.Push(*fin).ok());
  auto body = opener.Finish();
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, SampleBhttpRequest());
  EXPECT_TRUE(opener.finished());
  auto after = opener.Push(Bytes{0x00});
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), ErrorCode::kInvalidArgument);

  auto sealer = opener.NewResponseSealer();
  ASSERT_TRUE(sealer.ok());
  ASSERT_TRUE(sealer->SealFinalChunk(SampleBhttpResponse()).ok());
  auto late = sealer->SealFinalChunk({});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ChunkedOhttp, OversizeChunksRejected) {
  const TestKey key = MakeKey(kKeyId, {kAes128});
  const Gateway gateway = MakeGateway(key);
  auto client = ChunkedRequestSealer::Create(key.config, SuiteWith(hpke::AeadId::kAes128Gcm));
  ASSERT_TRUE(client.ok());
  auto first = client->SealChunk(Bytes(100, 'a'));
  ASSERT_TRUE(first.ok());
  ChunkedOptions small;
  small.max_sealed_chunk_size = 64;
  {
    ChunkedRequestOpener o(gateway, small);
    auto r = o.Push(*first);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
  }
  {
    // A length varint claiming 2^30 bytes is refused before anything is buffered for it.
    ChunkedRequestOpener o(gateway);
    const Bytes stream = Concat(ByteView(*first).first(kRequestHeaderSize + 32), testing::Hex("c000000040000000"));
    auto r = o.Push(stream);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
  }
  {
    // A final chunk that grows past the cap.
    auto fin = client->SealFinalChunk(Bytes(100, 'b'));
    ASSERT_TRUE(fin.ok());
    ChunkedOptions opts;
    opts.max_sealed_chunk_size = 120;  // the first chunk (116 bytes) fits, the final one does not
    ChunkedRequestOpener o(gateway, opts);
    auto r = o.Push(Concat(*first, *fin, Bytes(10, 0)));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
  }
  {
    ChunkedOptions opts;
    opts.max_total_plaintext = 99;
    ChunkedRequestOpener o(gateway, opts);
    auto r = o.Push(*first);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kLengthTooLarge);
  }
}

TEST(ChunkedOhttp, ResponseMayStartBeforeRequestEnds) {
  const TestKey key = MakeKey(kKeyId, {kAes256});
  const Gateway gateway = MakeGateway(key);
  auto client = ChunkedRequestSealer::Create(key.config, SuiteWith(hpke::AeadId::kAes256Gcm));
  ASSERT_TRUE(client.ok());
  ChunkedRequestOpener opener(gateway);
  auto c1 = client->SealChunk(ToBytes(std::string_view("expect: 100-continue")));
  ASSERT_TRUE(c1.ok());
  ASSERT_TRUE(opener.Push(*c1).ok());
  auto sealer = opener.NewResponseSealer();
  ASSERT_TRUE(sealer.ok());
  auto interim = sealer->SealChunk(ToBytes(std::string_view("100 continue")));
  ASSERT_TRUE(interim.ok());
  ChunkedResponseOpener ropener = client->NewResponseOpener();
  auto got = ropener.Push(*interim);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0], ToBytes(std::string_view("100 continue")));
  auto c2 = client->SealFinalChunk(ToBytes(std::string_view("body")));
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE(opener.Push(*c2).ok());
  auto body = opener.Finish();
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, ToBytes(std::string_view("body")));
}

}  // namespace
}  // namespace cmln::seal::ohttp
