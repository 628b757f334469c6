// sim-gpu: development device PKI and SPDM evidence in NVIDIA's byte format; contract in sim_gpu.h.
#include "attest/sim_gpu.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/spdm.h"
#include "attest/x509.h"
#include "common/byte_reader.h"

namespace cmln::attest::nvidia {
namespace {

using KeyPtr = std::shared_ptr<EVP_PKEY>;

KeyPtr NewP384() { return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), EVP_PKEY_free); }

Bytes Sha384(ByteView data) {
  Bytes out(48);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha384(), nullptr);
  return out;
}

Bytes Labelled(const std::string& what, const std::string& seed) {
  return Sha384(AsBytes("cmln/sim-gpu/" + what + "/" + seed));
}

// DER TLV with a definite length.
void Der(ByteWriter& w, uint8_t tag, ByteView body) {
  w.U8(tag);
  if (body.size() < 0x80) {
    w.U8(static_cast<uint8_t>(body.size()));
  } else if (body.size() < 0x100) {
    w.U8(0x81);
    w.U8(static_cast<uint8_t>(body.size()));
  } else {
    w.U8(0x82);
    w.U16BE(static_cast<uint16_t>(body.size()));
  }
  w.Bytes(body);
}

// NVIDIA's FWID extension value: SEQUENCE { INTEGER 1, SubjectPublicKeyInfo, SEQUENCE { id-sha384, OCTET STRING } }.
Result<Bytes> FwidExtension(EVP_PKEY* key, ByteView fwid) {
  unsigned char* spki = nullptr;
  const int spki_len = i2d_PUBKEY(key, &spki);
  if (spki_len <= 0) return Error(ErrorCode::kInternal, "sim-gpu: i2d_PUBKEY");
  static const uint8_t kSha384Oid[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
  ByteWriter fw;
  Der(fw, 0x06, ByteView(kSha384Oid, sizeof(kSha384Oid)));
  Der(fw, 0x04, fwid);
  ByteWriter body;
  static const uint8_t kOne[] = {0x01};
  Der(body, 0x02, ByteView(kOne, 1));
  body.Bytes(ByteView(spki, static_cast<size_t>(spki_len)));
  OPENSSL_free(spki);
  Der(body, 0x30, fw.bytes());
  ByteWriter top;
  Der(top, 0x30, body.bytes());
  return top.Take();
}

Status AddConfExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return Error(ErrorCode::kInternal, "sim-gpu: extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return OkStatus();
}

Status AddRawExt(X509* cert, const char* oid, ByteView value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(os, value.data(), static_cast<int>(value.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, os);
  ASN1_OBJECT_free(obj);
  ASN1_OCTET_STRING_free(os);
  if (ext == nullptr) return Error(ErrorCode::kInternal, "sim-gpu: FWID extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return OkStatus();
}

// One certificate; `issuer` null = self-signed. Signed with ECDSA-SHA384 as NVIDIA's are.
Result<Certificate> MakeCert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, long serial,
                             const SimGpuOptions& o, bool ca, ByteView fwid) {
  X509* x = X509_new();
  Certificate owned(x);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("cmln development"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_subject_name(x, name);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509_NAME_free(name);
  ASN1_TIME_set(X509_getm_notBefore(x), static_cast<time_t>(o.not_before));
  ASN1_TIME_set(X509_getm_notAfter(x), static_cast<time_t>(o.not_after));
  X509_set_pubkey(x, key);
  X509* issuer_x = issuer ? issuer : x;
  CMLN_TRY(AddConfExt(x, issuer_x, NID_subject_key_identifier, "hash"));
  CMLN_TRY(AddConfExt(x, issuer_x, NID_authority_key_identifier, "keyid:always"));
  if (ca) CMLN_TRY(AddConfExt(x, issuer_x, NID_basic_constraints, "critical,CA:TRUE"));
  CMLN_TRY(AddConfExt(x, issuer_x, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"));
  if (!fwid.empty()) {
    CMLN_ASSIGN_OR_RETURN(Bytes ext, FwidExtension(key, fwid));
    CMLN_TRY(AddRawExt(x, "2.23.133.5.4.1", ext));
  }
  if (X509_sign(x, issuer ? issuer_key : key, EVP_sha384()) <= 0) {
    ERR_clear_error();
    return Error(ErrorCode::kInternal, "sim-gpu: X509_sign");
  }
  return owned;
}

std::string Pem(const Certificate& c) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, c.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

// ECDSA P-384 / SHA-384 over `msg`, as raw r ‖ s (48 + 48, big-endian).
Result<Bytes> SignRaw(EVP_PKEY* key, ByteView msg) {
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  size_t len = 0;
  Bytes der;
  bool ok = m != nullptr && EVP_DigestSignInit(m, nullptr, EVP_sha384(), nullptr, key) == 1 &&
            EVP_DigestSign(m, nullptr, &len, msg.data(), msg.size()) == 1;
  if (ok) {
    der.resize(len);
    ok = EVP_DigestSign(m, der.data(), &len, msg.data(), msg.size()) == 1;
    der.resize(len);
  }
  EVP_MD_CTX_free(m);
  if (!ok) {
    ERR_clear_error();
    return Error(ErrorCode::kInternal, "sim-gpu: sign");
  }
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return Error(ErrorCode::kInternal, "sim-gpu: signature DER");
  Bytes raw(96);
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw.data(), 48);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw.data() + 48, 48);
  ECDSA_SIG_free(sig);
  return raw;
}

void Tlv(ByteWriter& w, uint16_t type, ByteView value) {
  w.U16LE(type);
  w.U16LE(static_cast<uint16_t>(value.size()));
  w.Bytes(value);
}

}  // namespace

Result<SimGpu> SimGpu::Create(const SimGpuOptions& options) {
  if (options.blocks == 0 || options.vbios_raw.size() != 8) {
    return Error(ErrorCode::kInvalidArgument, "sim-gpu: blocks must be nonzero and vbios_raw 8 bytes");
  }
  SimGpu g;
  g.options_ = options;
  KeyPtr root_key = NewP384(), prov_key = NewP384();
  g.leaf_key_ = NewP384();
  if (!root_key || !prov_key || !g.leaf_key_) return Error(ErrorCode::kInternal, "sim-gpu: keygen");
  g.fwid_ = Labelled("fwid", options.seed);
  for (uint8_t i = 1; i <= options.blocks; ++i) g.measurements_.push_back(Labelled("msr" + std::to_string(i), options.seed));
  CMLN_ASSIGN_OR_RETURN(Certificate root, MakeCert("cmln sim-gpu Root CA", root_key.get(), nullptr, nullptr, 1, options, true, {}));
  CMLN_ASSIGN_OR_RETURN(Certificate prov, MakeCert("cmln sim-gpu Provisioner CA", prov_key.get(), root.get(),
                                                   root_key.get(), 2, options, true, {}));
  CMLN_ASSIGN_OR_RETURN(Certificate leaf, MakeCert("cmln sim-gpu device " + options.seed, g.leaf_key_.get(), prov.get(),
                                                   prov_key.get(), 3, options, false, g.fwid_));
  g.root_pem_ = Pem(root);
  g.chain_pem_ = Pem(leaf) + Pem(prov) + Pem(root);
  return g;
}

Result<Bytes> SimGpu::AttestationReport(ByteView nonce) const {
  if (nonce.size() != spdm::kNonceSize) return Error(ErrorCode::kInvalidArgument, "sim-gpu: nonce must be 32 bytes");
  ByteWriter w;
  // request
  w.U8(spdm::kSpdmVersion11);
  w.U8(spdm::kCodeGetMeasurements);
  w.U8(spdm::kAttrSignatureRequested);
  w.U8(spdm::kOperationAllMeasurements);
  w.Bytes(nonce);
  w.U8(0);  // slot 0
  // response
  ByteWriter record;
  for (size_t i = 0; i < measurements_.size(); ++i) {
    record.U8(static_cast<uint8_t>(i + 1));
    record.U8(spdm::kMeasurementSpecDmtf);
    record.U16LE(static_cast<uint16_t>(3 + measurements_[i].size()));
    record.U8(0x01);
    record.U16LE(static_cast<uint16_t>(measurements_[i].size()));
    record.Bytes(measurements_[i]);
  }
  ByteWriter opaque;
  Bytes driver = ToBytes(options_.driver_version);
  driver.push_back(0);
  Tlv(opaque, spdm::kOpaqueVbiosVersion, options_.vbios_raw);
  Tlv(opaque, spdm::kOpaqueDriverVersion, driver);
  Tlv(opaque, spdm::kOpaqueFwid, options_.report_fwid_for_testing.empty() ? fwid_ : options_.report_fwid_for_testing);
  w.U8(spdm::kSpdmVersion11);
  w.U8(spdm::kCodeMeasurements);
  w.U8(0);
  w.U8(0);
  w.U8(static_cast<uint8_t>(measurements_.size()));
  const size_t len = record.size();
  w.U8(static_cast<uint8_t>(len));
  w.U8(static_cast<uint8_t>(len >> 8));
  w.U8(static_cast<uint8_t>(len >> 16));
  w.Bytes(record.bytes());
  // The responder's own nonce: derived, not random, so the evidence is a pure function of the request.
  const Bytes responder_nonce = Sha384(Concat(AsBytes(std::string_view("cmln/sim-gpu/responder-nonce")), nonce));
  w.Bytes(ByteView(responder_nonce).first(spdm::kNonceSize));
  w.U16LE(static_cast<uint16_t>(opaque.size()));
  w.Bytes(opaque.bytes());
  CMLN_ASSIGN_OR_RETURN(Bytes sig, SignRaw(leaf_key_.get(), w.bytes()));
  w.Bytes(sig);
  return w.Take();
}

Result<GpuEvidence> SimGpu::Evidence(ByteView nonce) const {
  GpuEvidence e;
  e.arch = "HOPPER";
  e.certificate_pem = chain_pem_;
  CMLN_ASSIGN_OR_RETURN(e.evidence, AttestationReport(nonce));
  e.nonce = ToBytes(nonce);
  return e;
}

GpuTrustAnchors SimGpu::Anchors() const {
  GpuTrustAnchors a;
  auto roots = ParsePemChain(root_pem_);
  if (roots.ok()) a.roots = std::move(*roots);
  a.simulated = true;
  return a;
}

Rim SimGpu::DriverRim() const {
  Rim r;
  r.kind = RimKind::kDriver;
  r.version = options_.driver_version;
  r.product = "GH100";
  r.simulated = true;
  // The upper half of the blocks belongs to the driver, the lower half to the VBIOS (RIM index = block - 1).
  for (size_t i = measurements_.size() / 2; i < measurements_.size(); ++i) {
    r.measurements.push_back({static_cast<uint32_t>(i), true, "sim_driver_" + std::to_string(i), {measurements_[i]}});
  }
  return r;
}

Rim SimGpu::VbiosRim() const {
  Rim r;
  r.kind = RimKind::kVbios;
  r.version = spdm::FormatVbiosVersion(options_.vbios_raw);
  r.product = "GH100";
  r.simulated = true;
  for (size_t i = 0; i < measurements_.size() / 2; ++i) {
    r.measurements.push_back({static_cast<uint32_t>(i), true, "sim_vbios_" + std::to_string(i), {measurements_[i]}});
  }
  return r;
}

}  // namespace cmln::attest::nvidia
