#include "cli/commands.h"

namespace cmln::cli {

// `cmln attest sim ...`: simulated sim-tdx / sim-snp evidence under a development PKI (issue 3).
void RegisterAttestSim(CLI::App& attest) {
  auto* cmd = attest.add_subcommand("sim", "Produce simulated TEE evidence under a development PKI");
  cmd->require_subcommand(1);
}

}  // namespace cmln::cli
