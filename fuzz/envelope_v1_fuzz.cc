// Fuzzes the Gonka envelope v1 parsers with arbitrary bytes: as a request to OpenRequest under a fixed node key,
// as a response to OpenResponse under a fixed client context, and as an identity document to DecodeIdentity.
// Checks that nothing crashes, and that whatever ParseRequest/ParseResponse accept re-serializes to a document
// they accept again with the same fields.
#include <cstdint>
#include <cstdlib>

#include "seal/envelope_v1.h"

namespace {

using namespace cmln;
using namespace cmln::seal;

const X25519KeyPair& NodeKey() {
  // Fixed key so seeds sealed to it (fuzz/corpus/envelope_v1_fuzz) reach decryption: 32 bytes of 0x42.
  static const X25519KeyPair key = std::move(X25519FromPrivate(Bytes(32, 0x42))).value();
  return key;
}

void CheckRequestRoundTrip(std::string_view text) {
  auto parsed = envelope_v1::ParseRequest(text);
  if (!parsed.ok()) return;
  auto again = envelope_v1::ParseRequest(envelope_v1::SerializeRequest(*parsed));
  if (!again.ok() || again->session_id != parsed->session_id || again->nonce != parsed->nonce ||
      again->recipient_key_id != parsed->recipient_key_id || again->enc != parsed->enc ||
      again->prompt_hash != parsed->prompt_hash || again->ciphertext != parsed->ciphertext) {
    abort();
  }
}

void CheckResponseRoundTrip(std::string_view text) {
  auto parsed = envelope_v1::ParseResponse(text);
  if (!parsed.ok()) return;
  auto again = envelope_v1::ParseResponse(envelope_v1::SerializeResponse(*parsed));
  if (!again.ok() || again->session_id != parsed->session_id || again->nonce != parsed->nonce ||
      again->response_nonce != parsed->response_nonce || again->ciphertext != parsed->ciphertext) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  envelope_v1::ReplayGuard guard(4);
  auto opened = envelope_v1::OpenRequest(NodeKey(), text, guard);
  if (opened.ok()) {
    // An authentic request: a response to it must open with the same context, and the replay must be refused.
    auto response = envelope_v1::SealResponse(opened->context, opened->body);
    if (!response.ok()) abort();
    auto body = envelope_v1::OpenResponse(opened->context, *response);
    if (!body.ok() || *body != opened->body) abort();
    auto replay = envelope_v1::OpenRequest(NodeKey(), text, guard);
    if (replay.ok() || replay.error().code() != ErrorCode::kReplay) abort();
  }
  CheckRequestRoundTrip(text);

  // Context of the response seed: session "fuzz-session", nonce 1, response key 32 bytes of 0x11.
  const envelope_v1::ResponseContext context{"fuzz-session", 1, SecretBytes(Bytes(32, 0x11))};
  (void)envelope_v1::OpenResponse(context, text);
  CheckResponseRoundTrip(text);

  auto identity = envelope_v1::DecodeIdentity(text);
  if (identity.ok() && !envelope_v1::EncodeIdentity(*identity).ok()) abort();
  return 0;
}
