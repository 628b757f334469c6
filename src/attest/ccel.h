// Confidential Computing Event Log (CCEL) for TDX: parse the ACPI "CCEL" table and replay the TCG2
// crypto-agile event log into RTMR0-3 with SHA-384, so the log can be checked against a verified TD report.
//
// ACPI table (56 bytes): header(36: signature "CCEL", u32 length, revision, checksum, oem_id[6],
//   oem_table_id[8], u32 oem_revision, u32 creator_id, u32 creator_revision) u8 cc_type (2 = TDX)
//   u8 cc_subtype u16 reserved u64 log_area_minimum_length u64 log_area_start_address   (little-endian)
//
// Event log (TCG PC Client PFP spec, "crypto agile" format; little-endian):
//   log        = spec_event event2* [padding: 0xFF.. or 0x00..]
//   spec_event = u32 mr_index(1: PCR0) u32 event_type(3 = EV_NO_ACTION) digest[20] u32 size
//                TCG_EfiSpecIdEvent(size): signature[16] "Spec ID Event03\0" u32 platform_class
//                u8 minor u8 major u8 errata u8 uintn_size u32 n {u16 alg_id u16 digest_size}[n]
//                u8 vendor_size vendor[vendor_size]
//   event2     = u32 mr_index u32 event_type u32 digest_count {u16 alg_id digest[size from spec_event]}*
//                u32 event_size event[event_size]
// The log ends at the end of the input or where a u32 mr_index of 0xFFFFFFFF (erased flash) or an all-zero
// event header starts. CCEL MR index i (1..4) is RTMR[i-1]; index 0 is MRTD (built by the TDX module, not
// replayed). EV_NO_ACTION events are not extended. rtmr = SHA-384(rtmr || sha384_digest), from zero.
//
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "attest/tdx_quote.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

inline constexpr size_t kCcelAcpiTableSize = 56;
inline constexpr uint8_t kCcTypeTdx = 2;
inline constexpr uint16_t kTpmAlgSha384 = 0x000c;
inline constexpr uint32_t kEvNoAction = 0x00000003;
inline constexpr size_t kMaxCcelEvents = 1 << 16;
inline constexpr size_t kMaxCcelDigestAlgs = 8;

struct CcelAcpiTable {
  uint8_t revision = 0;
  uint8_t cc_type = 0;
  uint8_t cc_subtype = 0;
  uint64_t log_area_minimum_length = 0;
  uint64_t log_area_start_address = 0;
};

struct CcelEvent {
  size_t offset = 0;  // of the event header in the log
  uint32_t mr_index = 0;
  uint32_t event_type = 0;
  Mr48 sha384{};
  Bytes data;
};

struct CcelReplay {
  std::array<Mr48, 4> rtmr{};
  std::vector<CcelEvent> events;  // every event after the spec event, in log order
  size_t log_size = 0;            // bytes of log before the padding
};

// kMalformed if the signature is not "CCEL" or the length field is not the table size; kTruncated if short.
Result<CcelAcpiTable> ParseCcelAcpiTable(ByteView table);

// Parses and replays the log. kMalformed for a missing/invalid spec event, a log without SHA-384, a digest
// algorithm the spec event did not announce, or an MR index above 4; kTruncated for a cut event;
// kLengthTooLarge beyond kMaxCcelEvents.
Result<CcelReplay> ReplayCcel(ByteView log);

// kChecksumMismatch listing every RTMR whose replayed value differs from the report (seen, wanted hex).
Status CheckCcelAgainstReport(const CcelReplay& replay, const TdReport& report);

}  // namespace cmln::attest
