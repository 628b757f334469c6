// Chunked Oblivious HTTP (draft-ietf-ohai-chunked-ohttp): requests and responses sealed and opened
// chunk by chunk, so a gateway can stream a response (an SSE stream of tokens) while it is produced and
// a client can read it as it arrives.
//
// Sealers emit bytes: the concatenation of every output, in call order, is the encapsulated message
// (the first output carries the request header and encapsulated key, or the response nonce). Openers
// are fed arbitrary fragments as they arrive from the network and return the plaintext of each chunk
// they complete; Finish() is called at end of stream and returns the final chunk's plaintext.
//
// Guarantees (THREATS B5): chunk order is bound by the HPKE sequence number (requests) or the per-chunk
// nonce counter (responses); the final chunk is bound by the AAD "final". So a dropped, reordered or
// modified chunk fails with kDecryptFailed, and a stream that ends without an authenticated final chunk
// fails with kTruncated at Finish(). Callers that must act only on complete messages wait for Finish().
// Openers are sticky: after any error every later call returns the same error.
//
// Errors: kTruncated (stream ended early), kLengthTooLarge (a chunk or the total above ChunkedOptions),
// kDecryptFailed (authentication), kSequenceOverflow (a counter would repeat a nonce), kInvalidArgument
// (misuse: sealing after the final chunk, a sealer made before the request header arrived). The gateway
// request opener also returns kUnknownKeyId / kUnsupported for the header, as in seal/ohttp.h.
//
// Thread safety: none of these objects is thread-safe; each belongs to one exchange.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "seal/crypto.h"
#include "seal/hpke.h"
#include "seal/ohttp.h"

namespace cmln::seal::ohttp {

// HPKE info and export labels, and the AAD of the final chunk.
inline constexpr std::string_view kChunkedRequestLabel = "message/bhttp chunked request";
inline constexpr std::string_view kChunkedResponseLabel = "message/bhttp chunked response";
inline constexpr std::string_view kFinalChunkAad = "final";

struct ChunkedOptions {
  // Largest sealed chunk accepted (plaintext plus the 16-byte tag), the final chunk included. The draft
  // requires accepting 2^14-byte plaintext chunks; the default is far above that.
  size_t max_sealed_chunk_size = 1024 * 1024;
  // Total plaintext accepted over the whole stream.
  size_t max_total_plaintext = 64 * 1024 * 1024;
};

inline ChunkedOptions DefaultChunkedOptions() { return ChunkedOptions{}; }

// The per-chunk response nonce: base_nonce XOR counter, the counter big-endian in the low 8 bytes.
// REQUIRES: base_nonce.size() >= 8.
Bytes ChunkNonce(ByteView base_nonce, uint64_t counter);

namespace detail {

// Splits a byte stream into prefix || (varint len >= 1 || chunk)* || varint 0 || final chunk, buffering
// only what is not yet complete. Internal to the openers below.
class ChunkFramer {
 public:
  ChunkFramer(size_t prefix_size, size_t max_sealed_chunk_size)
      : prefix_size_(prefix_size), max_chunk_(max_sealed_chunk_size) {}

  enum class Kind { kNeedMore, kPrefix, kChunk };
  struct Event {
    Kind kind = Kind::kNeedMore;
    ByteView bytes;  // valid until the next Append
  };

  void Append(ByteView fragment);
  // The next complete piece of buffered input; kLengthTooLarge for an oversize chunk length.
  Result<Event> Next();
  // End of stream: the final chunk, or kTruncated if its indicator never arrived.
  Result<ByteView> Finish();

 private:
  enum class State { kPrefix, kChunks, kFinal, kDone };
  ByteView Unread() const { return ByteView(buffer_).subspan(pos_); }

  size_t prefix_size_;
  size_t max_chunk_;
  State state_ = State::kPrefix;
  Bytes buffer_;
  size_t pos_ = 0;
};

}  // namespace detail

// Client: opens a chunked response (message/ohttp-chunked-res). Made by ChunkedRequestSealer.
class ChunkedResponseOpener {
 public:
  // Plaintext of every chunk that `fragment` completes, in order (possibly none).
  Result<std::vector<Bytes>> Push(ByteView fragment);
  // End of stream: the final chunk's plaintext. kTruncated if the stream stopped before the final chunk.
  Result<Bytes> Finish();
  bool finished() const { return finished_; }
  void SetCounterForTesting(uint64_t counter) { counter_ = counter; }

 private:
  friend class ChunkedRequestSealer;
  ChunkedResponseOpener(const hpke::Suite& suite, Bytes enc, SecretBytes secret, const ChunkedOptions& options);
  Error Fail(const Error& e);
  Result<Bytes> OpenChunk(ByteView sealed, bool final);

  hpke::Suite suite_;
  Bytes enc_;
  SecretBytes secret_;
  ChunkedOptions options_;
  detail::ChunkFramer framer_;
  std::optional<Aead> aead_;
  SecretBytes base_nonce_;
  uint64_t counter_ = 0;
  size_t total_plaintext_ = 0;
  std::optional<Error> error_;
  bool finished_ = false;
};

// Client: seals a chunked request (message/ohttp-chunked-req).
class ChunkedRequestSealer {
 public:
  // kUnsupported unless CheckSuiteOffered(config, suite); kInvalidKey for a bad public key.
  static Result<ChunkedRequestSealer> Create(const KeyConfig& config, const hpke::Suite& suite);
  // Deterministic variant with a given ephemeral X25519 private key: known-answer tests only.
  static Result<ChunkedRequestSealer> CreateForTesting(const KeyConfig& config, const hpke::Suite& suite,
                                                       ByteView ephemeral_private_key);

  // A non-final chunk: varint(len) || HPKE Seal("", plaintext). kInvalidArgument after the final chunk,
  // kSequenceOverflow when the HPKE sequence is exhausted.
  Result<Bytes> SealChunk(ByteView plaintext);
  // The final chunk: varint(0) || HPKE Seal("final", plaintext). Nothing may follow it.
  Result<Bytes> SealFinalChunk(ByteView plaintext);
  bool finished() const { return finished_; }

  // The opener for this request's response.
  ChunkedResponseOpener NewResponseOpener(const ChunkedOptions& options = DefaultChunkedOptions()) const;

  void SetSequenceForTesting(uint64_t high32, uint64_t low64) { context_.SetSequenceForTesting(high32, low64); }

 private:
  ChunkedRequestSealer(const hpke::Suite& suite, Bytes header_and_enc, Bytes enc, hpke::Context context,
                       SecretBytes response_secret);
  static Result<ChunkedRequestSealer> Make(const KeyConfig& config, const hpke::Suite& suite,
                                           const ByteView* ephemeral_private_key);
  Result<Bytes> Seal(ByteView plaintext, bool final);

  hpke::Suite suite_;
  Bytes header_and_enc_;  // emitted before the first chunk
  Bytes enc_;
  hpke::Context context_;
  SecretBytes response_secret_;  // Export("message/bhttp chunked response", max(Nn, Nk))
  bool header_sent_ = false;
  bool finished_ = false;
};

// Gateway: seals a chunked response, one chunk per call, as the response (e.g. the SSE stream) is produced.
class ChunkedResponseSealer {
 public:
  // varint(len) || AEAD Seal(key, ChunkNonce(counter), "", plaintext); the first output starts with
  // the response nonce. kInvalidArgument after the final chunk; kSequenceOverflow when the counter is
  // exhausted.
  Result<Bytes> SealChunk(ByteView plaintext);
  // varint(0) || AEAD Seal(key, ChunkNonce(counter), "final", plaintext).
  Result<Bytes> SealFinalChunk(ByteView plaintext);
  bool finished() const { return finished_; }

  // The nonce the next chunk will be sealed with (known-answer tests).
  Bytes NextChunkNonceForTesting() const { return ChunkNonce(base_nonce_.view(), counter_); }
  void SetCounterForTesting(uint64_t counter) { counter_ = counter; }

 private:
  friend class ChunkedRequestOpener;
  ChunkedResponseSealer(Aead aead, SecretBytes base_nonce, Bytes response_nonce);
  Result<Bytes> Seal(ByteView plaintext, bool final);

  Aead aead_;
  SecretBytes base_nonce_;
  Bytes response_nonce_;  // emitted before the first chunk
  uint64_t counter_ = 0;
  bool nonce_sent_ = false;
  bool finished_ = false;
};

// Gateway: opens a chunked request fed in fragments.
class ChunkedRequestOpener {
 public:
  // REQUIRES: `gateway` outlives the opener.
  explicit ChunkedRequestOpener(const Gateway& gateway, const ChunkedOptions& options = DefaultChunkedOptions());

  // Plaintext of every chunk that `fragment` completes (possibly none). Once the header and encapsulated
  // key are complete they are checked: kUnknownKeyId, kUnsupported, kDecryptFailed.
  Result<std::vector<Bytes>> Push(ByteView fragment);
  // End of stream: the final chunk's plaintext; kTruncated without an authenticated final chunk.
  Result<Bytes> Finish();
  bool header_complete() const { return setup_.has_value(); }
  bool finished() const { return finished_; }

  // The sealer for the response, with a fresh random response nonce. kInvalidArgument before the header
  // is complete. A response may start before the request is finished (draft section 6, interactivity).
  Result<ChunkedResponseSealer> NewResponseSealer() const;
  Result<ChunkedResponseSealer> NewResponseSealerForTesting(ByteView response_nonce) const;
  Result<ResponseKeys> DeriveResponseKeysForTesting(ByteView response_nonce) const;
  const std::optional<RecipientSetup>& setup_for_testing() const { return setup_; }

 private:
  Error Fail(const Error& e);
  Result<Bytes> OpenChunk(ByteView sealed, bool final);

  const Gateway* gateway_;
  ChunkedOptions options_;
  detail::ChunkFramer framer_;
  std::optional<RecipientSetup> setup_;
  SecretBytes response_secret_;
  size_t total_plaintext_ = 0;
  std::optional<Error> error_;
  bool finished_ = false;
};

}  // namespace cmln::seal::ohttp
