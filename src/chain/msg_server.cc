#include "chain/msg_server.h"

#include "chain/usage_batch.h"
#include "seal/account_key.h"

namespace cmln::chain {

namespace {

constexpr size_t kMaxIdLen = 128;
constexpr size_t kMaxEndpointLen = 512;
constexpr size_t kMaxReasonLen = 512;
constexpr size_t kMaxBundleBytes = 512 * 1024;
constexpr size_t kMaxCollateralBytes = 512 * 1024;

Status Address(const std::string& a, const char* field) {
  auto r = seal::AccountAddressFromString(a);
  if (!r.ok()) return Error(ErrorCode::kInvalidArgument, std::string(field) + " is not a gonka1 address: " + r.error().message());
  return OkStatus();
}

Status Id(const std::string& v, const char* field, size_t max = kMaxIdLen) {
  if (v.empty() || v.size() > max) {
    return Error(ErrorCode::kInvalidArgument, std::string(field) + " length must be 1.." + std::to_string(max));
  }
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      return Error(ErrorCode::kInvalidArgument, std::string(field) + " must be printable ASCII without spaces");
    }
  }
  return OkStatus();
}

Status Positive(uint64_t v, const char* field) {
  if (v == 0) return Error(ErrorCode::kInvalidArgument, std::string(field) + " must be > 0");
  return OkStatus();
}

Status ValidateRelease(const v1::Release& r) {
  CMLN_TRY(Id(r.release_id(), "release.release_id"));
  static const char* kPlatforms[] = {"tdx", "snp", "sim-tdx", "sim-snp"};
  bool known = false;
  for (const char* p : kPlatforms) known = known || r.platform() == p;
  if (!known) return Error(ErrorCode::kInvalidArgument, "release.platform must be tdx, snp, sim-tdx or sim-snp");
  if (r.measurements_size() == 0) return Error(ErrorCode::kInvalidArgument, "release.measurements empty");
  for (int i = 0; i < r.measurements_size(); ++i) {
    const auto& m = r.measurements(i);
    CMLN_TRY(Id(m.name(), "release.measurements[].name", 32));
    if (m.value().empty() || m.value().size() > 64) {
      return Error(ErrorCode::kInvalidArgument, "release.measurements[" + std::to_string(i) + "].value must be 1..64 bytes");
    }
    for (int j = 0; j < i; ++j) {
      if (r.measurements(j).name() == m.name()) {
        return Error(ErrorCode::kInvalidArgument, "release.measurements name " + m.name() + " repeated");
      }
    }
  }
  CMLN_TRY(Id(r.model_id(), "release.model_id"));
  if (r.model_digest().size() != 32) return Error(ErrorCode::kInvalidArgument, "release.model_digest must be 32 bytes");
  if (!r.min_tcb().empty()) {
    attest::TcbStatus s;
    if (!attest::ParseTcbStatus(r.min_tcb(), &s) || attest::TcbRank(s) >= attest::kUnacceptableTcbRank) {
      return Error(ErrorCode::kInvalidArgument, "release.min_tcb " + r.min_tcb() + " is not an acceptable TCB status");
    }
  }
  if (r.not_after_epoch() != 0 && r.not_after_epoch() < r.not_before_epoch()) {
    return Error(ErrorCode::kInvalidArgument, "release.not_after_epoch before not_before_epoch");
  }
  return OkStatus();
}

}  // namespace

Status ValidateBasic(const v1::Msg& msg) {
  switch (msg.sum_case()) {
    case v1::Msg::kSend: {
      const auto& m = msg.send();
      CMLN_TRY(Address(m.from_address(), "from_address"));
      CMLN_TRY(Address(m.to_address(), "to_address"));
      return Positive(m.amount(), "amount");
    }
    case v1::Msg::kRegisterRelease:
      CMLN_TRY(Address(msg.register_release().authority(), "authority"));
      return ValidateRelease(msg.register_release().release());
    case v1::Msg::kRetireRelease:
      CMLN_TRY(Address(msg.retire_release().authority(), "authority"));
      return Id(msg.retire_release().release_id(), "release_id");
    case v1::Msg::kUpdateParams:
      CMLN_TRY(Address(msg.update_params().authority(), "authority"));
      return ValidateParams(msg.update_params().params());
    case v1::Msg::kSubmitCollateral: {
      const auto& m = msg.submit_collateral();
      CMLN_TRY(Address(m.submitter(), "submitter"));
      CMLN_TRY(Id(m.platform(), "platform", 32));
      if (m.collateral().empty() || m.collateral().size() > kMaxCollateralBytes) {
        return Error(ErrorCode::kLengthTooLarge, "collateral must be 1..524288 bytes");
      }
      return OkStatus();
    }
    case v1::Msg::kSubmitTeeAttestation: {
      const auto& m = msg.submit_tee_attestation();
      CMLN_TRY(Address(m.participant(), "participant"));
      CMLN_TRY(Id(m.node_id(), "node_id", kMaxNodeIdLen));
      CMLN_TRY(Id(m.model_id(), "model_id"));
      if (m.endpoint().size() > kMaxEndpointLen) return Error(ErrorCode::kLengthTooLarge, "endpoint too long");
      if (m.bundle().empty() || m.bundle().size() > kMaxBundleBytes) {
        return Error(ErrorCode::kLengthTooLarge, "bundle must be 1..524288 bytes");
      }
      return OkStatus();
    }
    case v1::Msg::kRevokeTeeAttestation: {
      const auto& m = msg.revoke_tee_attestation();
      CMLN_TRY(Address(m.signer(), "signer"));
      CMLN_TRY(Id(m.node_id(), "node_id", kMaxNodeIdLen));
      if (m.reason().size() > kMaxReasonLen) return Error(ErrorCode::kLengthTooLarge, "reason too long");
      return OkStatus();
    }
    case v1::Msg::kCreateConfidentialEscrow: {
      const auto& m = msg.create_confidential_escrow();
      CMLN_TRY(Address(m.creator(), "creator"));
      CMLN_TRY(Positive(m.amount(), "amount"));
      return Id(m.model_id(), "model_id");
    }
    case v1::Msg::kSettleConfidentialUsage: {
      const auto& m = msg.settle_confidential_usage();
      CMLN_TRY(Address(m.submitter(), "submitter"));
      if (m.signature().size() != 64) return Error(ErrorCode::kBadSignature, "usage signature must be 64 bytes");
      auto batch = DecodeUsageBatch(AsBytes(m.batch()));
      if (!batch.ok()) return batch.error();
      return OkStatus();
    }
    case v1::Msg::SUM_NOT_SET:
      break;
  }
  return Error(ErrorCode::kMalformed, "message of unknown type");
}

std::string MsgSigner(const v1::Msg& msg) {
  switch (msg.sum_case()) {
    case v1::Msg::kSend: return msg.send().from_address();
    case v1::Msg::kRegisterRelease: return msg.register_release().authority();
    case v1::Msg::kRetireRelease: return msg.retire_release().authority();
    case v1::Msg::kUpdateParams: return msg.update_params().authority();
    case v1::Msg::kSubmitCollateral: return msg.submit_collateral().submitter();
    case v1::Msg::kSubmitTeeAttestation: return msg.submit_tee_attestation().participant();
    case v1::Msg::kRevokeTeeAttestation: return msg.revoke_tee_attestation().signer();
    case v1::Msg::kCreateConfidentialEscrow: return msg.create_confidential_escrow().creator();
    case v1::Msg::kSettleConfidentialUsage: return msg.settle_confidential_usage().submitter();
    case v1::Msg::SUM_NOT_SET: break;
  }
  return "";
}

std::string MsgTypeName(const v1::Msg& msg) {
  switch (msg.sum_case()) {
    case v1::Msg::kSend: return "send";
    case v1::Msg::kRegisterRelease: return "register_release";
    case v1::Msg::kRetireRelease: return "retire_release";
    case v1::Msg::kUpdateParams: return "update_params";
    case v1::Msg::kSubmitCollateral: return "submit_collateral";
    case v1::Msg::kSubmitTeeAttestation: return "submit_tee_attestation";
    case v1::Msg::kRevokeTeeAttestation: return "revoke_tee_attestation";
    case v1::Msg::kCreateConfidentialEscrow: return "create_confidential_escrow";
    case v1::Msg::kSettleConfidentialUsage: return "settle_confidential_usage";
    case v1::Msg::SUM_NOT_SET: break;
  }
  return "unknown";
}

Status DeliverMsg(Keeper& k, const v1::Msg& msg) {
  switch (msg.sum_case()) {
    case v1::Msg::kSend: return k.Send(msg.send());
    case v1::Msg::kRegisterRelease: return k.RegisterRelease(msg.register_release());
    case v1::Msg::kRetireRelease: return k.RetireRelease(msg.retire_release());
    case v1::Msg::kUpdateParams: return k.UpdateParams(msg.update_params());
    case v1::Msg::kSubmitCollateral: return k.SubmitCollateral(msg.submit_collateral());
    case v1::Msg::kSubmitTeeAttestation: return k.SubmitTeeAttestation(msg.submit_tee_attestation());
    case v1::Msg::kRevokeTeeAttestation: return k.RevokeTeeAttestation(msg.revoke_tee_attestation());
    case v1::Msg::kCreateConfidentialEscrow: {
      auto r = k.CreateConfidentialEscrow(msg.create_confidential_escrow());
      if (!r.ok()) return r.error();
      return OkStatus();
    }
    case v1::Msg::kSettleConfidentialUsage: return k.SettleConfidentialUsage(msg.settle_confidential_usage());
    case v1::Msg::SUM_NOT_SET: break;
  }
  return Error(ErrorCode::kMalformed, "message of unknown type");
}

}  // namespace cmln::chain
