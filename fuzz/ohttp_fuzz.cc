// Fuzzes the OHTTP parsers of outside bytes with each input, all four ways:
//   1. as an application/ohttp-keys list and as a single key config (a config that decodes re-encodes to
//      the same bytes; a list that decodes re-encodes to a list that decodes to the same configs);
//   2. as an encapsulated request to a gateway holding the RFC 9458 Appendix A key (whatever opens must
//      accept a response);
//   3. as a chunked request to a gateway holding the chunked draft's key, fed in fragments;
//   4. as a chunked response to the client of the chunked draft example, fed in fragments.
// The keys are the published example keys, so the vector files' messages are useful seeds
// (fuzz/corpus/ohttp_fuzz). Fragment sizes come from the input length so they vary between inputs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "seal/chunked_ohttp.h"
#include "seal/ohttp.h"

namespace {

using namespace cmln;
using namespace cmln::seal::ohttp;

Bytes HexOrDie(std::string_view hex) {
  auto b = HexDecode(hex);
  if (!b.ok()) std::abort();
  return *b;
}

KeyConfig ConfigOrDie(std::string_view hex) {
  auto c = DecodeKeyConfig(HexOrDie(hex));
  if (!c.ok()) std::abort();
  return *c;
}

// RFC 9458 Appendix A.
constexpr std::string_view kRfcConfig =
    "01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e79815500080001000100010003";
constexpr std::string_view kRfcGatewayKey = "3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a";
// draft-ietf-ohai-chunked-ohttp, Appendix "Example".
constexpr std::string_view kDraftConfig =
    "010020668eb21aace159803974a4c67f08b4152d29bed10735fd08f98ccdd6fe09570800080001000100010003";
constexpr std::string_view kDraftGatewayKey = "1c190d72acdbe4dbc69e680503bb781a932c70a12c8f3754434c67d8640d8698";
constexpr std::string_view kDraftClientKey = "b26d565f3f875ed480d1abced3d665159650c99174fd0b124ac4bda0c64ae324";

const Gateway& GatewayWith(std::string_view config_hex, std::string_view key_hex) {
  auto* g = new Gateway();
  if (!g->AddKey(ConfigOrDie(config_hex), SecretBytes(HexOrDie(key_hex))).ok()) std::abort();
  return *g;
}

const Gateway& RfcGateway() {
  static const Gateway& g = GatewayWith(kRfcConfig, kRfcGatewayKey);
  return g;
}

const Gateway& DraftGateway() {
  static const Gateway& g = GatewayWith(kDraftConfig, kDraftGatewayKey);
  return g;
}

void KeyConfigs(ByteView input) {
  auto one = DecodeKeyConfig(input);
  if (one.ok()) {
    auto encoded = EncodeKeyConfig(*one);
    if (!encoded.ok() || *encoded != Bytes(input.begin(), input.end())) std::abort();
  }
  auto list = DecodeKeyConfigList(input);
  if (list.ok()) {
    auto encoded = EncodeKeyConfigList(*list);
    if (!encoded.ok()) std::abort();
    auto again = DecodeKeyConfigList(*encoded);
    if (!again.ok() || *again != *list) std::abort();
  }
}

void PlainRequest(ByteView input) {
  auto opened = RfcGateway().DecapsulateRequest(input);
  if (opened.ok() && !opened->context.EncapsulateResponse(opened->bhttp_request).ok()) std::abort();
}

template <typename Opener>
void FeedInFragments(Opener& opener, ByteView input) {
  size_t step = 1 + input.size() % 13;
  for (size_t pos = 0; pos < input.size(); pos += step, step = step % 29 + 1) {
    if (!opener.Push(input.subspan(pos, std::min(step, input.size() - pos))).ok()) return;
  }
  (void)opener.Finish();
}

void ChunkedRequest(ByteView input) {
  ChunkedRequestOpener opener(DraftGateway());
  FeedInFragments(opener, input);
}

void ChunkedResponse(ByteView input) {
  static const KeyConfig config = ConfigOrDie(kDraftConfig);
  auto client = ChunkedRequestSealer::CreateForTesting(
      config, cmln::seal::hpke::Suite{}, HexOrDie(kDraftClientKey));  // AES-128-GCM, as in the draft
  if (!client.ok()) std::abort();
  ChunkedResponseOpener opener = client->NewResponseOpener();
  FeedInFragments(opener, input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView input(data, size);
  KeyConfigs(input);
  PlainRequest(input);
  ChunkedRequest(input);
  ChunkedResponse(input);
  return 0;
}
