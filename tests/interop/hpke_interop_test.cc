// HPKE interop against the npm implementation @hpke/core (tests/interop/js/hpke_peer.mjs): for every AEAD we
// support (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, export-only) and both modes, the JavaScript peer seals
// and we open, we seal and it opens, and the secret exports agree. Tampered ciphertexts are refused on both sides.
// Needs `node` and tests/interop/js/node_modules (scripts/setup runs `npm ci` there); a missing peer is a failure, not
// a skip.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "seal/hpke.h"
#include "testing/test_util.h"

namespace cmln::seal::hpke {
namespace {

using json = nlohmann::json;

const std::string kJsDir = std::string(CMLN_SOURCE_DIR) + "/tests/interop/js";

// Runs the peer with one JSON command; the parsed result, or {"error": ...} when it printed no JSON object.
json RunPeer(const json& command) {
  const auto r = testing::RunProcess("node '" + kJsDir + "/hpke_peer.mjs'", command.dump());
  json out = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded() || !out.is_object()) {
    return json{
        {"error", "peer printed no JSON object (exit " + std::to_string(r.exit_code) + "): " + r.out.substr(0, 500)}};
  }
  if (!out.contains("error") && r.exit_code != 0) out["error"] = "exit code " + std::to_string(r.exit_code);
  return out;
}

std::string H(ByteView b) { return HexEncode(b); }
Bytes FromHex(const json& v) { return testing::Hex(v.get<std::string>()); }

struct Case {
  AeadId aead;
  Mode mode;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name;
  switch (info.param.aead) {
    case AeadId::kAes128Gcm: name = "Aes128Gcm"; break;
    case AeadId::kAes256Gcm: name = "Aes256Gcm"; break;
    case AeadId::kChaCha20Poly1305: name = "ChaCha20Poly1305"; break;
    case AeadId::kExportOnly: name = "ExportOnly"; break;
  }
  return name + (info.param.mode == Mode::kBase ? "_Base" : "_Auth");
}

class HpkeInterop : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kJsDir + "/node_modules/@hpke/core/package.json") &&
                std::filesystem::exists(kJsDir + "/node_modules/@hpke/chacha20poly1305/package.json"))
        << "the npm peers are not installed in " << kJsDir
        << "/node_modules: run scripts/setup (it runs `npm ci` in tests/interop/js)";
    ASSERT_EQ(testing::RunProcess("node --version").exit_code, 0) << "node is not on PATH: run scripts/setup";
    suite_ = Suite{KemId::kX25519HkdfSha256, KdfId::kHkdfSha256, GetParam().aead};
    // Messages: empty, short, one AEAD block boundary, and 64 KiB.
    // Export-only contexts carry no messages, only exports.
    if (!export_only()) {
      plaintexts_ = {Bytes{}, ToBytes(std::string_view("hello from the other side")), Bytes(16, 0x5a), Bytes(65536)};
      for (size_t i = 0; i < plaintexts_.back().size(); ++i) {
        plaintexts_.back()[i] = static_cast<uint8_t>(i * 31 + 7);
      }
    }
  }

  bool export_only() const { return GetParam().aead == AeadId::kExportOnly; }

  bool auth() const { return GetParam().mode == Mode::kAuth; }

  json BaseCommand(const char* op) const {
    return json{{"op", op},
                {"kem", 0x0020},
                {"kdf", 0x0001},
                {"aead", static_cast<int>(GetParam().aead)},
                {"mode", auth() ? "auth" : "base"},
                {"info", H(info_)},
                {"aad", H(aad_)},
                {"exporter_context", H(exporter_context_)},
                {"L", 32}};
  }

  Suite suite_;
  std::vector<Bytes> plaintexts_;
  const Bytes info_ = ToBytes(std::string_view("cmln interop info"));
  const Bytes aad_ = ToBytes(std::string_view("cmln interop aad"));
  const Bytes exporter_context_ = ToBytes(std::string_view("cmln interop export"));
  const X25519KeyPair recipient_ = X25519Generate();
  const X25519KeyPair sender_ = X25519Generate();
};

TEST_P(HpkeInterop, JsSealsCppOpens) {
  json cmd = BaseCommand("seal");
  cmd["pkR"] = H(recipient_.public_key);
  if (auth()) cmd["skS"] = H(sender_.private_key.view());
  json pts = json::array();
  for (const auto& pt : plaintexts_) pts.push_back(H(pt));
  cmd["pts"] = pts;
  const json out = RunPeer(cmd);
  ASSERT_FALSE(out.contains("error")) << out["error"];

  const Bytes enc = FromHex(out["enc"]);
  auto ctx = auth() ? SetupAuthRecipient(suite_, enc, recipient_.private_key.view(), info_, sender_.public_key)
                    : SetupBaseRecipient(suite_, enc, recipient_.private_key.view(), info_);
  ASSERT_TRUE(ctx.ok()) << ctx.error().ToString();
  ASSERT_EQ(out["cts"].size(), plaintexts_.size());
  for (size_t i = 0; i < plaintexts_.size(); ++i) {
    const Bytes ct = FromHex(out["cts"][i]);
    EXPECT_EQ(ct.size(), plaintexts_[i].size() + kAeadTagSize);
    auto pt = ctx->Open(aad_, ct);
    ASSERT_TRUE(pt.ok()) << "message " << i << ": " << pt.error().ToString();
    EXPECT_EQ(*pt, plaintexts_[i]) << "message " << i;
  }
  auto exported = ctx->Export(exporter_context_, 32);
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(H(exported->view()), out["exported"].get<std::string>());
}

TEST_P(HpkeInterop, CppSealsJsOpens) {
  auto setup = auth() ? SetupAuthSender(suite_, recipient_.public_key, info_, sender_.private_key.view())
                      : SetupBaseSender(suite_, recipient_.public_key, info_);
  ASSERT_TRUE(setup.ok()) << setup.error().ToString();
  json cts = json::array();
  for (const auto& pt : plaintexts_) {
    auto ct = setup->context.Seal(aad_, pt);
    ASSERT_TRUE(ct.ok());
    cts.push_back(H(*ct));
  }
  json cmd = BaseCommand("open");
  cmd["skR"] = H(recipient_.private_key.view());
  if (auth()) cmd["pkS"] = H(sender_.public_key);
  cmd["enc"] = H(setup->enc);
  cmd["cts"] = cts;
  const json out = RunPeer(cmd);
  ASSERT_FALSE(out.contains("error")) << out["error"];
  ASSERT_EQ(out["pts"].size(), plaintexts_.size());
  for (size_t i = 0; i < plaintexts_.size(); ++i) EXPECT_EQ(FromHex(out["pts"][i]), plaintexts_[i]) << i;
  auto exported = setup->context.Export(exporter_context_, 32);
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(H(exported->view()), out["exported"].get<std::string>());
}

TEST_P(HpkeInterop, B2_TamperedCiphertextRefusedByBothSides) {
  if (export_only()) {
    // Nothing to tamper with: both sides refuse to seal at all under export-only.
    auto setup = SetupBaseSender(suite_, recipient_.public_key, info_);
    ASSERT_TRUE(setup.ok());
    EXPECT_EQ(setup->context.Seal(aad_, AsBytes("x")).error().code(), ErrorCode::kInvalidArgument);
    json cmd = BaseCommand("seal");
    cmd["pkR"] = H(recipient_.public_key);
    if (auth()) cmd["skS"] = H(sender_.private_key.view());
    cmd["pts"] = json::array({H(AsBytes("x"))});
    const json refused = RunPeer(cmd);
    ASSERT_TRUE(refused.contains("error"));
    EXPECT_NE(refused["error"].get<std::string>().find("NotSupportedError"), std::string::npos) << refused["error"];
    return;
  }
  // Ours sealed, one bit flipped: the peer refuses.
  auto setup = auth() ? SetupAuthSender(suite_, recipient_.public_key, info_, sender_.private_key.view())
                      : SetupBaseSender(suite_, recipient_.public_key, info_);
  ASSERT_TRUE(setup.ok());
  auto ct = setup->context.Seal(aad_, plaintexts_[1]);
  ASSERT_TRUE(ct.ok());
  (*ct)[3] ^= 0x01;
  json cmd = BaseCommand("open");
  cmd["skR"] = H(recipient_.private_key.view());
  if (auth()) cmd["pkS"] = H(sender_.public_key);
  cmd["enc"] = H(setup->enc);
  cmd["cts"] = json::array({H(*ct)});
  const json refused = RunPeer(cmd);
  ASSERT_TRUE(refused.contains("error"));
  EXPECT_NE(refused["error"].get<std::string>().find("OpenError"), std::string::npos) << refused["error"];

  // Theirs sealed, last tag byte flipped: we refuse.
  json seal = BaseCommand("seal");
  seal["pkR"] = H(recipient_.public_key);
  if (auth()) seal["skS"] = H(sender_.private_key.view());
  seal["pts"] = json::array({H(plaintexts_[1])});
  const json out = RunPeer(seal);
  ASSERT_FALSE(out.contains("error")) << out["error"];
  Bytes theirs = FromHex(out["cts"][0]);
  theirs.back() ^= 0x80;
  auto ctx =
      auth() ? SetupAuthRecipient(suite_, FromHex(out["enc"]), recipient_.private_key.view(), info_, sender_.public_key)
             : SetupBaseRecipient(suite_, FromHex(out["enc"]), recipient_.private_key.view(), info_);
  ASSERT_TRUE(ctx.ok());
  auto opened = ctx->Open(aad_, theirs);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), ErrorCode::kDecryptFailed);
}

TEST_P(HpkeInterop, WrongSenderKeyOrAadRefused) {
  if (export_only()) {
    // The export binds the exporter context, and in auth mode the sender key.
    json cmd = BaseCommand("seal");
    cmd["pkR"] = H(recipient_.public_key);
    if (auth()) cmd["skS"] = H(sender_.private_key.view());
    cmd["pts"] = json::array();
    const json out = RunPeer(cmd);
    ASSERT_FALSE(out.contains("error")) << out["error"];
    const Bytes enc = FromHex(out["enc"]);
    const X25519KeyPair impostor = X25519Generate();
    auto ctx = auth() ? SetupAuthRecipient(suite_, enc, recipient_.private_key.view(), info_, impostor.public_key)
                      : SetupBaseRecipient(suite_, enc, recipient_.private_key.view(), info_);
    ASSERT_TRUE(ctx.ok());
    auto same_context = ctx->Export(exporter_context_, 32);
    auto other_context = ctx->Export(AsBytes("other context"), 32);
    ASSERT_TRUE(same_context.ok() && other_context.ok());
    EXPECT_NE(H(other_context->view()), out["exported"].get<std::string>());
    if (auth()) {
      EXPECT_NE(H(same_context->view()), out["exported"].get<std::string>());
    }
    return;
  }
  json cmd = BaseCommand("seal");
  cmd["pkR"] = H(recipient_.public_key);
  if (auth()) cmd["skS"] = H(sender_.private_key.view());
  cmd["pts"] = json::array({H(plaintexts_[1])});
  const json out = RunPeer(cmd);
  ASSERT_FALSE(out.contains("error")) << out["error"];
  const Bytes enc = FromHex(out["enc"]);
  const Bytes ct = FromHex(out["cts"][0]);
  if (auth()) {
    // Auth mode binds the sender: another sender key derives another context.
    const X25519KeyPair impostor = X25519Generate();
    auto ctx = SetupAuthRecipient(suite_, enc, recipient_.private_key.view(), info_, impostor.public_key);
    ASSERT_TRUE(ctx.ok());
    EXPECT_EQ(ctx->Open(aad_, ct).error().code(), ErrorCode::kDecryptFailed);
  }
  auto ctx = auth() ? SetupAuthRecipient(suite_, enc, recipient_.private_key.view(), info_, sender_.public_key)
                    : SetupBaseRecipient(suite_, enc, recipient_.private_key.view(), info_);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->Open(AsBytes("other aad"), ct).error().code(), ErrorCode::kDecryptFailed);
  EXPECT_TRUE(ctx->Open(aad_, ct).ok());  // a failed open does not advance the sequence
}

INSTANTIATE_TEST_SUITE_P(AllSuites, HpkeInterop,
                         ::testing::Values(Case{AeadId::kAes128Gcm, Mode::kBase}, Case{AeadId::kAes128Gcm, Mode::kAuth},
                                           Case{AeadId::kAes256Gcm, Mode::kBase}, Case{AeadId::kAes256Gcm, Mode::kAuth},
                                           Case{AeadId::kChaCha20Poly1305, Mode::kBase},
                                           Case{AeadId::kChaCha20Poly1305, Mode::kAuth},
                                           Case{AeadId::kExportOnly, Mode::kBase},
                                           Case{AeadId::kExportOnly, Mode::kAuth}),
                         CaseName);

}  // namespace
}  // namespace cmln::seal::hpke
