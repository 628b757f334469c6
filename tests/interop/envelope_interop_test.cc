// Gonka envelope v1 interop against an independent JavaScript implementation of ENVELOPE_V1.md
// (tests/interop/js/envelope_peer.mjs, on @hpke/core and node:crypto):
//   JS client seals -> our node opens and responds -> JS client opens;
//   our client seals -> JS node opens and responds -> our client opens;
// plus key ids, replay of a JS request, and tampering refused on both sides. Needs `node` and
// tests/interop/js/node_modules (scripts/setup runs `npm ci` there); a missing peer is a failure, not a skip.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "seal/envelope_v1.h"
#include "testing/test_util.h"

namespace cmln::seal::envelope_v1 {
namespace {

using json = nlohmann::json;

const std::string kJsDir = std::string(CMLN_SOURCE_DIR) + "/tests/interop/js";

json RunPeer(const json& command) {
  const auto r = testing::RunProcess("node '" + kJsDir + "/envelope_peer.mjs'", command.dump());
  json out = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded() || !out.is_object()) {
    return json{
        {"error", "peer printed no JSON object (exit " + std::to_string(r.exit_code) + "): " + r.out.substr(0, 500)}};
  }
  if (!out.contains("error") && r.exit_code != 0) out["error"] = "exit code " + std::to_string(r.exit_code);
  return out;
}

Bytes FromHex(const json& v) { return testing::Hex(v.get<std::string>()); }

std::vector<Bytes> Bodies() {
  std::vector<Bytes> bodies = {
      Bytes{}, ToBytes(std::string_view(R"({"model":"qwen","messages":[{"role":"user","content":"2+2?"}]})")),
      Bytes(65536)};
  for (size_t i = 0; i < bodies.back().size(); ++i) bodies.back()[i] = static_cast<uint8_t>(i * 13 + 1);
  return bodies;
}

class EnvelopeInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kJsDir + "/node_modules/@hpke/core/package.json") &&
                std::filesystem::exists(kJsDir + "/node_modules/@hpke/chacha20poly1305/package.json"))
        << "the npm peers are not installed in " << kJsDir
        << "/node_modules: run scripts/setup (it runs `npm ci` in tests/interop/js)";
    ASSERT_EQ(testing::RunProcess("node --version").exit_code, 0) << "node is not on PATH: run scripts/setup";
  }

  // JS client seals `body` to our node key.
  json JsClientSeal(std::string_view session, uint64_t nonce, ByteView body) {
    return RunPeer(json{{"op", "client_seal"},
                        {"pk", HexEncode(node_.public_key)},
                        {"session_id", session},
                        {"nonce", nonce},
                        {"body", HexEncode(body)}});
  }

  const X25519KeyPair node_ = X25519Generate();
};

TEST_F(EnvelopeInterop, KeyIdsAgree) {
  for (int i = 0; i < 3; ++i) {
    const X25519KeyPair kp = X25519Generate();
    const json out = RunPeer(json{{"op", "key_id"}, {"pk", HexEncode(kp.public_key)}});
    ASSERT_FALSE(out.contains("error")) << out["error"];
    EXPECT_EQ(out["key_id"].get<std::string>(), RecipientKeyId(kp.public_key));
  }
}

TEST_F(EnvelopeInterop, JsClientToCppNodeToJsClient) {
  ReplayGuard guard;
  uint64_t nonce = (uint64_t{1} << 40) + 3;  // above 32 bits, below JavaScript's 2^53 exact-integer limit
  for (const Bytes& body : Bodies()) {
    SCOPED_TRACE("body size " + std::to_string(body.size()));
    ++nonce;
    const json sealed = JsClientSeal("js-session", nonce, body);
    ASSERT_FALSE(sealed.contains("error")) << sealed["error"];

    auto opened = OpenRequest(node_, sealed["request"].get<std::string>(), guard);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    EXPECT_EQ(opened->body, body);
    EXPECT_EQ(opened->context.session_id, "js-session");
    EXPECT_EQ(opened->context.nonce, nonce);
    EXPECT_EQ(HexEncode(opened->context.response_key.view()), sealed["state"]["response_key"].get<std::string>());

    const Bytes answer = Concat(std::string_view("echo:"), body);
    auto response = SealResponse(opened->context, answer);
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    const json got = RunPeer(json{{"op", "client_open"}, {"state", sealed["state"]}, {"response", *response}});
    ASSERT_FALSE(got.contains("error")) << got["error"];
    EXPECT_EQ(FromHex(got["body"]), answer);
  }
}

TEST_F(EnvelopeInterop, CppClientToJsNodeToCppClient) {
  uint64_t nonce = 0;
  for (const Bytes& body : Bodies()) {
    SCOPED_TRACE("body size " + std::to_string(body.size()));
    auto sealed = SealRequest(node_.public_key, "cpp-session-\xc3\xa9", ++nonce, body);
    ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
    const Bytes answer = Concat(std::string_view("reply to "), body);
    const json out = RunPeer(json{{"op", "node_respond"},
                                  {"sk", HexEncode(node_.private_key.view())},
                                  {"request", sealed->json},
                                  {"response_body", HexEncode(answer)}});
    ASSERT_FALSE(out.contains("error")) << out["error"];
    EXPECT_EQ(FromHex(out["body"]), body);
    auto got = OpenResponse(sealed->context, out["response"].get<std::string>());
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, answer);
  }
}

TEST_F(EnvelopeInterop, B3_ReplayedJsRequestRefused) {
  ReplayGuard guard;
  const json sealed = JsClientSeal("s", 1, AsBytes("prompt"));
  ASSERT_FALSE(sealed.contains("error")) << sealed["error"];
  const std::string request = sealed["request"].get<std::string>();
  ASSERT_TRUE(OpenRequest(node_, request, guard).ok());
  auto again = OpenRequest(node_, request, guard);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kReplay);
}

TEST_F(EnvelopeInterop, B2_TamperingRefusedOnBothSides) {
  // A JS request with a changed session id: our node refuses it as an authentication failure.
  const json sealed = JsClientSeal("s", 3, AsBytes("prompt"));
  ASSERT_FALSE(sealed.contains("error")) << sealed["error"];
  json request = json::parse(sealed["request"].get<std::string>());
  request["session_id"] = "t";
  ReplayGuard guard;
  auto opened = OpenRequest(node_, request.dump(), guard);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), ErrorCode::kDecryptFailed);

  // A JS request for another node: kUnknownKeyId (HTTP 421).
  const X25519KeyPair other = X25519Generate();
  const json foreign = RunPeer(json{
      {"op", "client_seal"}, {"pk", HexEncode(other.public_key)}, {"session_id", "s"}, {"nonce", 4}, {"body", "00"}});
  ASSERT_FALSE(foreign.contains("error")) << foreign["error"];
  auto unknown = OpenRequest(node_, foreign["request"].get<std::string>(), guard);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kUnknownKeyId);
  EXPECT_EQ(HttpStatusFor(unknown.error().code()), 421);

  // Our request with a changed nonce: the JS node refuses it.
  auto ours = SealRequest(node_.public_key, "s", 9, AsBytes("prompt"));
  ASSERT_TRUE(ours.ok());
  json changed = json::parse(ours->json);
  changed["nonce"] = 10;
  const json js_refused = RunPeer(json{{"op", "node_respond"},
                                       {"sk", HexEncode(node_.private_key.view())},
                                       {"request", changed.dump()},
                                       {"response_body", "00"}});
  EXPECT_TRUE(js_refused.contains("error"));

  // A JS node response with a flipped ciphertext byte: our client refuses it.
  const json out = RunPeer(json{{"op", "node_respond"},
                                {"sk", HexEncode(node_.private_key.view())},
                                {"request", ours->json},
                                {"response_body", "6869"}});
  ASSERT_FALSE(out.contains("error")) << out["error"];
  json response = json::parse(out["response"].get<std::string>());
  Bytes ct = *Base64Decode(response["ciphertext"].get<std::string>());
  ct[0] ^= 0x01;
  response["ciphertext"] = Base64Encode(ct);
  auto got = OpenResponse(ours->context, response.dump());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), ErrorCode::kDecryptFailed);

  // Our response with a flipped byte: the JS client refuses it.
  const json sealed2 = JsClientSeal("s", 5, AsBytes("prompt"));
  ASSERT_FALSE(sealed2.contains("error")) << sealed2["error"];
  auto opened2 = OpenRequest(node_, sealed2["request"].get<std::string>(), guard);
  ASSERT_TRUE(opened2.ok()) << opened2.error().ToString();
  auto our_response = SealResponse(opened2->context, AsBytes("answer"));
  ASSERT_TRUE(our_response.ok());
  json tampered = json::parse(*our_response);
  Bytes rct = *Base64Decode(tampered["ciphertext"].get<std::string>());
  rct.back() ^= 0x01;
  tampered["ciphertext"] = Base64Encode(rct);
  const json js_open = RunPeer(json{{"op", "client_open"}, {"state", sealed2["state"]}, {"response", tampered.dump()}});
  EXPECT_TRUE(js_open.contains("error"));
}

}  // namespace
}  // namespace cmln::seal::envelope_v1
