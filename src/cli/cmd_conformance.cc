// greenai conformance
#include <cstdio>

#include "cli/commands.h"

namespace greenai::cli {

void RegisterConformance(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("conformance", "(not yet implemented)");
  sub->callback([exit_code] {
    std::fprintf(stderr, "greenai conformance: not implemented yet\n");
    *exit_code = 2;
  });
}

}  // namespace greenai::cli
