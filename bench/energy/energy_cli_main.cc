// greenai-energy: a development build of only `measure` and `monitor`, linked against
// the energy layer alone, so the energy CLI can be built and tested without compiling
// the graph/ops/backends layers. The product binary is `greenai` (src/cli/main.cc).
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"greenai-energy: the measure and monitor subcommands of greenai"};
  app.require_subcommand(1);
  int exit_code = 0;
  greenai::cli::RegisterMeasure(app, &exit_code);
  greenai::cli::RegisterMonitor(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
