#include "cli/commands.h"

namespace cmln::cli {

// `cmln attest verify|inspect|sim` (issue 3).
void RegisterAttest(CLI::App& app) {
  auto* cmd = app.add_subcommand("attest", "Verify, inspect and simulate TEE attestation evidence");
  cmd->require_subcommand(1);
  RegisterAttestSim(*cmd);
}

}  // namespace cmln::cli
