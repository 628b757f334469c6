// CCEL parsing and RTMR replay; the formats are in ccel.h.
#include "attest/ccel.h"

#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "common/byte_reader.h"

namespace cmln::attest {

namespace {

constexpr char kSpecIdSignature[16] = "Spec ID Event03";  // with its NUL, 16 bytes

Mr48 Sha384(ByteView data) {
  Mr48 out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha384(), nullptr);
  return out;
}

struct DigestAlg {
  uint16_t id;
  uint16_t size;
};

Result<std::vector<DigestAlg>> ParseSpecEvent(ByteReader& r) {
  CMLN_ASSIGN_OR_RETURN(uint32_t mr_index, r.U32LE("spec_event.mr_index"));
  CMLN_ASSIGN_OR_RETURN(uint32_t type, r.U32LE("spec_event.event_type"));
  // The header event is written for PCR0, which CCEL numbers 1 (RTMR0); it is never extended.
  if (mr_index > 4 || type != kEvNoAction) {
    return Error(ErrorCode::kMalformed, "spec_event: mr_index " + std::to_string(mr_index) + " type " +
                                            std::to_string(type) + " (want EV_NO_ACTION)");
  }
  CMLN_TRY(r.Skip(20, "spec_event.digest"));
  CMLN_ASSIGN_OR_RETURN(uint32_t size, r.U32LE("spec_event.size"));
  CMLN_ASSIGN_OR_RETURN(ByteReader ev, r.Child(size, "spec_event.event"));
  CMLN_ASSIGN_OR_RETURN(ByteView sig, ev.Bytes(16, "spec_event.signature"));
  if (std::memcmp(sig.data(), kSpecIdSignature, 16) != 0) {
    return Error(ErrorCode::kMalformed, "spec_event.signature is not \"Spec ID Event03\"");
  }
  CMLN_TRY(ev.Skip(8, "spec_event.platform_class/version/uintn_size"));
  CMLN_ASSIGN_OR_RETURN(uint32_t n, ev.U32LE("spec_event.number_of_algorithms"));
  if (n == 0 || n > kMaxCcelDigestAlgs) {
    return Error(ErrorCode::kMalformed, "spec_event.number_of_algorithms " + std::to_string(n));
  }
  std::vector<DigestAlg> algs;
  bool has_sha384 = false;
  for (uint32_t i = 0; i < n; ++i) {
    DigestAlg a{};
    CMLN_ASSIGN_OR_RETURN(a.id, ev.U16LE("spec_event.algorithm_id"));
    CMLN_ASSIGN_OR_RETURN(a.size, ev.U16LE("spec_event.digest_size"));
    if (a.id == kTpmAlgSha384) {
      if (a.size != 48) return Error(ErrorCode::kMalformed, "spec_event: SHA-384 digest size " + std::to_string(a.size));
      has_sha384 = true;
    }
    if (a.size == 0 || a.size > 64) return Error(ErrorCode::kMalformed, "spec_event: digest size " + std::to_string(a.size));
    algs.push_back(a);
  }
  if (!has_sha384) return Error(ErrorCode::kMalformed, "spec_event: no SHA-384 bank");
  CMLN_ASSIGN_OR_RETURN(uint8_t vendor_size, ev.U8("spec_event.vendor_info_size"));
  CMLN_TRY(ev.Skip(vendor_size, "spec_event.vendor_info"));
  CMLN_TRY(ev.ExpectEnd("spec_event"));
  return algs;
}

bool AtEnd(const ByteReader& r) {
  if (r.remaining() < 8) return true;
  const ByteView head = r.rest().subspan(0, 8);
  bool all_ff = true;
  bool all_zero = true;
  for (uint8_t b : head) {
    all_ff = all_ff && b == 0xff;
    all_zero = all_zero && b == 0;
  }
  return all_ff || all_zero || (head[0] == 0xff && head[1] == 0xff && head[2] == 0xff && head[3] == 0xff);
}

}  // namespace

Result<CcelAcpiTable> ParseCcelAcpiTable(ByteView table) {
  ByteReader r(table);
  CMLN_ASSIGN_OR_RETURN(ByteView sig, r.Bytes(4, "ccel.signature"));
  if (AsChars(sig) != "CCEL") return Error(ErrorCode::kMalformed, "ccel.signature is not \"CCEL\"");
  CMLN_ASSIGN_OR_RETURN(uint32_t length, r.U32LE("ccel.length"));
  if (length != kCcelAcpiTableSize) {
    return Error(ErrorCode::kMalformed, "ccel.length " + std::to_string(length) + " (want 56)");
  }
  CcelAcpiTable t;
  CMLN_ASSIGN_OR_RETURN(t.revision, r.U8("ccel.revision"));
  CMLN_TRY(r.Skip(1 + 6 + 8 + 4 + 4 + 4, "ccel.header"));
  CMLN_ASSIGN_OR_RETURN(t.cc_type, r.U8("ccel.cc_type"));
  CMLN_ASSIGN_OR_RETURN(t.cc_subtype, r.U8("ccel.cc_subtype"));
  CMLN_TRY(r.Skip(2, "ccel.reserved"));
  CMLN_ASSIGN_OR_RETURN(t.log_area_minimum_length, r.U64LE("ccel.log_area_minimum_length"));
  CMLN_ASSIGN_OR_RETURN(t.log_area_start_address, r.U64LE("ccel.log_area_start_address"));
  CMLN_TRY(r.ExpectEnd("ccel table"));
  return t;
}

Result<CcelReplay> ReplayCcel(ByteView log) {
  ByteReader r(log);
  CMLN_ASSIGN_OR_RETURN(std::vector<DigestAlg> algs, ParseSpecEvent(r));
  CcelReplay out;
  while (!AtEnd(r)) {
    if (out.events.size() == kMaxCcelEvents) {
      return Error(ErrorCode::kLengthTooLarge, "ccel: more than " + std::to_string(kMaxCcelEvents) + " events");
    }
    CcelEvent e;
    e.offset = r.offset();
    CMLN_ASSIGN_OR_RETURN(e.mr_index, r.U32LE("event.mr_index"));
    CMLN_ASSIGN_OR_RETURN(e.event_type, r.U32LE("event.event_type"));
    CMLN_ASSIGN_OR_RETURN(uint32_t count, r.U32LE("event.digest_count"));
    if (count == 0 || count > algs.size()) {
      return Error(ErrorCode::kMalformed, "event at offset " + std::to_string(e.offset) + ": digest_count " +
                                              std::to_string(count));
    }
    bool has_sha384 = false;
    for (uint32_t i = 0; i < count; ++i) {
      CMLN_ASSIGN_OR_RETURN(uint16_t alg, r.U16LE("event.digest.algorithm_id"));
      const DigestAlg* known = nullptr;
      for (const auto& a : algs) {
        if (a.id == alg) known = &a;
      }
      if (known == nullptr) {
        return Error(ErrorCode::kMalformed, "event at offset " + std::to_string(e.offset) + ": unannounced algorithm " +
                                                std::to_string(alg));
      }
      CMLN_ASSIGN_OR_RETURN(ByteView d, r.Bytes(known->size, "event.digest"));
      if (alg == kTpmAlgSha384) {
        std::memcpy(e.sha384.data(), d.data(), 48);
        has_sha384 = true;
      }
    }
    CMLN_ASSIGN_OR_RETURN(uint32_t size, r.U32LE("event.event_size"));
    CMLN_ASSIGN_OR_RETURN(ByteView data, r.Bytes(size, "event.event"));
    e.data = ToBytes(data);
    if (e.event_type != kEvNoAction) {
      if (!has_sha384) {
        return Error(ErrorCode::kMalformed, "event at offset " + std::to_string(e.offset) + ": no SHA-384 digest");
      }
      if (e.mr_index > 4) {
        return Error(ErrorCode::kMalformed, "event at offset " + std::to_string(e.offset) + ": mr_index " +
                                                std::to_string(e.mr_index));
      }
      if (e.mr_index >= 1) {
        Mr48& rtmr = out.rtmr[e.mr_index - 1];
        rtmr = Sha384(Concat(ByteView(rtmr), ByteView(e.sha384)));
      }
    }
    out.events.push_back(std::move(e));
  }
  out.log_size = r.offset();
  return out;
}

Status CheckCcelAgainstReport(const CcelReplay& replay, const TdReport& report) {
  std::string msg;
  for (size_t i = 0; i < 4; ++i) {
    if (replay.rtmr[i] != report.rtmr[i]) {
      msg += " rtmr" + std::to_string(i) + " replayed " + HexEncode(replay.rtmr[i]) + ", report " +
             HexEncode(report.rtmr[i]) + ";";
    }
  }
  if (msg.empty()) return OkStatus();
  return Error(ErrorCode::kChecksumMismatch, "event log does not replay to the report:" + msg);
}

}  // namespace cmln::attest
