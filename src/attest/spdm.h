// NVIDIA GPU / NVSwitch attestation report: DMTF SPDM 1.1 GET_MEASUREMENTS request ‖ MEASUREMENTS response,
// bytes -> struct (the parse step; knows no cryptography and no policy).
//
// Source: DMTF DSP0274 (SPDM) 1.1, "GET_MEASUREMENTS request and MEASUREMENTS response messages"; NVIDIA's
// opaque-data TLV types as documented by NVIDIA/nvtrust (local GPU verifier). An NVIDIA attestation report
// (nvmlDeviceGetConfComputeGpuAttestationReport, the `evidence` of an evidence_list entry) is the request
// the driver sent, immediately followed by the signed response. All integers are little-endian.
//
//   report   = request response
//   request  = SPDMVersion(1)=0x11  RequestResponseCode(1)=0xE0  Param1(1)=attributes  Param2(1)=operation
//              Nonce(32)  SlotIDParam(1)                      ; Nonce and SlotIDParam present because
//                                                             ; attributes bit 0 (signature requested) is set
//   response = SPDMVersion(1)=0x11  RequestResponseCode(1)=0x60  Param1(1)  Param2(1)=slot id (bits 0-3)
//              NumberOfBlocks(1)  MeasurementRecordLength(3)  MeasurementRecord(MeasurementRecordLength)
//              Nonce(32)  OpaqueLength(2)  OpaqueData(OpaqueLength)  Signature(96)
//   MeasurementRecord = NumberOfBlocks * block
//   block    = Index(1)  MeasurementSpecification(1)=0x01 (DMTF)  MeasurementSize(2)  Measurement(MeasurementSize)
//   Measurement (DMTF) = DMTFSpecMeasurementValueType(1)  DMTFSpecMeasurementValueSize(2)  Value(ValueSize)
//                        with MeasurementSize = 3 + ValueSize
//   OpaqueData = *( DataType(2)  DataSize(2)  Data(DataSize) )     ; NVIDIA's TLVs, exactly filling OpaqueLength
//   Signature  = ECDSA P-384 r(48) ‖ s(48), big-endian, over SHA-384(request ‖ response without Signature)
//
// Checks made here (all kMalformed unless noted): version 0x11 in both messages, the two codes, signature
// requested, a nonzero block count, unique block indexes, DMTF specification on every block, sizes that
// add up exactly, OpaqueLength <= kMaxOpaqueLength (kLengthTooLarge), TLVs that fill OpaqueData exactly,
// known NVIDIA TLVs not repeated, MSRSCNT a multiple of 4 bytes, exactly kSignatureSize bytes after the
// opaque data (fewer: kTruncated, more: kTrailingData). Unknown TLV types are kept raw (newer firmware adds
// them); policy decides whether they matter.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest::spdm {

// --- wire constants ----------------------------------------------------------------------------------
inline constexpr uint8_t kSpdmVersion11 = 0x11;
inline constexpr uint8_t kCodeGetMeasurements = 0xE0;
inline constexpr uint8_t kCodeMeasurements = 0x60;
inline constexpr uint8_t kAttrSignatureRequested = 0x01;
inline constexpr uint8_t kOperationAllMeasurements = 0xFF;
inline constexpr uint8_t kMeasurementSpecDmtf = 0x01;
inline constexpr uint8_t kDmtfValueRawBitStream = 0x80;  // bit 7 of the value type: raw bits, not a digest
inline constexpr size_t kNonceSize = 32;
inline constexpr size_t kRequestSize = 4 + kNonceSize + 1;  // 37
inline constexpr size_t kSignatureSize = 96;                // ECDSA P-384 r ‖ s

// Offsets inside the request, and inside the response (relative to the start of the response).
inline constexpr size_t kReqOffVersion = 0;
inline constexpr size_t kReqOffCode = 1;
inline constexpr size_t kReqOffAttributes = 2;
inline constexpr size_t kReqOffOperation = 3;
inline constexpr size_t kReqOffNonce = 4;
inline constexpr size_t kReqOffSlot = 36;
inline constexpr size_t kRspOffVersion = 0;
inline constexpr size_t kRspOffCode = 1;
inline constexpr size_t kRspOffParam1 = 2;
inline constexpr size_t kRspOffParam2 = 3;
inline constexpr size_t kRspOffNumberOfBlocks = 4;
inline constexpr size_t kRspOffRecordLength = 5;
inline constexpr size_t kRspOffRecord = 8;

// Caps (before anything is allocated).
inline constexpr size_t kMaxOpaqueLength = 1024;  // DSP0274 1.1: OpaqueLength <= 1024
inline constexpr size_t kMaxReportSize = kRequestSize + 8 + 0xFFFFFF + kNonceSize + 2 + kMaxOpaqueLength + kSignatureSize;

// NVIDIA opaque data types (DataType of a TLV).
enum OpaqueType : uint16_t {
  kOpaqueCertIssuerName = 1,
  kOpaqueCertAuthorityKeyId = 2,
  kOpaqueDriverVersion = 3,
  kOpaqueGpuInfo = 4,
  kOpaqueSku = 5,
  kOpaqueVbiosVersion = 6,
  kOpaqueManufacturerId = 7,
  kOpaqueTamperDetection = 8,
  kOpaqueSmc = 9,
  kOpaqueVpr = 10,
  kOpaqueNvdec0Status = 11,
  kOpaqueMsrsCount = 12,
  kOpaqueCprInfo = 13,
  kOpaqueBoardId = 14,
  kOpaqueChipSku = 15,
  kOpaqueChipSkuMod = 16,
  kOpaqueProject = 17,
  kOpaqueProjectSku = 18,
  kOpaqueProjectSkuMod = 19,
  kOpaqueFwid = 20,
  kOpaqueProtectedPcieStatus = 21,
  kOpaqueSwitchPdi = 22,
  kOpaqueFloorsweptPorts = 23,
  kOpaquePositionId = 24,
  kOpaqueLockSwitchStatus = 25,
  kOpaqueGpuLinkConn = 32,
  kOpaqueSysEnableStatus = 33,
  kOpaqueOpaqueDataVersion = 34,
  kOpaqueChipInfo = 35,
  kOpaqueFeatureFlag = 36,
  kOpaqueInvalid = 255,
};
// "driver_version", "vbios_version", "fwid", ... for known types; "type_<n>" otherwise.
std::string OpaqueTypeName(uint16_t type);

// --- parsed structures ----------------------------------------------------------------------------------
struct MeasurementRequest {
  uint8_t version = 0;
  uint8_t attributes = 0;
  uint8_t operation = 0;  // 0xFF: all measurements
  std::array<uint8_t, kNonceSize> nonce{};
  uint8_t slot_id = 0;
};

struct MeasurementBlock {
  uint8_t index = 0;        // 1-based in NVIDIA's reports; RIM index = index - 1
  uint8_t value_type = 0;   // DMTFSpecMeasurementValueType
  Bytes value;
};

struct OpaqueField {
  uint16_t type = 0;
  Bytes value;
};

struct MeasurementResponse {
  uint8_t version = 0;
  uint8_t param1 = 0;
  uint8_t param2 = 0;
  std::vector<MeasurementBlock> blocks;  // in wire order
  std::array<uint8_t, kNonceSize> nonce{};
  std::vector<OpaqueField> opaque;        // in wire order
  std::array<uint8_t, kSignatureSize> signature{};
};

// The NVIDIA fields of the opaque data that verification and policy use, decoded.
struct NvidiaOpaque {
  std::string driver_version;  // "550.90.07" (NUL padding stripped); empty if absent
  std::string vbios_version;   // "96.00.9F.00.01" (see FormatVbiosVersion); empty if absent
  Bytes fwid;                  // OPAQUE_FIELD_ID_FWID (48 bytes on Hopper); empty if absent
  std::vector<uint32_t> measurement_counts;  // MSRSCNT
  std::string project, project_sku, chip_sku;  // NUL padding stripped
};

struct GpuAttestationReport {
  MeasurementRequest request;
  MeasurementResponse response;
  NvidiaOpaque nvidia;
  Bytes signed_bytes;  // request ‖ response without the signature: what the signature covers

  // The block with this SPDM index, or nullptr.
  const MeasurementBlock* Block(uint8_t index) const;
};

// Parses one report (request ‖ response). See the top of this file for the checks and codes.
Result<GpuAttestationReport> ParseGpuAttestationReport(ByteView report);

// Parses the TLVs of an OpaqueData field (exposed for tests and the fuzzer).
Result<std::vector<OpaqueField>> ParseOpaqueData(ByteView opaque, size_t base_offset = 0);
// Decodes NVIDIA's fields from parsed TLVs. kMalformed for a repeated known type or a bad MSRSCNT size.
Result<NvidiaOpaque> DecodeNvidiaOpaque(const std::vector<OpaqueField>& fields);

// NVIDIA's VBIOS version text from the 8 raw bytes of OPAQUE_FIELD_ID_VBIOS_VERSION: bytes b0..b7 read as a
// little-endian integer v, printed as the two-hex-digit groups of v's bytes 3.2.1.0.4, uppercase
// ("009f009601000000" -> "96.00.9F.00.01"), the form RIMs name in colloquialVersion. NVSwitch reports carry
// the text itself (ASCII, e.g. "96.10.73.00.01"), which is returned as is.
std::string FormatVbiosVersion(ByteView raw);

}  // namespace cmln::attest::spdm
