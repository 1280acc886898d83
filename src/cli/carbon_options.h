// The carbon options shared by subcommands that report grams of CO2e (measure,
// monitor, bench): --country, --cloud, --intensity, --intensity-csv, --pue.
// Parsing lives here; resolution lives in energy::ResolveCarbon.
#pragma once

#include <CLI/CLI.hpp>

#include "energy/carbon.h"

namespace greenai::cli {

// Adds the options to `sub`, storing into *opts (which must outlive parsing).
void AddCarbonOptions(CLI::App* sub, energy::CarbonOptions* opts);

}  // namespace greenai::cli
