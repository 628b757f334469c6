// The `sim-tdx` evidence generator and the TDX quote serializer: v4 quotes with a TDX 1.0 body, in
// exactly the layout tdx_quote.h parses (its grammar comment is the reference; nothing here differs):
//
//   header(48)       version 4, att_key_type 2 (ECDSA P-256), tee_type 0x81, reserved, Intel's QE vendor
//                    id, user_data (zero)
//   td_report10(584) the given measurements and report data; TD_ATTRIBUTES = SEPT_VE_DISABLE (bit 28),
//                    plus DEBUG (bit 0) only when asked
//   u32 sig_data_len
//   sig_data         ECDSA P-256 r||s by the attestation key over header||body, the attestation key x||y,
//                    cert_data type 6 { QE report (an SGX REPORT body) whose report data is
//                    SHA-256(attestation key || QE auth data) || 32 zero bytes, the PCK leaf key's r||s over
//                    it, u16 QE auth data size, QE auth data, cert_data type 5 { PEM: PCK leaf, PCK
//                    platform CA, root CA, NUL } }
//
// The attestation key is fresh per quote (as a QE generates one per boot), derived from the PKI's test
// seed when it has one. Thread safety: reentrant.
#pragma once

#include <array>
#include <optional>

#include "attest/sim_pki.h"
#include "attest/tdx_quote.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

// Intel's QE vendor id (939A7233-F79C-4CA9-940A-0DB3957F0607), as real quotes carry it.
inline constexpr std::array<uint8_t, 16> kIntelQeVendorId{0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                                          0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
// TD_ATTRIBUTES bits.
inline constexpr uint8_t kTdAttributesDebugByte0 = 0x01;          // bit 0, TUD.DEBUG
inline constexpr uint8_t kTdAttributesSeptVeDisableByte3 = 0x10;  // bit 28, SEPT_VE_DISABLE

struct SimTdxQuoteSpec {
  std::array<uint8_t, 64> report_data{};
  Mr48 mr_td{};
  std::array<Mr48, 4> rtmr{};
  Mr48 mr_config_id{};
  Mr48 mr_owner{};
  Mr48 mr_owner_config{};
  // Sets TD_ATTRIBUTES.DEBUG. Default off; the default policy then refuses the quote (debug_enabled).
  bool debug = false;
  // TEE_TCB_SVN override (default: the platform's). A lower value makes the TCB OutOfDate.
  std::optional<std::array<uint8_t, 16>> tee_tcb_svn;
  // QE authentication data (Intel's QE puts 32 bytes 00..1f).
  Bytes qe_auth_data = DefaultQeAuthData();

  static Bytes DefaultQeAuthData();
};

// A signed v4 quote under `pki` (see the top of this file).
Result<Bytes> GenerateSimTdxQuote(const SimPki& pki, const SimTdxQuoteSpec& spec);

// --- the serializer (usable for any TDX 1.0 quote) --------------------------------------------------------
// The 48-byte v4 header.
Bytes SerializeTdxQuoteV4Header(const std::array<uint8_t, 16>& qe_vendor_id, const std::array<uint8_t, 20>& user_data);
// The 584-byte TD report (TDX 1.0 body); tee_tcb_svn2 and mr_service_td are not part of it.
Bytes SerializeTdReport10(const TdReport& body);
// The 384-byte SGX REPORT body.
Bytes SerializeSgxReport(const SgxReport& report);
// u32 sig_data_len || sig_data, for a quote whose header||body precede it.
Bytes SerializeTdxSignatureData(ByteView quote_signature, ByteView attestation_key, ByteView qe_report,
                                ByteView qe_report_signature, ByteView qe_auth_data, std::string_view pck_chain_pem);

}  // namespace cmln::attest
