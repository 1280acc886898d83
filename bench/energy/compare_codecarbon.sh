#!/usr/bin/env bash
# The same command measured by greenai and by CodeCarbon (offline mode, same country),
# one after the other, on this machine. Prints both energies and emissions.
#
#   bash bench/energy/compare_codecarbon.sh BUILD_DIR [SECONDS=30] [COUNTRY=FRA]
# Needs: python3 -m venv /tmp/ccvenv && /tmp/ccvenv/bin/pip install codecarbon
set -euo pipefail
BUILD=${1:-build-energy}
SECS=${2:-30}
COUNTRY=${3:-FRA}
PY=${CODECARBON_PYTHON:-/tmp/ccvenv/bin/python}
OUT=$(mktemp -d)
# Workload: one core busy for SECS seconds, the same bytes for both tools.
WORK=(python3 -c "import time
t=time.time()
while time.time()-t<$SECS: pass")

echo "== greenai measure ($SECS s, one busy core, country $COUNTRY)"
GREENAI_BIN=${GREENAI_BIN:-$BUILD/greenai}
"$GREENAI_BIN" measure --country "$COUNTRY" --output-dir "$OUT" --json -- "${WORK[@]}" > "$OUT/greenai.json"
python3 - "$OUT/greenai.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for c in j["components"]:
    print(f"  {c['component']:4} {c['energy_j']:9.2f} J  mean {c['mean_w']:6.2f} W  {c['method']}  ({c['source']})")
print(f"  total {j['total_j']:.2f} J = {j['total_j']/3.6e6:.8f} kWh; {j['carbon']['g_co2e']:.5f} gCO2e; "
      f"process tree {j.get('process_j', 0):.2f} J")
PY

echo "== CodeCarbon (OfflineEmissionsTracker, country $COUNTRY, measure_power_secs=1)"
"$PY" - "$OUT" "$COUNTRY" "$SECS" <<'PY'
import sys, subprocess, logging
from codecarbon import OfflineEmissionsTracker
out, country, secs = sys.argv[1], sys.argv[2], sys.argv[3]
t = OfflineEmissionsTracker(country_iso_code=country, output_dir=out, measure_power_secs=1,
                            log_level=logging.ERROR, save_to_file=True)
t.start()
subprocess.run(["python3", "-c", f"import time\nt=time.time()\nwhile time.time()-t<{secs}: pass"], check=True)
kg = t.stop()
d = t.final_emissions_data
print(f"  cpu  {d.cpu_energy*3.6e6:9.2f} J  mean {d.cpu_power:6.2f} W  (cpu_model {d.cpu_model!r}, mode {d.tracking_mode})")
print(f"  ram  {d.ram_energy*3.6e6:9.2f} J  mean {d.ram_power:6.2f} W  (ram_total_size {d.ram_total_size:.2f} GB)")
print(f"  total {d.energy_consumed*3.6e6:.2f} J = {d.energy_consumed:.8f} kWh; {kg*1000:.5f} gCO2e; "
      f"duration {d.duration:.2f} s")
PY
echo "(files in $OUT)"
