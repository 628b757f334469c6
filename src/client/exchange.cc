#include "client/exchange.h"

#include <nlohmann/json.hpp>

namespace cmln::client {

namespace bhttp = seal::bhttp;
namespace ohttp = seal::ohttp;

namespace {

constexpr uint8_t kBhttpKnownLengthResponse = 1;
constexpr uint8_t kBhttpIndeterminateResponse = 3;

std::string ContentTypeOf(const bhttp::Fields& headers) {
  return FindField(headers, "content-type").value_or("");
}

Result<Usage> UsageOf(const nlohmann::json& usage, std::string_view where) {
  if (!usage.is_object()) return Error(ErrorCode::kMalformed, std::string(where) + ": no usage object");
  auto count = [&](const char* name) -> Result<uint64_t> {
    if (!usage.contains(name) || !usage[name].is_number_unsigned()) {
      return Error(ErrorCode::kMalformed, std::string(where) + ": usage." + name + " missing or not a count");
    }
    return usage[name].get<uint64_t>();
  };
  Usage u;
  CMLN_ASSIGN_OR_RETURN(u.prompt_tokens, count("prompt_tokens"));
  CMLN_ASSIGN_OR_RETURN(u.completion_tokens, count("completion_tokens"));
  return u;
}

}  // namespace

std::optional<std::string> FindField(const bhttp::Fields& fields, std::string_view name) {
  for (const bhttp::Field& f : fields) {
    if (f.name == name) return f.value;
  }
  return std::nullopt;
}

Result<SealedRequest> SealedRequest::Create(const VerifiedNode& node, const seal::AccountPrivateKey& requester,
                                            const std::string& chain_id, uint64_t escrow_id, uint64_t timestamp,
                                            ByteView content, bool stream) {
  SealedRequest out;
  out.stream_ = stream;
  CMLN_ASSIGN_OR_RETURN(out.authorization_,
                        seal::SignAuthorization(requester, chain_id, node.node_id, escrow_id, timestamp, content));
  out.request_digest_ = out.authorization_.request_digest;
  CMLN_ASSIGN_OR_RETURN(Bytes auth, seal::EncodeAuthorization(out.authorization_));

  bhttp::Request req;
  req.method = "POST";
  req.scheme = "https";
  req.path = std::string(kChatCompletionsPath);
  req.headers = {{"content-type", "application/json"}, {std::string(seal::kAuthorizationHeader), Base64Encode(auth)}};
  req.content.assign(content.begin(), content.end());
  CMLN_ASSIGN_OR_RETURN(Bytes encoded, bhttp::EncodeRequest(req));

  CMLN_ASSIGN_OR_RETURN(seal::hpke::Suite suite, ohttp::SelectSuite(node.key_config));
  if (!stream) {
    CMLN_ASSIGN_OR_RETURN(ohttp::ClientRequest sealed, ohttp::EncapsulateRequest(node.key_config, suite, encoded));
    out.body_ = std::move(sealed.encapsulated_request);
    out.context_.emplace(std::move(sealed.context));
    return out;
  }
  CMLN_ASSIGN_OR_RETURN(ohttp::ChunkedRequestSealer sealer, ohttp::ChunkedRequestSealer::Create(node.key_config, suite));
  CMLN_ASSIGN_OR_RETURN(out.body_, sealer.SealFinalChunk(encoded));
  out.opener_.emplace(sealer.NewResponseOpener());
  return out;
}

std::string_view SealedRequest::media_type() const {
  return stream_ ? ohttp::kChunkedRequestMediaType : ohttp::kRequestMediaType;
}

Result<NodeAnswer> SealedRequest::Open(ByteView encapsulated_response) const {
  if (!context_) return Error(ErrorCode::kInvalidArgument, "Open on a streamed request");
  CMLN_ASSIGN_OR_RETURN(Bytes plaintext, context_->DecapsulateResponse(encapsulated_response));
  CMLN_ASSIGN_OR_RETURN(bhttp::Response r, bhttp::DecodeResponse(plaintext));
  NodeAnswer a;
  a.status = r.status;
  a.content_type = ContentTypeOf(r.headers);
  a.content = std::move(r.content);
  a.headers = std::move(r.headers);
  a.trailers = std::move(r.trailers);
  return a;
}

Result<SealedRequest::StreamEvents> SealedRequest::Deliver(std::vector<Bytes> plaintexts, bool final_chunk) {
  StreamEvents ev;
  for (const Bytes& p : plaintexts) {
    if (p.empty()) continue;
    if (!indeterminate_) {
      if (p[0] == kBhttpIndeterminateResponse) {
        indeterminate_ = true;
      } else if (p[0] == kBhttpKnownLengthResponse) {
        indeterminate_ = false;
      } else {
        return Error(ErrorCode::kMalformed, "chunked response: BHTTP framing indicator " + std::to_string(p[0]) +
                                                " is not a response");
      }
    }
    if (!*indeterminate_) {
      if (p.size() > bhttp::DefaultDecodeOptions().max_content_size - known_length_buffer_.size()) {
        return Error(ErrorCode::kLengthTooLarge, "chunked response: known-length BHTTP response too large");
      }
      Append(known_length_buffer_, p);
      continue;
    }
    CMLN_ASSIGN_OR_RETURN(bhttp::ResponseStreamDecoder::Events e, stream_decoder_.Push(p));
    if (e.head_completed) {
      ev.head = true;
      answer_.status = stream_decoder_.head().status;
      answer_.headers = stream_decoder_.head().headers;
      answer_.content_type = ContentTypeOf(answer_.headers);
    }
    Append(ev.content, e.content);
    Append(answer_.content, e.content);
  }
  if (!final_chunk) return ev;
  if (!indeterminate_) return Error(ErrorCode::kTruncated, "chunked response: no BHTTP message");
  if (!*indeterminate_) {
    CMLN_ASSIGN_OR_RETURN(bhttp::Response r, bhttp::DecodeResponse(known_length_buffer_));
    ev.head = true;
    answer_.status = r.status;
    answer_.content_type = ContentTypeOf(r.headers);
    answer_.headers = std::move(r.headers);
    answer_.trailers = std::move(r.trailers);
    ev.content = r.content;
    answer_.content = std::move(r.content);
    return ev;
  }
  CMLN_ASSIGN_OR_RETURN(bhttp::ResponseStreamDecoder::Events e, stream_decoder_.Finish());
  if (e.head_completed) {
    ev.head = true;
    answer_.status = stream_decoder_.head().status;
    answer_.headers = stream_decoder_.head().headers;
    answer_.content_type = ContentTypeOf(answer_.headers);
  }
  answer_.trailers = stream_decoder_.trailers();
  return ev;
}

Result<SealedRequest::StreamEvents> SealedRequest::PushStream(ByteView fragment) {
  if (!opener_) return Error(ErrorCode::kInvalidArgument, "PushStream on a non-streamed request");
  CMLN_ASSIGN_OR_RETURN(std::vector<Bytes> plaintexts, opener_->Push(fragment));
  return Deliver(std::move(plaintexts), false);
}

Result<SealedRequest::StreamEvents> SealedRequest::FinishStream() {
  if (!opener_) return Error(ErrorCode::kInvalidArgument, "FinishStream on a non-streamed request");
  CMLN_ASSIGN_OR_RETURN(Bytes last, opener_->Finish());
  std::vector<Bytes> plaintexts;
  plaintexts.push_back(std::move(last));
  return Deliver(std::move(plaintexts), true);
}

Result<Usage> UsageOfCompletion(ByteView json_body) {
  auto j = nlohmann::json::parse(json_body.begin(), json_body.end(), nullptr, false);
  if (j.is_discarded()) return Error(ErrorCode::kBadEncoding, "completion: not JSON");
  if (!j.is_object() || !j.contains("usage")) return Error(ErrorCode::kMalformed, "completion: no usage");
  return UsageOf(j["usage"], "completion");
}

Result<Usage> UsageOfSseStream(ByteView sse) {
  const std::string_view text = AsChars(sse);
  std::optional<Usage> last;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 5) != "data:") continue;
    std::string_view data = line.substr(5);
    if (!data.empty() && data.front() == ' ') data.remove_prefix(1);
    if (data == "[DONE]") continue;
    auto j = nlohmann::json::parse(data.begin(), data.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("usage") || j["usage"].is_null()) continue;
    CMLN_ASSIGN_OR_RETURN(Usage u, UsageOf(j["usage"], "stream"));
    last = u;
  }
  if (!last) return Error(ErrorCode::kMalformed, "stream: no event carries usage");
  return *last;
}

Result<seal::Receipt> VerifyReceiptField(const bhttp::Fields& fields, const ReceiptExpectation& want) {
  std::optional<std::string> text = FindField(fields, seal::kReceiptHeader);
  if (!text) return Error(ErrorCode::kNotFound, "answer carries no gonka-receipt");
  auto raw = Base64Decode(*text);
  if (!raw.ok()) return Error(ErrorCode::kBadEncoding, "gonka-receipt: not base64");
  CMLN_ASSIGN_OR_RETURN(seal::Receipt r, seal::DecodeReceipt(*raw));
  CMLN_TRY(seal::VerifyReceiptSignature(r, want.sign_public_key));
  if (r.chain_id != want.chain_id || r.node_id != want.node_id || r.escrow_id != want.escrow_id) {
    return Error(ErrorCode::kBindingMismatch, "receipt: chain, node or escrow is not this exchange's");
  }
  if (r.requester_key_hash != seal::RequesterKeyHash(want.requester_public_key)) {
    return Error(ErrorCode::kBindingMismatch, "receipt: requester key hash is not ours");
  }
  if (r.request_digest != want.request_digest) {
    return Error(ErrorCode::kChecksumMismatch, "receipt: request digest is not of the request sent");
  }
  if (r.response_digest != seal::Sha256(want.response_content)) {
    return Error(ErrorCode::kChecksumMismatch, "receipt: response digest is not of the content received");
  }
  if (r.prompt_tokens != want.usage.prompt_tokens || r.completion_tokens != want.usage.completion_tokens) {
    return Error(ErrorCode::kMalformed, "receipt: token counts " + std::to_string(r.prompt_tokens) + "+" +
                                            std::to_string(r.completion_tokens) + " differ from the answer's usage " +
                                            std::to_string(want.usage.prompt_tokens) + "+" +
                                            std::to_string(want.usage.completion_tokens));
  }
  const uint64_t expected_cost = (r.prompt_tokens + r.completion_tokens) * want.price_per_token;
  if (r.cost != expected_cost) {
    return Error(ErrorCode::kMalformed, "receipt: cost " + std::to_string(r.cost) + " != tokens x price " +
                                            std::to_string(expected_cost));
  }
  return r;
}

}  // namespace cmln::client
