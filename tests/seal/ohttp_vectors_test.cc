// Known answers from outside: the complete example of RFC 9458 Appendix A and the example of
// draft-ietf-ohai-chunked-ohttp, end to end in both directions, every intermediate value checked.
// Every attribute of each JSON file is asserted on, except the descriptive source/license/notes/suite.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "seal/bhttp.h"
#include "seal/chunked_ohttp.h"
#include "seal/ohttp.h"
#include "testing/test_util.h"

namespace cmln::seal::ohttp {
namespace {

// A JSON vector whose attributes must all be read (the JSON counterpart of testing::VectorBlock).
class JsonVector {
 public:
  explicit JsonVector(const std::string& relative) : json_(testing::ReadJsonOrDie(testing::DataPath(relative))) {}

  Bytes Hex(const std::string& key) { return testing::Hex(At(key).get<std::string>()); }
  std::vector<Bytes> HexLines(const std::string& key) {
    std::vector<Bytes> out;
    for (const auto& line : At(key)) out.push_back(testing::Hex(line.get<std::string>()));
    return out;
  }
  std::vector<std::string> Unused() const {
    static const std::set<std::string> kDescriptive = {"source", "license", "notes", "suite"};
    std::vector<std::string> out;
    for (const auto& [k, v] : json_.items()) {
      if (!used_.count(k) && !kDescriptive.count(k)) out.push_back(k);
    }
    return out;
  }

 private:
  const nlohmann::json& At(const std::string& key) {
    used_.insert(key);
    return json_.at(key);
  }
  nlohmann::json json_;
  std::set<std::string> used_;
};

Bytes PublicKeyOf(ByteView private_key) {
  auto kp = X25519FromPrivate(private_key);
  EXPECT_TRUE(kp.ok());
  return Bytes(kp->public_key.begin(), kp->public_key.end());
}

void ExpectKeys(const ResponseKeys& keys, JsonVector& v, const char* nonce_key) {
  EXPECT_EQ(ToBytes(keys.secret.view()), v.Hex("response_secret_export"));
  EXPECT_EQ(keys.salt, v.Hex("response_salt"));
  EXPECT_EQ(ToBytes(keys.prk.view()), v.Hex("response_prk"));
  EXPECT_EQ(ToBytes(keys.aead_key.view()), v.Hex("response_aead_key"));
  EXPECT_EQ(ToBytes(keys.aead_nonce.view()), v.Hex(nonce_key));
}

TEST(OhttpVectors, Rfc9458AppendixA) {
  JsonVector v("vectors/ohttp_rfc9458_appendixA.json");

  // Key configuration.
  const Bytes config_bytes = v.Hex("key_config");
  auto config = DecodeKeyConfig(config_bytes);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->key_id, 1);
  EXPECT_EQ(config->kem_id, 0x0020);
  EXPECT_EQ(config->algorithms, (std::vector<SymmetricAlgorithm>{{1, 1}, {1, 3}}));
  auto reencoded = EncodeKeyConfig(*config);
  ASSERT_TRUE(reencoded.ok());
  EXPECT_EQ(*reencoded, config_bytes);
  const Bytes gateway_sk = v.Hex("gateway_x25519_sk");
  EXPECT_EQ(PublicKeyOf(gateway_sk), config->public_key);

  auto suite = SelectSuite(*config);
  ASSERT_TRUE(suite.ok());
  EXPECT_EQ(*suite, (hpke::Suite{hpke::KemId::kX25519HkdfSha256, hpke::KdfId::kHkdfSha256, hpke::AeadId::kAes128Gcm}));
  EXPECT_EQ(RequestInfo(kRequestLabel, EncodeRequestHeader(config->key_id, *suite)), v.Hex("hpke_info"));

  // Gateway decapsulates the given request.
  Gateway gateway;
  ASSERT_TRUE(gateway.AddKey(*config, SecretBytes(gateway_sk)).ok());
  const Bytes encapsulated_request = v.Hex("encapsulated_request");
  const Bytes bhttp_request = v.Hex("bhttp_request");
  auto opened = gateway.DecapsulateRequest(encapsulated_request);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  EXPECT_EQ(opened->bhttp_request, bhttp_request);
  auto req = bhttp::DecodeRequest(opened->bhttp_request);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->method, "GET");
  EXPECT_EQ(req->scheme, "https");
  EXPECT_EQ(req->authority, "example.com");
  EXPECT_EQ(req->path, "/");

  // Client re-encapsulates with the given ephemeral key: byte-identical.
  const Bytes client_sk = v.Hex("client_ephemeral_sk");
  const Bytes client_pk = v.Hex("client_ephemeral_pk_enc");
  EXPECT_EQ(PublicKeyOf(client_sk), client_pk);
  auto client = EncapsulateRequestForTesting(*config, *suite, bhttp_request, client_sk);
  ASSERT_TRUE(client.ok()) << client.error().ToString();
  EXPECT_EQ(client->encapsulated_request, encapsulated_request);
  EXPECT_EQ(Bytes(encapsulated_request.begin() + kRequestHeaderSize,
                  encapsulated_request.begin() + kRequestHeaderSize + hpke::kEncSize),
            client_pk);

  // Response key schedule, from both sides.
  const Bytes encapsulated_response = v.Hex("encapsulated_response");
  ASSERT_GE(encapsulated_response.size(), 16u);
  const Bytes response_nonce(encapsulated_response.begin(), encapsulated_response.begin() + 16);
  auto server_keys = opened->context.DeriveResponseKeysForTesting(response_nonce);
  ASSERT_TRUE(server_keys.ok());
  ExpectKeys(*server_keys, v, "response_aead_nonce");
  auto client_keys = client->context.DeriveResponseKeysForTesting(response_nonce);
  ASSERT_TRUE(client_keys.ok());
  ExpectKeys(*client_keys, v, "response_aead_nonce");

  // Gateway seals the given response with the vector's nonce: byte-identical; the client opens it.
  const Bytes bhttp_response = v.Hex("bhttp_response");
  auto sealed = opened->context.EncapsulateResponseForTesting(bhttp_response, response_nonce);
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(*sealed, encapsulated_response);
  auto response = client->context.DecapsulateResponse(encapsulated_response);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(*response, bhttp_response);
  auto decoded = bhttp::DecodeResponse(*response);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->status, 200);

  EXPECT_TRUE(v.Unused().empty()) << "unused vector attributes: " << ::testing::PrintToString(v.Unused());
}

TEST(OhttpVectors, ChunkedDraftExample) {
  JsonVector v("vectors/chunked_ohttp_draft_example.json");

  const Bytes config_bytes = v.Hex("key_config");
  auto config = DecodeKeyConfig(config_bytes);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  auto reencoded = EncodeKeyConfig(*config);
  ASSERT_TRUE(reencoded.ok());
  EXPECT_EQ(*reencoded, config_bytes);
  const Bytes gateway_sk = v.Hex("gateway_x25519_sk");
  EXPECT_EQ(PublicKeyOf(gateway_sk), config->public_key);
  auto suite = SelectSuite(*config);
  ASSERT_TRUE(suite.ok());
  const Bytes hdr = EncodeRequestHeader(config->key_id, *suite);
  EXPECT_EQ(RequestInfo(kChunkedRequestLabel, hdr), v.Hex("hpke_info"));

  const std::vector<Bytes> req_lines = v.HexLines("request_chunks_hex_lines");
  ASSERT_EQ(req_lines.size(), 5u);  // header, enc, chunk 1, chunk 2, final chunk
  const Bytes encapsulated_request = v.Hex("encapsulated_request");
  EXPECT_EQ(Concat(req_lines[0], req_lines[1], req_lines[2], req_lines[3], req_lines[4]), encapsulated_request);
  EXPECT_EQ(req_lines[0], hdr);
  const Bytes client_sk = v.Hex("client_ephemeral_sk");
  const Bytes client_pk = v.Hex("client_ephemeral_pk_enc");
  EXPECT_EQ(PublicKeyOf(client_sk), client_pk);
  EXPECT_EQ(req_lines[1], client_pk);

  // Client: 12 bytes, the remaining 13, then an empty final chunk (as the draft describes).
  const Bytes bhttp_request = v.Hex("bhttp_request");
  ASSERT_EQ(bhttp_request.size(), 25u);
  auto sealer = ChunkedRequestSealer::CreateForTesting(*config, *suite, client_sk);
  ASSERT_TRUE(sealer.ok()) << sealer.error().ToString();
  auto out1 = sealer->SealChunk(ByteView(bhttp_request).first(12));
  auto out2 = sealer->SealChunk(ByteView(bhttp_request).subspan(12));
  auto out3 = sealer->SealFinalChunk({});
  ASSERT_TRUE(out1.ok() && out2.ok() && out3.ok());
  EXPECT_EQ(*out1, Concat(req_lines[0], req_lines[1], req_lines[2]));
  EXPECT_EQ(*out2, req_lines[3]);
  EXPECT_EQ(*out3, req_lines[4]);

  // Gateway: fed one byte at a time, it yields the two chunks and an empty final chunk.
  Gateway gateway;
  ASSERT_TRUE(gateway.AddKey(*config, SecretBytes(gateway_sk)).ok());
  ChunkedRequestOpener opener(gateway);
  std::vector<Bytes> request_chunks;
  for (uint8_t b : encapsulated_request) {
    auto chunks = opener.Push(ByteView(&b, 1));
    ASSERT_TRUE(chunks.ok()) << chunks.error().ToString();
    for (auto& c : *chunks) request_chunks.push_back(std::move(c));
  }
  auto final_request_chunk = opener.Finish();
  ASSERT_TRUE(final_request_chunk.ok()) << final_request_chunk.error().ToString();
  EXPECT_TRUE(final_request_chunk->empty());
  ASSERT_EQ(request_chunks.size(), 2u);
  EXPECT_EQ(Concat(request_chunks[0], request_chunks[1]), bhttp_request);
  EXPECT_EQ(request_chunks[0].size(), 12u);

  // Response key schedule.
  const std::vector<Bytes> resp_lines = v.HexLines("response_chunks_hex_lines");
  ASSERT_EQ(resp_lines.size(), 4u);  // nonce, chunk 1, chunk 2, final chunk
  const Bytes response_nonce = resp_lines[0];
  auto keys = opener.DeriveResponseKeysForTesting(response_nonce);
  ASSERT_TRUE(keys.ok()) << keys.error().ToString();
  ExpectKeys(*keys, v, "response_aead_base_nonce");

  // Gateway seals 1 byte, 2 bytes, then an empty final chunk; nonces and bytes as in the draft.
  const Bytes bhttp_response = v.Hex("bhttp_response");
  ASSERT_EQ(bhttp_response.size(), 3u);
  auto rsealer = opener.NewResponseSealerForTesting(response_nonce);
  ASSERT_TRUE(rsealer.ok()) << rsealer.error().ToString();
  Bytes nonces = rsealer->NextChunkNonceForTesting();
  auto r1 = rsealer->SealChunk(ByteView(bhttp_response).first(1));
  Append(nonces, rsealer->NextChunkNonceForTesting());
  auto r2 = rsealer->SealChunk(ByteView(bhttp_response).subspan(1));
  Append(nonces, rsealer->NextChunkNonceForTesting());
  auto r3 = rsealer->SealFinalChunk({});
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  EXPECT_EQ(nonces, v.Hex("response_chunk_nonces_concat"));
  EXPECT_EQ(*r1, Concat(resp_lines[0], resp_lines[1]));
  EXPECT_EQ(*r2, resp_lines[2]);
  EXPECT_EQ(*r3, resp_lines[3]);
  const Bytes encapsulated_response = v.Hex("encapsulated_response");
  EXPECT_EQ(Concat(*r1, *r2, *r3), encapsulated_response);

  // Client opens the response fed in uneven fragments.
  ChunkedResponseOpener ropener = sealer->NewResponseOpener();
  std::vector<Bytes> response_chunks;
  for (size_t pos = 0, step = 1; pos < encapsulated_response.size(); pos += step, step = step % 7 + 3) {
    const size_t n = std::min(step, encapsulated_response.size() - pos);
    auto chunks = ropener.Push(ByteView(encapsulated_response).subspan(pos, n));
    ASSERT_TRUE(chunks.ok()) << chunks.error().ToString();
    for (auto& c : *chunks) response_chunks.push_back(std::move(c));
  }
  auto final_response_chunk = ropener.Finish();
  ASSERT_TRUE(final_response_chunk.ok()) << final_response_chunk.error().ToString();
  EXPECT_TRUE(final_response_chunk->empty());
  ASSERT_EQ(response_chunks.size(), 2u);
  EXPECT_EQ(Concat(response_chunks[0], response_chunks[1]), bhttp_response);

  EXPECT_TRUE(v.Unused().empty()) << "unused vector attributes: " << ::testing::PrintToString(v.Unused());
}

}  // namespace
}  // namespace cmln::seal::ohttp
