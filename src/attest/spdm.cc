// SPDM 1.1 GET_MEASUREMENTS request ‖ response parsing; grammar and checks in spdm.h.
#include "attest/spdm.h"

#include <set>

#include "common/byte_reader.h"

namespace cmln::attest::spdm {
namespace {

Error Malformed(size_t offset, const std::string& what) {
  return Error(ErrorCode::kMalformed, "spdm: " + what + " at offset " + std::to_string(offset));
}

// Text of a NUL-padded ASCII field.
std::string StripNul(ByteView v) {
  std::string s(AsChars(v));
  const size_t end = s.find('\0');
  if (end != std::string::npos) s.resize(end);
  return s;
}

bool IsPrintableAscii(ByteView v) {
  for (uint8_t c : v) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return !v.empty();
}

Result<MeasurementRequest> ParseRequest(ByteReader& r) {
  MeasurementRequest req;
  const size_t start = r.offset();
  CMLN_ASSIGN_OR_RETURN(req.version, r.U8("request.SPDMVersion"));
  if (req.version != kSpdmVersion11) return Malformed(start + kReqOffVersion, "request SPDMVersion is not 0x11");
  CMLN_ASSIGN_OR_RETURN(uint8_t code, r.U8("request.RequestResponseCode"));
  if (code != kCodeGetMeasurements) return Malformed(start + kReqOffCode, "request code is not GET_MEASUREMENTS (0xE0)");
  CMLN_ASSIGN_OR_RETURN(req.attributes, r.U8("request.Param1"));
  if ((req.attributes & kAttrSignatureRequested) == 0) {
    return Malformed(start + kReqOffAttributes, "request does not ask for a signature");
  }
  CMLN_ASSIGN_OR_RETURN(req.operation, r.U8("request.Param2"));
  if (req.operation == 0) return Malformed(start + kReqOffOperation, "request asks only for the measurement count");
  CMLN_ASSIGN_OR_RETURN(ByteView nonce, r.Bytes(kNonceSize, "request.Nonce"));
  std::copy(nonce.begin(), nonce.end(), req.nonce.begin());
  CMLN_ASSIGN_OR_RETURN(req.slot_id, r.U8("request.SlotIDParam"));
  if (req.slot_id > 7) return Malformed(start + kReqOffSlot, "request SlotIDParam above 7");
  return req;
}

Result<std::vector<MeasurementBlock>> ParseRecord(ByteReader& rec, size_t count) {
  std::vector<MeasurementBlock> blocks;
  blocks.reserve(count);
  std::set<uint8_t> seen;
  for (size_t i = 0; i < count; ++i) {
    const size_t at = rec.offset();
    MeasurementBlock b;
    CMLN_ASSIGN_OR_RETURN(b.index, rec.U8("block.Index"));
    CMLN_ASSIGN_OR_RETURN(uint8_t spec, rec.U8("block.MeasurementSpecification"));
    if (spec != kMeasurementSpecDmtf) return Malformed(at + 1, "measurement block is not DMTF-specified");
    CMLN_ASSIGN_OR_RETURN(uint16_t size, rec.U16LE("block.MeasurementSize"));
    CMLN_ASSIGN_OR_RETURN(ByteReader m, rec.Child(size, "block.Measurement"));
    CMLN_ASSIGN_OR_RETURN(b.value_type, m.U8("block.DMTFSpecMeasurementValueType"));
    CMLN_ASSIGN_OR_RETURN(uint16_t value_size, m.U16LE("block.DMTFSpecMeasurementValueSize"));
    if (size_t{value_size} + 3 != size) {
      return Malformed(at + 5, "DMTFSpecMeasurementValueSize " + std::to_string(value_size) +
                                   " disagrees with MeasurementSize " + std::to_string(size));
    }
    CMLN_ASSIGN_OR_RETURN(ByteView value, m.Bytes(value_size, "block.DMTFSpecMeasurementValue"));
    b.value = ToBytes(value);
    if (!seen.insert(b.index).second) return Malformed(at, "measurement index " + std::to_string(b.index) + " repeated");
    blocks.push_back(std::move(b));
  }
  CMLN_TRY(rec.ExpectEnd("spdm MeasurementRecord"));
  return blocks;
}

}  // namespace

std::string OpaqueTypeName(uint16_t type) {
  switch (type) {
    case kOpaqueCertIssuerName: return "cert_issuer_name";
    case kOpaqueCertAuthorityKeyId: return "cert_authority_key_identifier";
    case kOpaqueDriverVersion: return "driver_version";
    case kOpaqueGpuInfo: return "gpu_info";
    case kOpaqueSku: return "sku";
    case kOpaqueVbiosVersion: return "vbios_version";
    case kOpaqueManufacturerId: return "manufacturer_id";
    case kOpaqueTamperDetection: return "tamper_detection";
    case kOpaqueSmc: return "smc";
    case kOpaqueVpr: return "vpr";
    case kOpaqueNvdec0Status: return "nvdec0_status";
    case kOpaqueMsrsCount: return "msrscnt";
    case kOpaqueCprInfo: return "cprinfo";
    case kOpaqueBoardId: return "board_id";
    case kOpaqueChipSku: return "chip_sku";
    case kOpaqueChipSkuMod: return "chip_sku_mod";
    case kOpaqueProject: return "project";
    case kOpaqueProjectSku: return "project_sku";
    case kOpaqueProjectSkuMod: return "project_sku_mod";
    case kOpaqueFwid: return "fwid";
    case kOpaqueProtectedPcieStatus: return "protected_pcie_status";
    case kOpaqueSwitchPdi: return "switch_pdi";
    case kOpaqueFloorsweptPorts: return "floorswept_ports";
    case kOpaquePositionId: return "position_id";
    case kOpaqueLockSwitchStatus: return "lock_switch_status";
    case kOpaqueGpuLinkConn: return "gpu_link_conn";
    case kOpaqueSysEnableStatus: return "sys_enable_status";
    case kOpaqueOpaqueDataVersion: return "opaque_data_version";
    case kOpaqueChipInfo: return "chip_info";
    case kOpaqueFeatureFlag: return "feature_flag";
    case kOpaqueInvalid: return "invalid";
    default: return "type_" + std::to_string(type);
  }
}

std::string FormatVbiosVersion(ByteView raw) {
  if (raw.size() != 8 || IsPrintableAscii(raw)) return StripNul(raw);
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (int i : {3, 2, 1, 0, 4}) {
    if (!out.empty()) out += '.';
    out += kHex[raw[i] >> 4];
    out += kHex[raw[i] & 0xF];
  }
  return out;
}

Result<std::vector<OpaqueField>> ParseOpaqueData(ByteView opaque, size_t base_offset) {
  ByteReader r(opaque, base_offset);
  std::vector<OpaqueField> fields;
  while (!r.empty()) {
    OpaqueField f;
    CMLN_ASSIGN_OR_RETURN(f.type, r.U16LE("opaque.DataType"));
    CMLN_ASSIGN_OR_RETURN(uint16_t size, r.U16LE("opaque.DataSize"));
    CMLN_ASSIGN_OR_RETURN(ByteView v, r.Bytes(size, "opaque.Data"));
    f.value = ToBytes(v);
    fields.push_back(std::move(f));
  }
  return fields;
}

Result<NvidiaOpaque> DecodeNvidiaOpaque(const std::vector<OpaqueField>& fields) {
  NvidiaOpaque out;
  std::set<uint16_t> seen;
  for (const auto& f : fields) {
    const bool known = OpaqueTypeName(f.type).rfind("type_", 0) != 0;
    if (known && !seen.insert(f.type).second) {
      return Error(ErrorCode::kMalformed, "spdm: opaque field " + OpaqueTypeName(f.type) + " repeated");
    }
    switch (f.type) {
      case kOpaqueDriverVersion: out.driver_version = StripNul(f.value); break;
      case kOpaqueVbiosVersion: out.vbios_version = FormatVbiosVersion(f.value); break;
      case kOpaqueFwid: out.fwid = f.value; break;
      case kOpaqueProject: out.project = StripNul(f.value); break;
      case kOpaqueProjectSku: out.project_sku = StripNul(f.value); break;
      case kOpaqueChipSku: out.chip_sku = StripNul(f.value); break;
      case kOpaqueMsrsCount: {
        if (f.value.size() % 4 != 0) {
          return Error(ErrorCode::kMalformed, "spdm: opaque msrscnt size " + std::to_string(f.value.size()) +
                                                  " is not a multiple of 4");
        }
        ByteReader m(f.value);
        while (!m.empty()) {
          CMLN_ASSIGN_OR_RETURN(uint32_t c, m.U32LE("opaque.msrscnt"));
          out.measurement_counts.push_back(c);
        }
        break;
      }
      default: break;
    }
  }
  return out;
}

const MeasurementBlock* GpuAttestationReport::Block(uint8_t index) const {
  for (const auto& b : response.blocks) {
    if (b.index == index) return &b;
  }
  return nullptr;
}

Result<GpuAttestationReport> ParseGpuAttestationReport(ByteView report) {
  if (report.size() > kMaxReportSize) {
    return Error(ErrorCode::kLengthTooLarge, "spdm: report of " + std::to_string(report.size()) + " bytes");
  }
  GpuAttestationReport out;
  ByteReader r(report);
  CMLN_ASSIGN_OR_RETURN(out.request, ParseRequest(r));

  const size_t rsp = r.offset();
  MeasurementResponse& resp = out.response;
  CMLN_ASSIGN_OR_RETURN(resp.version, r.U8("response.SPDMVersion"));
  if (resp.version != out.request.version) return Malformed(rsp + kRspOffVersion, "response SPDMVersion differs from the request's");
  CMLN_ASSIGN_OR_RETURN(uint8_t code, r.U8("response.RequestResponseCode"));
  if (code != kCodeMeasurements) return Malformed(rsp + kRspOffCode, "response code is not MEASUREMENTS (0x60)");
  CMLN_ASSIGN_OR_RETURN(resp.param1, r.U8("response.Param1"));
  CMLN_ASSIGN_OR_RETURN(resp.param2, r.U8("response.Param2"));
  if ((resp.param2 & 0x0F) != out.request.slot_id) {
    return Malformed(rsp + kRspOffParam2, "response slot id differs from the request's");
  }
  CMLN_ASSIGN_OR_RETURN(uint8_t count, r.U8("response.NumberOfBlocks"));
  if (count == 0) return Malformed(rsp + kRspOffNumberOfBlocks, "response has no measurement blocks");
  CMLN_ASSIGN_OR_RETURN(ByteView len3, r.Bytes(3, "response.MeasurementRecordLength"));
  const size_t record_length = size_t{len3[0]} | (size_t{len3[1]} << 8) | (size_t{len3[2]} << 16);
  CMLN_ASSIGN_OR_RETURN(ByteReader record, r.Child(record_length, "response.MeasurementRecord"));
  CMLN_ASSIGN_OR_RETURN(resp.blocks, ParseRecord(record, count));
  CMLN_ASSIGN_OR_RETURN(ByteView nonce, r.Bytes(kNonceSize, "response.Nonce"));
  std::copy(nonce.begin(), nonce.end(), resp.nonce.begin());
  const size_t opaque_len_at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint16_t opaque_length, r.U16LE("response.OpaqueLength"));
  if (opaque_length > kMaxOpaqueLength) {
    return Error(ErrorCode::kLengthTooLarge, "spdm: OpaqueLength " + std::to_string(opaque_length) + " above " +
                                                 std::to_string(kMaxOpaqueLength) + " at offset " +
                                                 std::to_string(opaque_len_at));
  }
  const size_t opaque_at = r.offset();
  CMLN_ASSIGN_OR_RETURN(ByteView opaque, r.Bytes(opaque_length, "response.OpaqueData"));
  CMLN_ASSIGN_OR_RETURN(resp.opaque, ParseOpaqueData(opaque, opaque_at));
  CMLN_ASSIGN_OR_RETURN(out.nvidia, DecodeNvidiaOpaque(resp.opaque));
  const size_t signed_end = r.offset();
  CMLN_ASSIGN_OR_RETURN(ByteView sig, r.Bytes(kSignatureSize, "response.Signature"));
  std::copy(sig.begin(), sig.end(), resp.signature.begin());
  CMLN_TRY(r.ExpectEnd("spdm report"));
  out.signed_bytes = ToBytes(report.first(signed_end));
  return out;
}

}  // namespace cmln::attest::spdm
