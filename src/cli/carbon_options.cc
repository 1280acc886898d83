#include "cli/carbon_options.h"

namespace greenai::cli {

void AddCarbonOptions(CLI::App* sub, energy::CarbonOptions* opts) {
  sub->add_option("--country", opts->country, "grid carbon intensity of this country (ISO 3166 alpha-3, e.g. FRA)")
      ->group("Carbon");
  sub->add_option("--cloud", opts->cloud, "carbon intensity of a cloud region, PROVIDER:REGION (e.g. gcp:europe-west1)")
      ->group("Carbon");
  sub->add_option_function<double>(
         "--intensity", [opts](const double& v) { opts->intensity = v; }, "grid carbon intensity in gCO2e/kWh")
      ->group("Carbon");
  sub->add_option("--intensity-csv", opts->intensity_csv,
                  "time series CSV 'timestamp,g_co2e_per_kwh' integrated over the run")
      ->group("Carbon");
  sub->add_option("--pue", opts->pue, "power usage effectiveness of the data center (default 1.0)")->group("Carbon");
}

}  // namespace greenai::cli
