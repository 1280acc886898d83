// greenai measure
#include <cstdio>

#include "cli/commands.h"

namespace greenai::cli {

void RegisterMeasure(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("measure", "(not yet implemented)");
  sub->callback([exit_code] {
    std::fprintf(stderr, "greenai measure: not implemented yet\n");
    *exit_code = 2;
  });
}

}  // namespace greenai::cli
