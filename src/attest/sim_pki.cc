// The simulator's development PKI; hierarchy, file layout and contract are in sim_pki.h.
//
// SGX PCK extension written here (DER; Intel "SGX PCK Certificate and CRL Profile"; parsed back by
// pck_extensions.cc):
//   SEQUENCE {
//     SEQUENCE { OID .1 PPID,     OCTET STRING (16) }
//     SEQUENCE { OID .2 TCB,      SEQUENCE { SEQUENCE { OID .2.1 .. .2.16, INTEGER svn } x16,
//                                            SEQUENCE { OID .2.17, INTEGER pcesvn },
//                                            SEQUENCE { OID .2.18, OCTET STRING (16) cpusvn } } }
//     SEQUENCE { OID .3 PCE-ID,   OCTET STRING (2) }
//     SEQUENCE { OID .4 FMSPC,    OCTET STRING (6) }
//     SEQUENCE { OID .5 SGX type, ENUMERATED 1 (Scalable: issued by a Platform CA) }
//     SEQUENCE { OID .6 PlatformInstanceID, OCTET STRING (16) }
//     SEQUENCE { OID .7 Configuration, SEQUENCE { SEQUENCE { OID .7.1 dynamicPlatform, BOOLEAN },
//                                                 SEQUENCE { OID .7.2 cachedKeys, BOOLEAN },
//                                                 SEQUENCE { OID .7.3 SMTEnabled, BOOLEAN } } } }
//   (every OID under 1.2.840.113741.1.13.1)
// AMD KDS extensions (pub. 57230; parsed back by snp_verify.cc): structVersion / SPLs as DER INTEGER,
// productName as IA5String, hwID as the raw chip id bytes without a tag (as AMD's VCEKs carry it).
#include "attest/sim_pki.h"

#include <fcntl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attest/pck_extensions.h"
#include "seal/crypto.h"

namespace cmln::attest {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr size_t kMaxSimFile = 1024 * 1024;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kPublicMode = 0644;
constexpr mode_t kDirMode = 0700;

constexpr char kOrganization[] = "CMLN Development PKI (simulated TEE, NOT FOR PRODUCTION)";
constexpr char kIntelRootCn[] = "CMLN Simulated SGX Root CA - NOT FOR PRODUCTION";
constexpr char kPckCaCn[] = "CMLN Simulated SGX PCK Platform CA";
constexpr char kPckCn[] = "CMLN Simulated SGX PCK Certificate";
constexpr char kTcbSigningCn[] = "CMLN Simulated SGX TCB Signing";
constexpr char kAdvisoryOutOfDate[] = "CMLN-SIM-SA-00001";

// --- a small DER writer (output only; our own values) ----------------------------------------------------
constexpr uint8_t kDerBoolean = 0x01;
constexpr uint8_t kDerInteger = 0x02;
constexpr uint8_t kDerOctetString = 0x04;
constexpr uint8_t kDerOid = 0x06;
constexpr uint8_t kDerEnumerated = 0x0a;
constexpr uint8_t kDerIa5String = 0x16;
constexpr uint8_t kDerSequence = 0x30;
// 1.2.840.113741.1.13.1, the SGX extension OID, as DER content bytes.
constexpr uint8_t kSgxOidBody[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

Bytes DerTlv(uint8_t tag, ByteView content) {
  Bytes out{tag};
  const size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<uint8_t>(n));
  } else if (n <= 0xff) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(n));
  } else {  // our structures stay far below 64 KiB
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(n >> 8));
    out.push_back(static_cast<uint8_t>(n));
  }
  Append(out, content);
  return out;
}

// Minimal DER INTEGER of a non-negative value.
Bytes DerUnsigned(uint8_t tag, uint32_t v) {
  Bytes content;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const uint8_t b = static_cast<uint8_t>(v >> shift);
    if (content.empty() && b == 0 && shift > 0) continue;
    if (content.empty() && (b & 0x80)) content.push_back(0x00);
    content.push_back(b);
  }
  return DerTlv(tag, content);
}

// OID 1.2.840.113741.1.13.1.<arcs...> (every arc < 128).
Bytes SgxOid(std::initializer_list<uint8_t> arcs) {
  Bytes body(std::begin(kSgxOidBody), std::end(kSgxOidBody));
  for (uint8_t a : arcs) body.push_back(a);
  return DerTlv(kDerOid, body);
}

Bytes DerSeq(std::initializer_list<ByteView> parts) {
  Bytes content;
  for (ByteView p : parts) Append(content, p);
  return DerTlv(kDerSequence, content);
}

Bytes PckExtensionDer(const SimTdxPlatform& p, ByteView platform_instance_id) {
  Bytes tcb;
  for (uint8_t i = 0; i < 16; ++i) {
    Append(tcb, DerSeq({SgxOid({2, static_cast<uint8_t>(i + 1)}), DerUnsigned(kDerInteger, p.sgx_tcb_components[i])}));
  }
  Append(tcb, DerSeq({SgxOid({2, 17}), DerUnsigned(kDerInteger, p.pcesvn)}));
  Append(tcb, DerSeq({SgxOid({2, 18}), DerTlv(kDerOctetString, p.cpusvn)}));
  const Bytes yes = DerTlv(kDerBoolean, Bytes{0xff});
  const Bytes no = DerTlv(kDerBoolean, Bytes{0x00});
  const Bytes config =
      DerSeq({DerSeq({SgxOid({7, 1}), no}), DerSeq({SgxOid({7, 2}), yes}), DerSeq({SgxOid({7, 3}), yes})});
  return DerSeq({
      DerSeq({SgxOid({1}), DerTlv(kDerOctetString, p.ppid)}),
      DerSeq({SgxOid({2}), DerTlv(kDerSequence, tcb)}),
      DerSeq({SgxOid({3}), DerTlv(kDerOctetString, p.pce_id)}),
      DerSeq({SgxOid({4}), DerTlv(kDerOctetString, p.fmspc)}),
      DerSeq({SgxOid({5}), DerUnsigned(kDerEnumerated, 1)}),
      DerSeq({SgxOid({6}), DerTlv(kDerOctetString, platform_instance_id)}),
      DerSeq({SgxOid({7}), config}),
  });
}

// --- randomness: fresh, or derived from the test seed --------------------------------------------------------
class Entropy {
 public:
  explicit Entropy(const std::optional<Bytes>& seed) : seed_(seed) {}
  Bytes Take(std::string_view label, size_t n) const {
    Bytes out(n);
    if (!seed_) {
      seal::RandomBytes(out);
      return out;
    }
    const SecretBytes prk = seal::HkdfExtract(AsBytes("cmln-sim-pki"), *seed_);
    auto okm = seal::HkdfExpand(prk.view(), AsBytes(label), n);  // n is small: never fails
    if (okm.ok()) std::memcpy(out.data(), okm->data(), n);
    return out;
  }
  template <size_t N>
  void Fill(std::string_view label, std::array<uint8_t, N>& out) const {
    const Bytes b = Take(label, N);
    std::memcpy(out.data(), b.data(), N);
  }
  // A positive 16-byte serial with a non-zero first byte.
  Bytes Serial(std::string_view label) const {
    Bytes s = Take(label, 16);
    s[0] = static_cast<uint8_t>((s[0] & 0x7f) | 0x01);
    return s;
  }
  Result<PrivateKey> EcKey(std::string_view curve, std::string_view label) const {
    if (seed_) return PrivateKey::DeriveEc(curve, *seed_, label);
    return PrivateKey::GenerateEc(curve);
  }

 private:
  const std::optional<Bytes>& seed_;
};

std::string Rfc3339(int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  struct tm tm_utc;
  gmtime_r(&tt, &tm_utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buf;
}

std::string UpperHex(ByteView b) {
  std::string s = HexEncode(b);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Bytes SplDer(uint8_t v) { return DerUnsigned(kDerInteger, v); }

std::string ProductShort(snp::SnpProduct p) { return snp::SnpProductName(p); }

// --- files ---------------------------------------------------------------------------------------------

Status WriteFileMode(const std::string& path, ByteView data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Error(ErrorCode::kAlreadyExists, path + " already exists");
    return Error(ErrorCode::kIoError, "cannot create " + path + ": " + std::strerror(errno));
  }
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Error(ErrorCode::kIoError, "cannot write " + path + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  // The umask can only clear bits; set the mode exactly.
  const bool ok = ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error(ErrorCode::kIoError, "cannot finish " + path);
  return OkStatus();
}

Status WriteText(const std::string& path, std::string_view text) {
  return WriteFileMode(path, AsBytes(text), kPublicMode);
}

Status WriteKey(const std::string& path, const PrivateKey& key) {
  CMLN_ASSIGN_OR_RETURN(SecretBytes pem, key.ToPem());
  return WriteFileMode(path, pem.view(), kKeyMode);
}

Result<std::string> ReadText(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Error(ErrorCode::kNotFound, path + " is missing");
  const auto size = fs::file_size(path, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot stat " + path);
  if (size > kMaxSimFile) return Error(ErrorCode::kLengthTooLarge, path + " is larger than 1 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIoError, "cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Certificate> ReadCert(const std::string& path) {
  CMLN_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  auto c = ParseCertificate(AsBytes(text));
  if (!c.ok()) return c.error().WithContext(path);
  return std::move(c).value();
}

Result<PrivateKey> ReadKey(const std::string& path, const Certificate& cert) {
  CMLN_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  SecretBytes secret(AsBytes(text));
  SecureZero(text.data(), text.size());
  auto k = PrivateKey::FromPem(AsChars(secret.view()));
  if (!k.ok()) return k.error().WithContext(path);
  if (X509_check_private_key(cert.get(), k->get()) != 1) {
    return Error(ErrorCode::kInvalidKey, path + " does not belong to its certificate");
  }
  return std::move(k).value();
}

// --- sim_pki.json --------------------------------------------------------------------------------------

template <size_t N>
Json HexOf(const std::array<uint8_t, N>& a) {
  return HexEncode(ByteView(a.data(), N));
}

Result<const Json*> Member(const Json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) {
    return Error(ErrorCode::kMalformed, where + "." + key + ": missing");
  }
  return &j[key];
}

template <size_t N>
Status ReadHex(const Json& j, const char* key, const std::string& where, std::array<uint8_t, N>& out) {
  CMLN_ASSIGN_OR_RETURN(const Json* v, Member(j, key, where));
  if (!v->is_string()) return Error(ErrorCode::kMalformed, where + "." + key + ": not a string");
  auto b = HexDecode(v->get<std::string>());
  if (!b.ok()) return b.error().WithContext(where + "." + key);
  if (b->size() != N) return Error(ErrorCode::kMalformed, where + "." + key + ": wrong size");
  std::memcpy(out.data(), b->data(), N);
  return OkStatus();
}

Result<uint64_t> ReadUint(const Json& j, const char* key, const std::string& where, uint64_t max) {
  CMLN_ASSIGN_OR_RETURN(const Json* v, Member(j, key, where));
  if (!v->is_number_unsigned() || v->get<uint64_t>() > max) {
    return Error(ErrorCode::kMalformed, where + "." + key + ": not an unsigned integer up to " + std::to_string(max));
  }
  return v->get<uint64_t>();
}

Json ManifestJson(const SimPki& pki) {
  const SimTdxPlatform& t = pki.tdx;
  const SimSnpPlatform& s = pki.snp;
  Json tdx = {{"fmspc", HexOf(t.fmspc)},
              {"pce_id", HexOf(t.pce_id)},
              {"ppid", HexOf(t.ppid)},
              {"sgx_tcb_components", HexOf(t.sgx_tcb_components)},
              {"pcesvn", t.pcesvn},
              {"cpusvn", HexOf(t.cpusvn)},
              {"tee_tcb_svn", HexOf(t.tee_tcb_svn)},
              {"mr_signer_seam", HexOf(t.mr_signer_seam)},
              {"seam_attributes", HexOf(t.seam_attributes)},
              {"mr_seam", HexOf(t.mr_seam)},
              {"xfam", HexOf(t.xfam)},
              {"qe_mr_signer", HexOf(t.qe_mr_signer)},
              {"qe_mr_enclave", HexOf(t.qe_mr_enclave)},
              {"qe_isv_prod_id", t.qe_isv_prod_id},
              {"qe_isv_svn", t.qe_isv_svn},
              {"qe_attributes", HexOf(t.qe_attributes)},
              {"qe_misc_select", t.qe_misc_select},
              {"tcb_evaluation_data_number", t.tcb_evaluation_data_number}};
  Json snp = {{"product", ProductShort(s.product)},
              {"product_name", s.ProductName()},
              {"fmc_spl", s.fmc_spl},
              {"bl_spl", s.bl_spl},
              {"tee_spl", s.tee_spl},
              {"snp_spl", s.snp_spl},
              {"ucode_spl", s.ucode_spl},
              {"chip_id", HexOf(s.chip_id)},
              {"current_build", s.current_build},
              {"current_minor", s.current_minor},
              {"current_major", s.current_major}};
  return Json{{"format", kSimPkiFormat},
              {"not_for_production", true},
              {"created", Rfc3339(pki.created)},
              {"created_unix", pki.created},
              {"cert_validity_seconds", pki.cert_validity},
              {"collateral_validity_seconds", pki.collateral_validity},
              {"tdx", tdx},
              {"snp", snp}};
}

Result<snp::SnpProduct> ProductFromShort(const std::string& name) {
  const snp::SnpProduct p = snp::ProductFromName(name);
  if (p == snp::SnpProduct::kUnknown) return Error(ErrorCode::kMalformed, "sim_pki.json: snp.product '" + name + "'");
  return p;
}

struct Manifest {
  int64_t created = 0, cert_validity = 0, collateral_validity = 0;
  SimTdxPlatform tdx;
  SimSnpPlatform snp;
};

Result<Manifest> ReadManifest(const std::string& dir) {
  CMLN_ASSIGN_OR_RETURN(std::string text, ReadText(dir + "/sim_pki.json"));
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Error(ErrorCode::kBadEncoding, "sim_pki.json: not a JSON object");
  CMLN_ASSIGN_OR_RETURN(const Json* format, Member(j, "format", "sim_pki"));
  if (!format->is_string() || format->get<std::string>() != kSimPkiFormat) {
    return Error(ErrorCode::kUnsupported, "sim_pki.json: format is not " + std::string(kSimPkiFormat));
  }
  Manifest m;
  const std::string w = "sim_pki";
  CMLN_ASSIGN_OR_RETURN(uint64_t created, ReadUint(j, "created_unix", w, uint64_t{1} << 40));
  CMLN_ASSIGN_OR_RETURN(uint64_t cv, ReadUint(j, "cert_validity_seconds", w, uint64_t{1} << 40));
  CMLN_ASSIGN_OR_RETURN(uint64_t colv, ReadUint(j, "collateral_validity_seconds", w, uint64_t{1} << 40));
  m.created = static_cast<int64_t>(created);
  m.cert_validity = static_cast<int64_t>(cv);
  m.collateral_validity = static_cast<int64_t>(colv);

  CMLN_ASSIGN_OR_RETURN(const Json* tdx, Member(j, "tdx", w));
  const std::string wt = "sim_pki.tdx";
  SimTdxPlatform& t = m.tdx;
  CMLN_TRY(ReadHex(*tdx, "fmspc", wt, t.fmspc));
  CMLN_TRY(ReadHex(*tdx, "pce_id", wt, t.pce_id));
  CMLN_TRY(ReadHex(*tdx, "ppid", wt, t.ppid));
  CMLN_TRY(ReadHex(*tdx, "sgx_tcb_components", wt, t.sgx_tcb_components));
  CMLN_ASSIGN_OR_RETURN(uint64_t pcesvn, ReadUint(*tdx, "pcesvn", wt, 0xffff));
  t.pcesvn = static_cast<uint16_t>(pcesvn);
  CMLN_TRY(ReadHex(*tdx, "cpusvn", wt, t.cpusvn));
  CMLN_TRY(ReadHex(*tdx, "tee_tcb_svn", wt, t.tee_tcb_svn));
  CMLN_TRY(ReadHex(*tdx, "mr_signer_seam", wt, t.mr_signer_seam));
  CMLN_TRY(ReadHex(*tdx, "seam_attributes", wt, t.seam_attributes));
  CMLN_TRY(ReadHex(*tdx, "mr_seam", wt, t.mr_seam));
  CMLN_TRY(ReadHex(*tdx, "xfam", wt, t.xfam));
  CMLN_TRY(ReadHex(*tdx, "qe_mr_signer", wt, t.qe_mr_signer));
  CMLN_TRY(ReadHex(*tdx, "qe_mr_enclave", wt, t.qe_mr_enclave));
  CMLN_ASSIGN_OR_RETURN(uint64_t prod, ReadUint(*tdx, "qe_isv_prod_id", wt, 0xffff));
  t.qe_isv_prod_id = static_cast<uint16_t>(prod);
  CMLN_ASSIGN_OR_RETURN(uint64_t qsvn, ReadUint(*tdx, "qe_isv_svn", wt, 0xffff));
  t.qe_isv_svn = static_cast<uint16_t>(qsvn);
  CMLN_TRY(ReadHex(*tdx, "qe_attributes", wt, t.qe_attributes));
  CMLN_ASSIGN_OR_RETURN(uint64_t misc, ReadUint(*tdx, "qe_misc_select", wt, 0xffffffff));
  t.qe_misc_select = static_cast<uint32_t>(misc);
  CMLN_ASSIGN_OR_RETURN(uint64_t eval, ReadUint(*tdx, "tcb_evaluation_data_number", wt, 0xffffffff));
  t.tcb_evaluation_data_number = static_cast<uint32_t>(eval);

  CMLN_ASSIGN_OR_RETURN(const Json* sj, Member(j, "snp", w));
  const std::string ws = "sim_pki.snp";
  SimSnpPlatform& s = m.snp;
  CMLN_ASSIGN_OR_RETURN(const Json* product, Member(*sj, "product", ws));
  if (!product->is_string()) return Error(ErrorCode::kMalformed, "sim_pki.snp.product: not a string");
  CMLN_ASSIGN_OR_RETURN(s.product, ProductFromShort(product->get<std::string>()));
  auto u8 = [&](const char* key, uint8_t& out) -> Status {
    CMLN_ASSIGN_OR_RETURN(uint64_t v, ReadUint(*sj, key, ws, 0xff));
    out = static_cast<uint8_t>(v);
    return OkStatus();
  };
  CMLN_TRY(u8("fmc_spl", s.fmc_spl));
  CMLN_TRY(u8("bl_spl", s.bl_spl));
  CMLN_TRY(u8("tee_spl", s.tee_spl));
  CMLN_TRY(u8("snp_spl", s.snp_spl));
  CMLN_TRY(u8("ucode_spl", s.ucode_spl));
  CMLN_TRY(ReadHex(*sj, "chip_id", ws, s.chip_id));
  CMLN_TRY(u8("current_build", s.current_build));
  CMLN_TRY(u8("current_minor", s.current_minor));
  CMLN_TRY(u8("current_major", s.current_major));
  return m;
}

std::vector<std::pair<std::string, std::string>> Subject(const std::string& cn) {
  return {{"CN", cn}, {"O", kOrganization}};
}

constexpr char kReadme[] =
    "CMLN simulated TEE development PKI -- NOT FOR PRODUCTION.\n"
    "\n"
    "Generated by `cmln attest sim pki`. It signs sim-tdx quotes and sim-snp reports in the real Intel\n"
    "TDX DCAP and AMD SEV-SNP byte formats. The *.key files are unencrypted development private keys\n"
    "(mode 0600): anyone holding them can mint evidence this PKI accepts. Never pin tdx/root_ca.pem or\n"
    "snp/ark.pem as a production root; verifiers label every verdict reached with them simulated.\n"
    "See docs/attestation-sim.md.\n";

}  // namespace

// --- SimSnpPlatform --------------------------------------------------------------------------------------

std::string SimSnpPlatform::ProductName() const {
  switch (product) {
    case snp::SnpProduct::kGenoa: return "Genoa-B1";
    case snp::SnpProduct::kTurin: return "Turin-B0";
    default: return "Milan-B0";
  }
}

uint8_t SimSnpPlatform::CpuidFamily() const {
  return product == snp::SnpProduct::kTurin ? snp::kCpuidFamilyZen5 : snp::kCpuidFamilyZen3Zen4;
}

uint8_t SimSnpPlatform::CpuidModel() const {
  switch (product) {
    case snp::SnpProduct::kGenoa: return 0x11;
    case snp::SnpProduct::kTurin: return 0x02;
    default: return 0x01;
  }
}

uint64_t SimSnpPlatform::TcbRaw() const {
  snp::EndorsementExtensions e;
  e.bl_spl = bl_spl;
  e.tee_spl = tee_spl;
  e.snp_spl = snp_spl;
  e.ucode_spl = ucode_spl;
  if (product == snp::SnpProduct::kTurin) e.fmc_spl = fmc_spl;
  return e.Tcb(snp::TcbLayoutFor(product)).raw;
}

// --- generation ------------------------------------------------------------------------------------------

Result<SimPki> GenerateSimPki(const SimPkiOptions& o) {
  if (o.now <= kSimDay || o.cert_validity <= kSimDay || o.collateral_validity <= kSimDay) {
    return Error(ErrorCode::kInvalidArgument, "GenerateSimPki: now and validities must exceed one day");
  }
  if (o.snp_product == snp::SnpProduct::kUnknown) {
    return Error(ErrorCode::kInvalidArgument, "GenerateSimPki: SNP product must be Milan, Genoa or Turin");
  }
  const Entropy rng(o.seed_for_testing);
  SimPki pki;
  pki.created = o.now;
  pki.cert_validity = o.cert_validity;
  pki.collateral_validity = o.collateral_validity;
  pki.seed_for_testing = o.seed_for_testing;
  rng.Fill("tdx.ppid", pki.tdx.ppid);
  rng.Fill("tdx.mr_seam", pki.tdx.mr_seam);
  rng.Fill("tdx.qe_mr_signer", pki.tdx.qe_mr_signer);
  rng.Fill("tdx.qe_mr_enclave", pki.tdx.qe_mr_enclave);
  pki.snp.product = o.snp_product;
  rng.Fill("snp.chip_id", pki.snp.chip_id);
  if (o.snp_product == snp::SnpProduct::kTurin) {
    std::fill(pki.snp.chip_id.begin() + snp::kTurinHwidSize, pki.snp.chip_id.end(), 0);
    pki.snp.fmc_spl = 1;
  }

  const int64_t nb = o.now - kSimDay;
  const int64_t na = nb + o.cert_validity;

  // Intel-like hierarchy.
  CMLN_ASSIGN_OR_RETURN(pki.intel_root_key, rng.EcKey("P-256", "tdx.root_ca"));
  CMLN_ASSIGN_OR_RETURN(pki.pck_ca_key, rng.EcKey("P-256", "tdx.pck_platform_ca"));
  CMLN_ASSIGN_OR_RETURN(pki.pck_key, rng.EcKey("P-256", "tdx.pck"));
  CMLN_ASSIGN_OR_RETURN(pki.tcb_signing_key, rng.EcKey("P-256", "tdx.tcb_signing"));
  CertificateSpec root{Subject(kIntelRootCn), rng.Serial("tdx.root_ca.serial"), nb, na, true, 1};
  CMLN_ASSIGN_OR_RETURN(pki.intel_root, MintCertificate(root, pki.intel_root_key, nullptr, pki.intel_root_key));
  CertificateSpec pck_ca{Subject(kPckCaCn), rng.Serial("tdx.pck_platform_ca.serial"), nb, na, true, 0};
  CMLN_ASSIGN_OR_RETURN(pki.pck_ca, MintCertificate(pck_ca, pki.pck_ca_key, &pki.intel_root, pki.intel_root_key));
  CertificateSpec pck{Subject(kPckCn), rng.Serial("tdx.pck.serial"), nb, na, false};
  pck.extensions.push_back(RawExtension{kSgxExtensionsOid, PckExtensionDer(pki.tdx, rng.Take("tdx.instance", 16))});
  CMLN_ASSIGN_OR_RETURN(pki.pck, MintCertificate(pck, pki.pck_key, &pki.pck_ca, pki.pck_ca_key));
  CertificateSpec tcb{Subject(kTcbSigningCn), rng.Serial("tdx.tcb_signing.serial"), nb, na, false};
  CMLN_ASSIGN_OR_RETURN(pki.tcb_signing,
                        MintCertificate(tcb, pki.tcb_signing_key, &pki.intel_root, pki.intel_root_key));

  // AMD-like hierarchy.
  const std::string product = ProductShort(o.snp_product);
  CMLN_ASSIGN_OR_RETURN(pki.ark_key, PrivateKey::GenerateRsa(o.rsa_bits));
  CMLN_ASSIGN_OR_RETURN(pki.ask_key, PrivateKey::GenerateRsa(o.rsa_bits));
  CMLN_ASSIGN_OR_RETURN(pki.vcek_key, rng.EcKey("P-384", "snp.vcek"));
  CertificateSpec ark{Subject("CMLN Simulated ARK-" + product + " - NOT FOR PRODUCTION"),
                      rng.Serial("snp.ark.serial"),
                      nb,
                      na,
                      true,
                      1};
  ark.scheme = SignatureScheme::kRsaPssSha384;
  CMLN_ASSIGN_OR_RETURN(pki.ark, MintCertificate(ark, pki.ark_key, nullptr, pki.ark_key));
  CertificateSpec ask{Subject("CMLN Simulated SEV-" + product), rng.Serial("snp.ask.serial"), nb, na, true, 0};
  ask.scheme = SignatureScheme::kRsaPssSha384;
  CMLN_ASSIGN_OR_RETURN(pki.ask, MintCertificate(ask, pki.ask_key, &pki.ark, pki.ark_key));
  CertificateSpec vcek{Subject("CMLN Simulated SEV-VCEK"), rng.Serial("snp.vcek.serial"), nb, na, false};
  vcek.scheme = SignatureScheme::kRsaPssSha384;
  vcek.authority_key_id = false;  // as AMD's VCEKs
  const SimSnpPlatform& s = pki.snp;
  const std::string name = s.ProductName();
  auto ext = [&](std::string_view oid, Bytes der) {
    vcek.extensions.push_back(RawExtension{std::string(oid), std::move(der)});
  };
  ext(snp::kOidStructVersion, DerUnsigned(kDerInteger, 1));
  ext(snp::kOidProductName, DerTlv(kDerIa5String, AsBytes(name)));
  ext(snp::kOidBlSpl, SplDer(s.bl_spl));
  ext(snp::kOidTeeSpl, SplDer(s.tee_spl));
  ext(snp::kOidSnpSpl, SplDer(s.snp_spl));
  ext(snp::kOidSpl4, SplDer(0));
  ext(snp::kOidSpl5, SplDer(0));
  ext(snp::kOidSpl6, SplDer(0));
  ext(snp::kOidSpl7, SplDer(0));
  ext(snp::kOidUcodeSpl, SplDer(s.ucode_spl));
  if (o.snp_product == snp::SnpProduct::kTurin) {
    ext(snp::kOidFmcSpl, SplDer(s.fmc_spl));
    ext(snp::kOidHwid, Bytes(s.chip_id.begin(), s.chip_id.begin() + snp::kTurinHwidSize));
  } else {
    ext(snp::kOidHwid, Bytes(s.chip_id.begin(), s.chip_id.end()));
  }
  CMLN_ASSIGN_OR_RETURN(pki.vcek, MintCertificate(vcek, pki.vcek_key, &pki.ask, pki.ask_key));
  return pki;
}

// --- collateral -------------------------------------------------------------------------------------------

Result<std::string> BuildSimTdxCollateral(const SimPki& pki, const SimCollateralOptions& o) {
  if (o.validity <= 0) return Error(ErrorCode::kInvalidArgument, "collateral validity must be positive");
  const SimTdxPlatform& p = pki.tdx;
  const std::string issue = Rfc3339(o.issue_time);
  const std::string next = Rfc3339(o.issue_time + o.validity);
  const std::string tcb_date = Rfc3339(pki.created - pki.created % kSimDay);
  const std::string zero_signer(96, '0');

  auto components = [](const std::array<uint8_t, 16>& svns) {
    Json arr = Json::array();
    for (uint8_t v : svns) arr.push_back(Json{{"svn", v}});
    return arr;
  };
  std::array<uint8_t, 16> zero16{};
  Json tcb_info = {
      {"id", "TDX"},
      {"version", 3},
      {"issueDate", issue},
      {"nextUpdate", next},
      {"fmspc", UpperHex(p.fmspc)},
      {"pceId", UpperHex(p.pce_id)},
      {"tcbType", 0},
      {"tcbEvaluationDataNumber", p.tcb_evaluation_data_number},
      {"tdxModule",
       {{"mrsigner", UpperHex(p.mr_signer_seam)},
        {"attributes", UpperHex(p.seam_attributes)},
        {"attributesMask", "FFFFFFFFFFFFFFFF"}}},
      {"tdxModuleIdentities",
       Json::array(
           {{{"id", "TDX_" + UpperHex(ByteView(&p.tee_tcb_svn[1], 1))},
             {"mrsigner", UpperHex(p.mr_signer_seam)},
             {"attributes", UpperHex(p.seam_attributes)},
             {"attributesMask", "FFFFFFFFFFFFFFFF"},
             {"tcbLevels",
              Json::array({{{"tcb", {{"isvsvn", p.tee_tcb_svn[0]}}}, {"tcbDate", tcb_date}, {"tcbStatus", "UpToDate"}},
                           {{"tcb", {{"isvsvn", 0}}},
                            {"tcbDate", tcb_date},
                            {"tcbStatus", "OutOfDate"},
                            {"advisoryIDs", Json::array({kAdvisoryOutOfDate})}}})}}})},
      {"tcbLevels",
       Json::array(
           {{{"tcb",
              {{"sgxtcbcomponents", components(p.sgx_tcb_components)},
               {"pcesvn", p.pcesvn},
               {"tdxtcbcomponents", components(p.tee_tcb_svn)}}},
             {"tcbDate", tcb_date},
             {"tcbStatus", "UpToDate"}},
            // Anything below the simulated platform is OutOfDate (a quote with a lower TEE_TCB_SVN
            // exercises the policy's TCB status check).
            {{"tcb",
              {{"sgxtcbcomponents", components(zero16)}, {"pcesvn", 0}, {"tdxtcbcomponents", components(zero16)}}},
             {"tcbDate", tcb_date},
             {"tcbStatus", "OutOfDate"},
             {"advisoryIDs", Json::array({kAdvisoryOutOfDate})}}})}};
  Json qe_identity = {
      {"id", "TD_QE"},
      {"version", 2},
      {"issueDate", issue},
      {"nextUpdate", next},
      {"tcbEvaluationDataNumber", p.tcb_evaluation_data_number},
      {"miscselect", UpperHex(std::array<uint8_t, 4>{
                         static_cast<uint8_t>(p.qe_misc_select >> 24), static_cast<uint8_t>(p.qe_misc_select >> 16),
                         static_cast<uint8_t>(p.qe_misc_select >> 8), static_cast<uint8_t>(p.qe_misc_select)})},
      {"miscselectMask", "FFFFFFFF"},
      {"attributes", UpperHex(p.qe_attributes)},
      {"attributesMask", "FBFFFFFFFFFFFFFF0000000000000000"},
      {"mrsigner", UpperHex(p.qe_mr_signer)},
      {"isvprodid", p.qe_isv_prod_id},
      {"tcbLevels",
       Json::array({{{"tcb", {{"isvsvn", p.qe_isv_svn}}}, {"tcbDate", tcb_date}, {"tcbStatus", "UpToDate"}}})}};
  const std::string tcb_text = tcb_info.dump();
  const std::string qe_text = qe_identity.dump();
  CMLN_ASSIGN_OR_RETURN(Bytes tcb_sig, SignEcdsaRaw(pki.tcb_signing_key, HashAlg::kSha256, AsBytes(tcb_text)));
  CMLN_ASSIGN_OR_RETURN(Bytes qe_sig, SignEcdsaRaw(pki.tcb_signing_key, HashAlg::kSha256, AsBytes(qe_text)));

  CrlSpec root_crl_spec{o.issue_time, o.issue_time + o.validity, 1, o.revoked_root_serials};
  CMLN_ASSIGN_OR_RETURN(Crl root_crl, MintCrl(root_crl_spec, pki.intel_root, pki.intel_root_key));
  CrlSpec pck_crl_spec{o.issue_time, o.issue_time + o.validity, 1, o.revoked_pck_serials};
  CMLN_ASSIGN_OR_RETURN(Crl pck_crl, MintCrl(pck_crl_spec, pki.pck_ca, pki.pck_ca_key));

  const std::string root_pem = CertificatePem(pki.intel_root);
  const std::string tcb_chain = CertificatePem(pki.tcb_signing) + root_pem;
  Json collateral = {{"pck_crl_issuer_chain", CertificatePem(pki.pck_ca) + root_pem},
                     {"root_ca_crl", HexEncode(root_crl.Der())},
                     {"pck_crl", HexEncode(pck_crl.Der())},
                     {"tcb_info_issuer_chain", tcb_chain},
                     {"tcb_info", tcb_text},
                     {"tcb_info_signature", HexEncode(tcb_sig)},
                     {"qe_identity_issuer_chain", tcb_chain},
                     {"qe_identity", qe_text},
                     {"qe_identity_signature", HexEncode(qe_sig)}};
  return collateral.dump(2) + "\n";
}

Result<std::string> BuildSimSnpCrl(const SimPki& pki, const SimCollateralOptions& o) {
  if (o.validity <= 0) return Error(ErrorCode::kInvalidArgument, "CRL validity must be positive");
  CrlSpec spec{o.issue_time, o.issue_time + o.validity, 1, o.revoked_root_serials, SignatureScheme::kRsaPssSha384};
  CMLN_ASSIGN_OR_RETURN(Crl crl, MintCrl(spec, pki.ark, pki.ark_key));
  return CrlPem(crl);
}

std::string SimSnpChainPem(const SimPki& pki) { return CertificatePem(pki.ask) + CertificatePem(pki.ark); }

// --- files ---------------------------------------------------------------------------------------------

Status WriteSimPki(const SimPki& pki, const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return Error(ErrorCode::kAlreadyExists, dir + " exists and is not a directory");
    if (!fs::is_empty(dir, ec)) return Error(ErrorCode::kAlreadyExists, dir + " is not empty");
  } else if (::mkdir(dir.c_str(), kDirMode) != 0) {
    return Error(ErrorCode::kIoError, "cannot create " + dir + ": " + std::strerror(errno));
  }
  for (const char* sub : {"/tdx", "/snp"}) {
    if (::mkdir((dir + sub).c_str(), kDirMode) != 0) {
      return Error(ErrorCode::kIoError, "cannot create " + dir + sub + ": " + std::strerror(errno));
    }
  }
  const SimCollateralOptions at_creation{pki.created - kSimDay, pki.collateral_validity, {}, {}};
  CMLN_ASSIGN_OR_RETURN(std::string collateral, BuildSimTdxCollateral(pki, at_creation));
  CMLN_ASSIGN_OR_RETURN(std::string snp_crl, BuildSimSnpCrl(pki, at_creation));
  // The CRLs inside the collateral are also written as PEM for people and other tools.
  CMLN_ASSIGN_OR_RETURN(TdxCollateral parsed, ParseTdxCollateral(collateral));

  const std::string t = dir + "/tdx/";
  const std::string s = dir + "/snp/";
  CMLN_TRY(WriteText(dir + "/README.txt", kReadme));
  CMLN_TRY(WriteText(dir + "/sim_pki.json", ManifestJson(pki).dump(2) + "\n"));
  CMLN_TRY(WriteText(t + "root_ca.pem", CertificatePem(pki.intel_root)));
  CMLN_TRY(WriteText(t + "pck_platform_ca.pem", CertificatePem(pki.pck_ca)));
  CMLN_TRY(WriteText(t + "pck.pem", CertificatePem(pki.pck)));
  CMLN_TRY(WriteText(t + "tcb_signing.pem", CertificatePem(pki.tcb_signing)));
  CMLN_TRY(WriteText(t + "root_ca_crl.pem", CrlPem(parsed.root_ca_crl)));
  CMLN_TRY(WriteText(t + "pck_crl.pem", CrlPem(parsed.pck_crl)));
  CMLN_TRY(WriteText(t + "collateral.json", collateral));
  CMLN_TRY(WriteKey(t + "root_ca.key", pki.intel_root_key));
  CMLN_TRY(WriteKey(t + "pck_platform_ca.key", pki.pck_ca_key));
  CMLN_TRY(WriteKey(t + "pck.key", pki.pck_key));
  CMLN_TRY(WriteKey(t + "tcb_signing.key", pki.tcb_signing_key));
  CMLN_TRY(WriteText(s + "ark.pem", CertificatePem(pki.ark)));
  CMLN_TRY(WriteText(s + "ask.pem", CertificatePem(pki.ask)));
  CMLN_TRY(WriteText(s + "vcek.pem", CertificatePem(pki.vcek)));
  CMLN_TRY(WriteText(s + "cert_chain.pem", SimSnpChainPem(pki)));
  CMLN_TRY(WriteText(s + "crl.pem", snp_crl));
  CMLN_TRY(WriteKey(s + "ark.key", pki.ark_key));
  CMLN_TRY(WriteKey(s + "ask.key", pki.ask_key));
  CMLN_TRY(WriteKey(s + "vcek.key", pki.vcek_key));
  return OkStatus();
}

Result<SimPki> LoadSimPki(const std::string& dir) {
  CMLN_ASSIGN_OR_RETURN(Manifest m, ReadManifest(dir));
  SimPki pki;
  pki.created = m.created;
  pki.cert_validity = m.cert_validity;
  pki.collateral_validity = m.collateral_validity;
  pki.tdx = m.tdx;
  pki.snp = m.snp;
  const std::string t = dir + "/tdx/";
  const std::string s = dir + "/snp/";
  CMLN_ASSIGN_OR_RETURN(pki.intel_root, ReadCert(t + "root_ca.pem"));
  CMLN_ASSIGN_OR_RETURN(pki.pck_ca, ReadCert(t + "pck_platform_ca.pem"));
  CMLN_ASSIGN_OR_RETURN(pki.pck, ReadCert(t + "pck.pem"));
  CMLN_ASSIGN_OR_RETURN(pki.tcb_signing, ReadCert(t + "tcb_signing.pem"));
  CMLN_ASSIGN_OR_RETURN(pki.intel_root_key, ReadKey(t + "root_ca.key", pki.intel_root));
  CMLN_ASSIGN_OR_RETURN(pki.pck_ca_key, ReadKey(t + "pck_platform_ca.key", pki.pck_ca));
  CMLN_ASSIGN_OR_RETURN(pki.pck_key, ReadKey(t + "pck.key", pki.pck));
  CMLN_ASSIGN_OR_RETURN(pki.tcb_signing_key, ReadKey(t + "tcb_signing.key", pki.tcb_signing));
  CMLN_ASSIGN_OR_RETURN(pki.ark, ReadCert(s + "ark.pem"));
  CMLN_ASSIGN_OR_RETURN(pki.ask, ReadCert(s + "ask.pem"));
  CMLN_ASSIGN_OR_RETURN(pki.vcek, ReadCert(s + "vcek.pem"));
  CMLN_ASSIGN_OR_RETURN(pki.ark_key, ReadKey(s + "ark.key", pki.ark));
  CMLN_ASSIGN_OR_RETURN(pki.ask_key, ReadKey(s + "ask.key", pki.ask));
  CMLN_ASSIGN_OR_RETURN(pki.vcek_key, ReadKey(s + "vcek.key", pki.vcek));
  return pki;
}

Result<SimTrust> LoadSimTrust(const std::string& dir) {
  CMLN_ASSIGN_OR_RETURN(Manifest m, ReadManifest(dir));
  SimTrust trust;
  CMLN_ASSIGN_OR_RETURN(Certificate root, ReadCert(dir + "/tdx/root_ca.pem"));
  trust.tdx_roots = {root};
  CMLN_ASSIGN_OR_RETURN(trust.tdx_collateral_json, ReadText(dir + "/tdx/collateral.json"));
  auto collateral = ParseTdxCollateral(trust.tdx_collateral_json);
  if (!collateral.ok()) return collateral.error().WithContext(dir + "/tdx/collateral.json");
  trust.tdx_collateral = std::move(collateral).value();
  CMLN_ASSIGN_OR_RETURN(std::string ark, ReadText(dir + "/snp/ark.pem"));
  CMLN_TRY(trust.snp_anchors.AddArkFromPem(m.snp.product, ark));
  CMLN_ASSIGN_OR_RETURN(std::string vcek, ReadText(dir + "/snp/vcek.pem"));
  trust.snp_collateral.endorsement_cert = ToBytes(vcek);
  CMLN_ASSIGN_OR_RETURN(trust.snp_collateral.chain_pem, ReadText(dir + "/snp/cert_chain.pem"));
  CMLN_ASSIGN_OR_RETURN(std::string crl, ReadText(dir + "/snp/crl.pem"));
  trust.snp_collateral.crl = ToBytes(crl);
  trust.simulated = true;
  return trust;
}

Result<SimTrust> SimTrustOf(const SimPki& pki) {
  SimTrust trust;
  trust.tdx_roots = {pki.intel_root};
  const SimCollateralOptions at_creation{pki.created - kSimDay, pki.collateral_validity, {}, {}};
  CMLN_ASSIGN_OR_RETURN(trust.tdx_collateral_json, BuildSimTdxCollateral(pki, at_creation));
  CMLN_ASSIGN_OR_RETURN(trust.tdx_collateral, ParseTdxCollateral(trust.tdx_collateral_json));
  trust.snp_anchors.arks[pki.snp.product] = pki.ark;
  trust.snp_collateral.endorsement_cert = ToBytes(CertificatePem(pki.vcek));
  trust.snp_collateral.chain_pem = SimSnpChainPem(pki);
  CMLN_ASSIGN_OR_RETURN(std::string crl, BuildSimSnpCrl(pki, at_creation));
  trust.snp_collateral.crl = ToBytes(crl);
  trust.simulated = true;
  return trust;
}

void LabelSimulated(Verdict& verdict) {
  verdict.simulated = true;
  if (verdict.platform.rfind("sim-", 0) != 0) verdict.platform = "sim-" + verdict.platform;
}

}  // namespace cmln::attest
