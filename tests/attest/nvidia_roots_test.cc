// The NVIDIA roots compiled into cmln (attest/nvidia_roots.h) are exactly the files the reference cases
// name as trust anchors (tests/data/attestation/MANIFEST.json), and N1 verifies under them.
#include "attest/nvidia_roots.h"

#include <gtest/gtest.h>

#include "attest/nvidia_verify.h"
#include "attest/x509.h"
#include "testing/test_util.h"

namespace cmln::attest::nvidia {
namespace {

std::string Att(const std::string& rel) { return testing::ReadFileOrDie(testing::DataPath("attestation/" + rel)); }

Bytes DerOfPem(std::string_view pem) {
  auto chain = ParsePemChain(pem);
  EXPECT_TRUE(chain.ok());
  EXPECT_EQ(chain.ok() ? chain->size() : 0u, 1u);
  return chain.ok() && !chain->empty() ? (*chain)[0].Der() : Bytes{};
}

TEST(NvidiaRoots, PinnedRootsEqualManifestAnchors) {
  const auto manifest = testing::ReadJsonOrDie(testing::DataPath("attestation/MANIFEST.json"));
  const auto& anchors = manifest.at("trust_anchors");
  EXPECT_EQ(DerOfPem(NvidiaDeviceIdentityCaPem()), DerOfPem(Att(anchors.at("nvidia_device_identity_ca"))));
  EXPECT_EQ(DerOfPem(NvidiaRimRootPem()), DerOfPem(Att(anchors.at("nvidia_rim_root"))));
  auto gpu = PinnedNvidiaGpuAnchors();
  ASSERT_TRUE(gpu.ok());
  EXPECT_FALSE(gpu->simulated);
  ASSERT_EQ(gpu->roots.size(), 1u);
  EXPECT_NE(gpu->roots[0].Subject().find("CN=NVIDIA Device Identity CA"), std::string::npos);
  auto rim = PinnedNvidiaRimRoots();
  ASSERT_TRUE(rim.ok());
  ASSERT_EQ(rim->size(), 1u);
  EXPECT_NE((*rim)[0].Subject().find("NVIDIA CoRIM signing Root CA"), std::string::npos);
}

}  // namespace
}  // namespace cmln::attest::nvidia
