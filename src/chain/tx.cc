#include "chain/tx.h"

#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/unknown_field_set.h>

#include "seal/crypto.h"

namespace cmln::chain {

namespace {

// The path of the first message (depth first) in `m` carrying fields this build does not know, or
// nullopt. Protobuf keeps such fields and would re-serialize them, so a signer could smuggle bytes the
// chain never interprets; they are refused instead (one encoding per meaning).
std::optional<std::string> UnknownFieldPath(const google::protobuf::Message& m, const std::string& path) {
  const auto* r = m.GetReflection();
  if (!r->GetUnknownFields(m).empty()) return path;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        auto p = UnknownFieldPath(r->GetRepeatedMessage(m, f, i), path + "." + f->name() + "[" + std::to_string(i) + "]");
        if (p) return p;
      }
    } else if (auto p = UnknownFieldPath(r->GetMessage(m, f), path + "." + f->name())) {
      return p;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<DecodedTx> DecodeTx(ByteView raw, size_t max_bytes) {
  if (raw.size() > max_bytes) {
    return Error(ErrorCode::kLengthTooLarge, "tx of " + std::to_string(raw.size()) + " bytes exceeds " +
                                                 std::to_string(max_bytes));
  }
  DecodedTx tx;
  if (!tx.tx_raw.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
    return Error(ErrorCode::kMalformed, "tx: TxRaw does not parse");
  }
  if (!tx.body.ParseFromString(tx.tx_raw.body_bytes())) return Error(ErrorCode::kMalformed, "tx: TxBody does not parse");
  for (const auto& [message, name] : {std::pair<const google::protobuf::Message*, const char*>{&tx.tx_raw, "TxRaw"},
                                      {&tx.body, "TxBody"}}) {
    if (auto path = UnknownFieldPath(*message, name)) {
      return Error(ErrorCode::kMalformed, "tx: unknown field in " + *path);
    }
  }
  if (tx.body.signer_public_key().size() != seal::kAccountPublicKeySize) {
    return Error(ErrorCode::kMalformed, "tx: signer_public_key is " +
                                            std::to_string(tx.body.signer_public_key().size()) + " bytes, want 33");
  }
  std::copy(tx.body.signer_public_key().begin(), tx.body.signer_public_key().end(), tx.signer_public_key.begin());
  if (tx.body.messages_size() == 0) return Error(ErrorCode::kMalformed, "tx: no messages");
  if (static_cast<size_t>(tx.body.messages_size()) > kMaxMessagesPerTx) {
    return Error(ErrorCode::kLengthTooLarge, "tx: more than 64 messages");
  }
  for (int i = 0; i < tx.body.messages_size(); ++i) {
    if (tx.body.messages(i).sum_case() == v1::Msg::SUM_NOT_SET) {
      return Error(ErrorCode::kMalformed, "tx: messages[" + std::to_string(i) + "] is empty or of an unknown type");
    }
  }
  if (tx.body.memo().size() > kMaxMemoLen) return Error(ErrorCode::kLengthTooLarge, "tx: memo longer than 256 bytes");
  if (tx.tx_raw.signature().size() != seal::kAccountSignatureSize) {
    return Error(ErrorCode::kBadSignature, "tx: signature is " + std::to_string(tx.tx_raw.signature().size()) +
                                               " bytes, want 64");
  }
  tx.raw = ToBytes(raw);
  tx.hash_hex = TxHashHex(raw);
  tx.signer = seal::AccountAddressToString(seal::AccountAddressFromPublicKey(tx.signer_public_key));
  return tx;
}

Bytes SignDocBytes(std::string_view chain_id, uint64_t sequence, std::string_view body_bytes) {
  v1::SignDoc doc;
  doc.set_chain_id(std::string(chain_id));
  doc.set_sequence(sequence);
  doc.set_body_bytes(std::string(body_bytes));
  std::string out;
  doc.SerializeToString(&out);
  return ToBytes(out);
}

Status VerifyTxSignature(const DecodedTx& tx, std::string_view chain_id) {
  Bytes doc = SignDocBytes(chain_id, tx.body.sequence(), tx.tx_raw.body_bytes());
  Status st = seal::Secp256k1VerifyMessage(tx.signer_public_key, doc, AsBytes(tx.tx_raw.signature()));
  if (!st.ok()) {
    if (st.error().code() == ErrorCode::kInvalidKey) return st.error();
    return Error(ErrorCode::kBadSignature,
                 "tx: signature does not verify for this chain id, sequence and body (signer " + tx.signer + ")");
  }
  return OkStatus();
}

Result<Bytes> BuildSignedTx(const seal::AccountPrivateKey& key, std::string_view chain_id, uint64_t sequence,
                            uint64_t fee, const std::vector<v1::Msg>& messages, std::string_view memo) {
  v1::TxBody body;
  for (const auto& m : messages) *body.add_messages() = m;
  body.set_sequence(sequence);
  body.set_fee(fee);
  body.set_signer_public_key(key.public_key().data(), key.public_key().size());
  body.set_memo(std::string(memo));
  std::string body_bytes;
  body.SerializeToString(&body_bytes);
  CMLN_ASSIGN_OR_RETURN(seal::AccountSignature sig, key.SignMessage(SignDocBytes(chain_id, sequence, body_bytes)));
  v1::TxRaw raw;
  raw.set_body_bytes(body_bytes);
  raw.set_signature(sig.data(), sig.size());
  std::string out;
  raw.SerializeToString(&out);
  return ToBytes(out);
}

std::string TxHashHex(ByteView raw) { return HexEncode(seal::Sha256(raw)); }

}  // namespace cmln::chain
