// Chunked Oblivious HTTP (draft-ietf-ohai-chunked-ohttp).
//
//   Chunked Encapsulated Request  = hdr (7) || enc (Nenc) || Non-Final Chunk* || Final Chunk
//       info                      = "message/bhttp chunked request" || 0x00 || hdr
//       Non-Final Chunk           = Length (i) = 1.. || HPKE Seal(aad = "", chunk)
//       Final Chunk               = Length (i) = 0   || HPKE Seal(aad = "final", chunk)   (to end of stream)
//   Chunked Encapsulated Response = response_nonce (max(Nn, Nk)) || Non-Final Chunk* || Final Chunk
//       secret = Export("message/bhttp chunked response", max(Nn, Nk)); salt = enc || response_nonce
//       prk = Extract(salt, secret); key = Expand(prk, "key", Nk); base = Expand(prk, "nonce", Nn)
//       chunk i sealed with AEAD(key, base XOR i, aad = "" or "final")
// The HPKE sequence number orders request chunks; the counter i orders response chunks.
#include "seal/chunked_ohttp.h"

#include <limits>

#include "common/byte_reader.h"

namespace cmln::seal::ohttp {

namespace {

constexpr uint64_t kFinalChunkIndicator = 0;
// The response counter is a uint64; refusing its last value keeps every nonce distinct (the draft's
// limit, 256^Nn chunks, is far larger).
constexpr uint64_t kMaxResponseCounter = std::numeric_limits<uint64_t>::max();

ByteView FinalAad(bool final) { return final ? AsBytes(kFinalChunkAad) : ByteView(); }

Bytes FrameChunk(ByteView sealed, bool final) {
  ByteWriter w(sealed.size() + 8);
  // A sealed chunk is at least a 16-byte tag, so its length is never 0 and always a valid varint here.
  (void)w.QuicVarint(final ? kFinalChunkIndicator : sealed.size());
  w.Bytes(sealed);
  return w.Take();
}

Error AfterFinal() { return Error(ErrorCode::kInvalidArgument, "chunked ohttp: the final chunk was already sealed"); }

Error TooMuchPlaintext(size_t cap) {
  return Error(ErrorCode::kLengthTooLarge,
               "chunked ohttp: total plaintext exceeds limit " + std::to_string(cap));
}

}  // namespace

Bytes ChunkNonce(ByteView base_nonce, uint64_t counter) {
  Bytes nonce(base_nonce.begin(), base_nonce.end());
  for (size_t i = 0; i < 8; ++i) {
    nonce[nonce.size() - 1 - i] ^= static_cast<uint8_t>(counter >> (8 * i));
  }
  return nonce;
}

// ---------------------------------------------------------------------------------------------
// Framing.

namespace detail {

void ChunkFramer::Append(ByteView fragment) {
  if (pos_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  cmln::Append(buffer_, fragment);
}

Result<ChunkFramer::Event> ChunkFramer::Next() {
  switch (state_) {
    case State::kPrefix: {
      if (Unread().size() < prefix_size_) return Event{};
      Event e{Kind::kPrefix, Unread().first(prefix_size_)};
      pos_ += prefix_size_;
      state_ = State::kChunks;
      return e;
    }
    case State::kChunks: {
      ByteReader r(Unread(), pos_);
      auto len = r.QuicVarint("chunk length");
      if (!len.ok()) return Event{};  // the varint itself is incomplete
      if (*len == kFinalChunkIndicator) {
        pos_ += Unread().size() - r.remaining();
        state_ = State::kFinal;
        return Next();
      }
      if (*len > max_chunk_) {
        return Error(ErrorCode::kLengthTooLarge, "chunked ohttp: chunk length " + std::to_string(*len) +
                                                     " exceeds limit " + std::to_string(max_chunk_));
      }
      if (r.remaining() < *len) return Event{};
      const size_t header = Unread().size() - r.remaining();
      Event e{Kind::kChunk, Unread().subspan(header, static_cast<size_t>(*len))};
      pos_ += header + static_cast<size_t>(*len);
      return e;
    }
    case State::kFinal:
      if (Unread().size() > max_chunk_) {
        return Error(ErrorCode::kLengthTooLarge,
                     "chunked ohttp: final chunk exceeds limit " + std::to_string(max_chunk_));
      }
      return Event{};
    case State::kDone:
      return Error(ErrorCode::kInvalidArgument, "chunked ohttp: input after the end of the stream");
  }
  return Event{};
}

Result<ByteView> ChunkFramer::Finish() {
  if (state_ == State::kDone) return Error(ErrorCode::kInvalidArgument, "chunked ohttp: stream already finished");
  if (state_ != State::kFinal) {
    return Error(ErrorCode::kTruncated, state_ == State::kPrefix
                                            ? "chunked ohttp: stream ended inside the header"
                                            : "chunked ohttp: stream ended before the final chunk");
  }
  CMLN_TRY(Next());  // the final chunk's size cap
  state_ = State::kDone;
  return Unread();
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Client: request sealer and response opener.

ChunkedRequestSealer::ChunkedRequestSealer(const hpke::Suite& suite, Bytes header_and_enc, Bytes enc,
                                           hpke::Context context, SecretBytes response_secret)
    : suite_(suite),
      header_and_enc_(std::move(header_and_enc)),
      enc_(std::move(enc)),
      context_(std::move(context)),
      response_secret_(std::move(response_secret)) {}

Result<ChunkedRequestSealer> ChunkedRequestSealer::Make(const KeyConfig& config, const hpke::Suite& suite,
                                                        const ByteView* ephemeral_private_key) {
  CMLN_TRY(CheckSuiteOffered(config, suite));
  if (config.public_key.size() != kX25519KeySize) {
    return Error(ErrorCode::kInvalidKey, "ohttp key config: public key must be 32 bytes");
  }
  const Bytes hdr = EncodeRequestHeader(config.key_id, suite);
  const Bytes info = RequestInfo(kChunkedRequestLabel, hdr);
  CMLN_ASSIGN_OR_RETURN(hpke::SenderSetup sender,
                        ephemeral_private_key == nullptr
                            ? hpke::SetupBaseSender(suite, config.public_key, info)
                            : hpke::SetupBaseSenderForTesting(suite, config.public_key, info, *ephemeral_private_key));
  CMLN_ASSIGN_OR_RETURN(SecretBytes secret,
                        sender.context.Export(AsBytes(kChunkedResponseLabel), ResponseNonceLength(suite.aead)));
  Bytes header_and_enc = Concat(hdr, sender.enc);
  return ChunkedRequestSealer(suite, std::move(header_and_enc), std::move(sender.enc), std::move(sender.context),
                              std::move(secret));
}

Result<ChunkedRequestSealer> ChunkedRequestSealer::Create(const KeyConfig& config, const hpke::Suite& suite) {
  return Make(config, suite, nullptr);
}

Result<ChunkedRequestSealer> ChunkedRequestSealer::CreateForTesting(const KeyConfig& config, const hpke::Suite& suite,
                                                                    ByteView ephemeral_private_key) {
  return Make(config, suite, &ephemeral_private_key);
}

Result<Bytes> ChunkedRequestSealer::Seal(ByteView plaintext, bool final) {
  if (finished_) return AfterFinal();
  CMLN_ASSIGN_OR_RETURN(Bytes sealed, context_.Seal(FinalAad(final), plaintext));
  Bytes out;
  if (!header_sent_) {
    out = header_and_enc_;
    header_sent_ = true;
  }
  Append(out, FrameChunk(sealed, final));
  finished_ = final;
  return out;
}

Result<Bytes> ChunkedRequestSealer::SealChunk(ByteView plaintext) { return Seal(plaintext, false); }
Result<Bytes> ChunkedRequestSealer::SealFinalChunk(ByteView plaintext) { return Seal(plaintext, true); }

ChunkedResponseOpener ChunkedRequestSealer::NewResponseOpener(const ChunkedOptions& options) const {
  return ChunkedResponseOpener(suite_, enc_, response_secret_.Clone(), options);
}

ChunkedResponseOpener::ChunkedResponseOpener(const hpke::Suite& suite, Bytes enc, SecretBytes secret,
                                             const ChunkedOptions& options)
    : suite_(suite),
      enc_(std::move(enc)),
      secret_(std::move(secret)),
      options_(options),
      framer_(ResponseNonceLength(suite.aead), options.max_sealed_chunk_size) {}

Error ChunkedResponseOpener::Fail(const Error& e) {
  error_ = e;
  return e;
}

Result<Bytes> ChunkedResponseOpener::OpenChunk(ByteView sealed, bool final) {
  if (counter_ == kMaxResponseCounter) {
    return Error(ErrorCode::kSequenceOverflow, "chunked ohttp: response chunk counter exhausted");
  }
  auto pt = aead_->Open(ChunkNonce(base_nonce_.view(), counter_), FinalAad(final), sealed);
  if (!pt.ok()) return Error(ErrorCode::kDecryptFailed, "chunked ohttp: response chunk decryption failed");
  ++counter_;
  if (pt->size() > options_.max_total_plaintext - total_plaintext_) {
    return TooMuchPlaintext(options_.max_total_plaintext);
  }
  total_plaintext_ += pt->size();
  return std::move(pt).value();
}

Result<std::vector<Bytes>> ChunkedResponseOpener::Push(ByteView fragment) {
  if (error_) return *error_;
  if (finished_) return Fail(Error(ErrorCode::kInvalidArgument, "chunked ohttp: input after the end of the stream"));
  framer_.Append(fragment);
  std::vector<Bytes> out;
  for (;;) {
    auto event = framer_.Next();
    if (!event.ok()) return Fail(event.error());
    if (event->kind == detail::ChunkFramer::Kind::kNeedMore) break;
    if (event->kind == detail::ChunkFramer::Kind::kPrefix) {
      auto keys = DeriveResponseKeys(suite_.aead, secret_, enc_, event->bytes);
      if (!keys.ok()) return Fail(keys.error());
      auto aead = Aead::Create(static_cast<AeadAlgorithm>(suite_.aead), keys->aead_key.view());
      if (!aead.ok()) return Fail(aead.error());
      aead_.emplace(std::move(aead).value());
      base_nonce_ = std::move(keys->aead_nonce);
      continue;
    }
    auto pt = OpenChunk(event->bytes, false);
    if (!pt.ok()) return Fail(pt.error());
    out.push_back(std::move(pt).value());
  }
  return out;
}

Result<Bytes> ChunkedResponseOpener::Finish() {
  if (error_) return *error_;
  auto sealed = framer_.Finish();
  if (!sealed.ok()) return Fail(sealed.error());
  auto pt = OpenChunk(*sealed, true);
  if (!pt.ok()) return Fail(pt.error());
  finished_ = true;
  return pt;
}

// ---------------------------------------------------------------------------------------------
// Gateway: request opener and response sealer.

ChunkedResponseSealer::ChunkedResponseSealer(Aead aead, SecretBytes base_nonce, Bytes response_nonce)
    : aead_(std::move(aead)), base_nonce_(std::move(base_nonce)), response_nonce_(std::move(response_nonce)) {}

Result<Bytes> ChunkedResponseSealer::Seal(ByteView plaintext, bool final) {
  if (finished_) return AfterFinal();
  if (counter_ == kMaxResponseCounter) {
    return Error(ErrorCode::kSequenceOverflow, "chunked ohttp: response chunk counter exhausted");
  }
  CMLN_ASSIGN_OR_RETURN(Bytes sealed, aead_.Seal(ChunkNonce(base_nonce_.view(), counter_), FinalAad(final), plaintext));
  ++counter_;
  Bytes out;
  if (!nonce_sent_) {
    out = response_nonce_;
    nonce_sent_ = true;
  }
  Append(out, FrameChunk(sealed, final));
  finished_ = final;
  return out;
}

Result<Bytes> ChunkedResponseSealer::SealChunk(ByteView plaintext) { return Seal(plaintext, false); }
Result<Bytes> ChunkedResponseSealer::SealFinalChunk(ByteView plaintext) { return Seal(plaintext, true); }

ChunkedRequestOpener::ChunkedRequestOpener(const Gateway& gateway, const ChunkedOptions& options)
    : gateway_(&gateway),
      options_(options),
      framer_(kRequestHeaderSize + hpke::kEncSize, options.max_sealed_chunk_size) {}

Error ChunkedRequestOpener::Fail(const Error& e) {
  error_ = e;
  return e;
}

Result<Bytes> ChunkedRequestOpener::OpenChunk(ByteView sealed, bool final) {
  auto pt = setup_->context.Open(FinalAad(final), sealed);
  if (!pt.ok()) {
    if (pt.error().code() == ErrorCode::kSequenceOverflow) return pt.error();
    return Error(ErrorCode::kDecryptFailed, "chunked ohttp: request chunk decryption failed");
  }
  if (pt->size() > options_.max_total_plaintext - total_plaintext_) {
    return TooMuchPlaintext(options_.max_total_plaintext);
  }
  total_plaintext_ += pt->size();
  return std::move(pt).value();
}

Result<std::vector<Bytes>> ChunkedRequestOpener::Push(ByteView fragment) {
  if (error_) return *error_;
  if (finished_) return Fail(Error(ErrorCode::kInvalidArgument, "chunked ohttp: input after the end of the stream"));
  framer_.Append(fragment);
  std::vector<Bytes> out;
  for (;;) {
    auto event = framer_.Next();
    if (!event.ok()) return Fail(event.error());
    if (event->kind == detail::ChunkFramer::Kind::kNeedMore) break;
    if (event->kind == detail::ChunkFramer::Kind::kPrefix) {
      auto setup = gateway_->SetupRecipient(event->bytes, kChunkedRequestLabel);
      if (!setup.ok()) return Fail(setup.error());
      auto secret = setup->context.Export(AsBytes(kChunkedResponseLabel), ResponseNonceLength(setup->suite.aead));
      if (!secret.ok()) return Fail(secret.error());
      response_secret_ = std::move(secret).value();
      setup_.emplace(std::move(setup).value());
      continue;
    }
    auto pt = OpenChunk(event->bytes, false);
    if (!pt.ok()) return Fail(pt.error());
    out.push_back(std::move(pt).value());
  }
  return out;
}

Result<Bytes> ChunkedRequestOpener::Finish() {
  if (error_) return *error_;
  auto sealed = framer_.Finish();
  if (!sealed.ok()) return Fail(sealed.error());
  auto pt = OpenChunk(*sealed, true);
  if (!pt.ok()) return Fail(pt.error());
  finished_ = true;
  return pt;
}

Result<ResponseKeys> ChunkedRequestOpener::DeriveResponseKeysForTesting(ByteView response_nonce) const {
  if (!setup_) return Error(ErrorCode::kInvalidArgument, "chunked ohttp: request header not yet received");
  return DeriveResponseKeys(setup_->suite.aead, response_secret_, setup_->enc, response_nonce);
}

Result<ChunkedResponseSealer> ChunkedRequestOpener::NewResponseSealerForTesting(ByteView response_nonce) const {
  CMLN_ASSIGN_OR_RETURN(ResponseKeys keys, DeriveResponseKeysForTesting(response_nonce));
  CMLN_ASSIGN_OR_RETURN(Aead aead, Aead::Create(static_cast<AeadAlgorithm>(setup_->suite.aead), keys.aead_key.view()));
  return ChunkedResponseSealer(std::move(aead), std::move(keys.aead_nonce), ToBytes(response_nonce));
}

Result<ChunkedResponseSealer> ChunkedRequestOpener::NewResponseSealer() const {
  if (!setup_) return Error(ErrorCode::kInvalidArgument, "chunked ohttp: request header not yet received");
  Bytes nonce(ResponseNonceLength(setup_->suite.aead));
  RandomBytes(nonce);
  return NewResponseSealerForTesting(nonce);
}

}  // namespace cmln::seal::ohttp
