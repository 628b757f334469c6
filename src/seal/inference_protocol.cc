#include "seal/inference_protocol.h"

#include <cstring>

#include "common/byte_reader.h"

namespace cmln::seal {
namespace {

bool IsProtocolId(std::string_view id) {
  if (id.empty() || id.size() > kMaxProtocolIdLen) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

Status CheckIds(std::string_view chain_id, std::string_view node_id, uint64_t escrow_id) {
  if (!IsProtocolId(chain_id)) return Error(ErrorCode::kInvalidArgument, "chain_id: empty, too long or not printable");
  if (!IsProtocolId(node_id)) return Error(ErrorCode::kInvalidArgument, "node_id: empty, too long or not printable");
  if (escrow_id == 0) return Error(ErrorCode::kInvalidArgument, "escrow_id: must be >= 1");
  return OkStatus();
}

void WriteId(ByteWriter& w, std::string_view id) {
  w.U16BE(static_cast<uint16_t>(id.size()));
  w.Bytes(id);
}

Result<std::string> ReadId(ByteReader& r, const std::string& field) {
  CMLN_ASSIGN_OR_RETURN(uint16_t len, r.U16BE(field));
  if (len > kMaxProtocolIdLen) {
    return Error(ErrorCode::kLengthTooLarge, std::string(field) + ": length " + std::to_string(len) + " exceeds " +
                                                 std::to_string(kMaxProtocolIdLen) + " at offset " +
                                                 std::to_string(r.offset() - 2));
  }
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(ByteView bytes, r.Bytes(len, field));
  std::string id(AsChars(bytes));
  if (!IsProtocolId(id)) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": empty or not printable ASCII at offset " +
                                            std::to_string(at));
  }
  return id;
}

// The prefix both layouts share: version, chain_id, node_id, escrow_id (`what` names the layout).
struct Prefix {
  std::string chain_id;
  std::string node_id;
  uint64_t escrow_id = 0;
};

Result<Prefix> ReadPrefix(ByteReader& r, const std::string& what) {
  CMLN_ASSIGN_OR_RETURN(uint8_t version, r.U8(what + ".version"));
  if (version != kInferenceProtocolVersion) {
    return Error(ErrorCode::kUnsupported, what + ".version " + std::to_string(version) + " (expected 1)");
  }
  Prefix p;
  CMLN_ASSIGN_OR_RETURN(p.chain_id, ReadId(r, what + ".chain_id"));
  CMLN_ASSIGN_OR_RETURN(p.node_id, ReadId(r, what + ".node_id"));
  const size_t escrow_at = r.offset();
  CMLN_ASSIGN_OR_RETURN(p.escrow_id, r.U64BE(what + ".escrow_id"));
  if (p.escrow_id == 0) {
    return Error(ErrorCode::kMalformed, what + ".escrow_id: 0 at offset " + std::to_string(escrow_at));
  }
  return p;
}

// Everything before the signature.
Bytes AuthorizationBody(const RequestAuthorization& a) {
  ByteWriter w(1 + 2 + a.chain_id.size() + 2 + a.node_id.size() + 8 + 33 + 8 + 32);
  w.U8(kInferenceProtocolVersion);
  WriteId(w, a.chain_id);
  WriteId(w, a.node_id);
  w.U64BE(a.escrow_id);
  w.Bytes(ByteView(a.requester_public_key));
  w.U64BE(a.timestamp);
  w.Bytes(ByteView(a.request_digest));
  return w.Take();
}

Bytes ReceiptBody(const Receipt& r) {
  ByteWriter w(1 + 2 + r.chain_id.size() + 2 + r.node_id.size() + 8 + 3 * 32 + 4 * 8);
  w.U8(kInferenceProtocolVersion);
  WriteId(w, r.chain_id);
  WriteId(w, r.node_id);
  w.U64BE(r.escrow_id);
  w.Bytes(ByteView(r.requester_key_hash));
  w.Bytes(ByteView(r.request_digest));
  w.Bytes(ByteView(r.response_digest));
  w.U64BE(r.prompt_tokens);
  w.U64BE(r.completion_tokens);
  w.U64BE(r.cost);
  w.U64BE(r.sequence);
  return w.Take();
}

}  // namespace

Result<RequestAuthorization> SignAuthorization(const AccountPrivateKey& requester, std::string_view chain_id,
                                               std::string_view node_id, uint64_t escrow_id, uint64_t timestamp,
                                               ByteView request_content) {
  CMLN_TRY(CheckIds(chain_id, node_id, escrow_id));
  RequestAuthorization auth;
  auth.chain_id = std::string(chain_id);
  auth.node_id = std::string(node_id);
  auth.escrow_id = escrow_id;
  auth.requester_public_key = requester.public_key();
  auth.timestamp = timestamp;
  auth.request_digest = Sha256(request_content);
  CMLN_ASSIGN_OR_RETURN(auth.signature, requester.SignMessage(Concat(AsBytes(kAuthorizationDomain),
                                                                     ByteView(AuthorizationBody(auth)))));
  return auth;
}

Result<Bytes> EncodeAuthorization(const RequestAuthorization& auth) {
  CMLN_TRY(CheckIds(auth.chain_id, auth.node_id, auth.escrow_id));
  Bytes out = AuthorizationBody(auth);
  Append(out, ByteView(auth.signature));
  return out;
}

Result<RequestAuthorization> DecodeAuthorization(ByteView bytes) {
  ByteReader r(bytes);
  CMLN_ASSIGN_OR_RETURN(Prefix prefix, ReadPrefix(r, "authorization"));
  RequestAuthorization a;
  a.chain_id = std::move(prefix.chain_id);
  a.node_id = std::move(prefix.node_id);
  a.escrow_id = prefix.escrow_id;
  const size_t key_at = r.offset();
  CMLN_TRY(r.Array(a.requester_public_key, "authorization.requester_public_key"));
  if (a.requester_public_key[0] != 0x02 && a.requester_public_key[0] != 0x03) {
    return Error(ErrorCode::kMalformed,
                 "authorization.requester_public_key: not a compressed point at offset " + std::to_string(key_at));
  }
  CMLN_ASSIGN_OR_RETURN(a.timestamp, r.U64BE("authorization.timestamp"));
  CMLN_TRY(r.Array(a.request_digest, "authorization.request_digest"));
  CMLN_TRY(r.Array(a.signature, "authorization.signature"));
  CMLN_TRY(r.ExpectEnd("authorization"));
  return a;
}

Status VerifyAuthorizationSignature(const RequestAuthorization& auth) {
  return Secp256k1VerifyMessage(ByteView(auth.requester_public_key),
                                Concat(AsBytes(kAuthorizationDomain), ByteView(AuthorizationBody(auth))),
                                ByteView(auth.signature));
}

Result<Receipt> SignReceipt(const Ed25519PrivateKey& key, Receipt receipt) {
  CMLN_TRY(CheckIds(receipt.chain_id, receipt.node_id, receipt.escrow_id));
  if (receipt.sequence == 0) return Error(ErrorCode::kInvalidArgument, "receipt.sequence: must be >= 1");
  CMLN_ASSIGN_OR_RETURN(receipt.signature, key.Sign(Concat(AsBytes(kReceiptDomain), ByteView(ReceiptBody(receipt)))));
  return receipt;
}

Result<Bytes> EncodeReceipt(const Receipt& receipt) {
  CMLN_TRY(CheckIds(receipt.chain_id, receipt.node_id, receipt.escrow_id));
  Bytes out = ReceiptBody(receipt);
  Append(out, ByteView(receipt.signature));
  return out;
}

Result<Receipt> DecodeReceipt(ByteView bytes) {
  ByteReader r(bytes);
  CMLN_ASSIGN_OR_RETURN(Prefix prefix, ReadPrefix(r, "receipt"));
  Receipt rc;
  rc.chain_id = std::move(prefix.chain_id);
  rc.node_id = std::move(prefix.node_id);
  rc.escrow_id = prefix.escrow_id;
  CMLN_TRY(r.Array(rc.requester_key_hash, "receipt.requester_key_hash"));
  CMLN_TRY(r.Array(rc.request_digest, "receipt.request_digest"));
  CMLN_TRY(r.Array(rc.response_digest, "receipt.response_digest"));
  CMLN_ASSIGN_OR_RETURN(rc.prompt_tokens, r.U64BE("receipt.prompt_tokens"));
  CMLN_ASSIGN_OR_RETURN(rc.completion_tokens, r.U64BE("receipt.completion_tokens"));
  CMLN_ASSIGN_OR_RETURN(rc.cost, r.U64BE("receipt.cost"));
  const size_t seq_at = r.offset();
  CMLN_ASSIGN_OR_RETURN(rc.sequence, r.U64BE("receipt.sequence"));
  if (rc.sequence == 0) {
    return Error(ErrorCode::kMalformed, "receipt.sequence: 0 at offset " + std::to_string(seq_at));
  }
  CMLN_TRY(r.Array(rc.signature, "receipt.signature"));
  CMLN_TRY(r.ExpectEnd("receipt"));
  return rc;
}

Status VerifyReceiptSignature(const Receipt& receipt, ByteView sign_public_key) {
  return Ed25519Verify(sign_public_key, Concat(AsBytes(kReceiptDomain), ByteView(ReceiptBody(receipt))),
                       ByteView(receipt.signature));
}

Digest32 RequesterKeyHash(ByteView public_key) { return Sha256(public_key); }

}  // namespace cmln::seal
