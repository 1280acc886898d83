/* A fake libnvidia-ml for the NVML sensor tests. Behaviour comes from the file named
 * by $FAKE_NVML_CONTROL, re-read on every call so a test can change it between
 * readings. Lines "key=value":
 *   devices=N            number of GPUs (default 1)
 *   init_fail=1          nvmlInit_v2 fails
 *   energy_supported=0|1 nvmlDeviceGetTotalEnergyConsumption answers (default 1)
 *   energy_mj_<i>=V      energy counter of device i (mJ)
 *   power_mw_<i>=V       power of device i (mW)
 *   util_<i>=V           GPU utilization (%)
 *   procs_<i>=pid:sm,pid:sm   per-process SM utilization samples
 *   proc_util_supported=0|1   nvmlDeviceGetProcessUtilization answers (default 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  unsigned int gpu;
  unsigned int memory;
} fake_util_t;
typedef struct {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil, memUtil, encUtil, decUtil;
} fake_proc_sample_t;

static int devices_handles[16];

static int get_value(const char* key, char* out, size_t n) {
  const char* path = getenv("FAKE_NVML_CONTROL");
  if (!path) return 0;
  FILE* f = fopen(path, "r");
  if (!f) return 0;
  char line[512];
  size_t klen = strlen(key);
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
      char* v = line + klen + 1;
      v[strcspn(v, "\r\n")] = 0;
      snprintf(out, n, "%s", v);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

static long long get_int(const char* key, long long def) {
  char buf[256];
  return get_value(key, buf, sizeof buf) ? atoll(buf) : def;
}

static long long get_dev_int(const char* prefix, int dev, long long def) {
  char key[64];
  snprintf(key, sizeof key, "%s_%d", prefix, dev);
  return get_int(key, def);
}

static int dev_index(void* handle) { return (int)((int*)handle - devices_handles); }

int nvmlInit_v2(void) { return get_int("init_fail", 0) ? 999 : 0; }
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned int* n) {
  *n = (unsigned int)get_int("devices", 1);
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void** handle) {
  if (i >= 16) return 2;
  *handle = &devices_handles[i];
  return 0;
}
int nvmlDeviceGetName(void* handle, char* name, unsigned int len) {
  snprintf(name, len, "Fake GPU %d", dev_index(handle));
  return 0;
}
int nvmlDeviceGetTotalEnergyConsumption(void* handle, unsigned long long* mj) {
  if (!get_int("energy_supported", 1)) return 3; /* NVML_ERROR_NOT_SUPPORTED */
  *mj = (unsigned long long)get_dev_int("energy_mj", dev_index(handle), 0);
  return 0;
}
int nvmlDeviceGetPowerUsage(void* handle, unsigned int* mw) {
  *mw = (unsigned int)get_dev_int("power_mw", dev_index(handle), 0);
  return 0;
}
int nvmlDeviceGetUtilizationRates(void* handle, fake_util_t* u) {
  u->gpu = (unsigned int)get_dev_int("util", dev_index(handle), 0);
  u->memory = 0;
  return 0;
}
int nvmlDeviceGetProcessUtilization(void* handle, fake_proc_sample_t* out, unsigned int* count,
                                    unsigned long long last_seen) {
  (void)last_seen;
  if (!get_int("proc_util_supported", 1)) return 3;
  char key[64], buf[256];
  snprintf(key, sizeof key, "procs_%d", dev_index(handle));
  fake_proc_sample_t s[32];
  unsigned int n = 0;
  if (get_value(key, buf, sizeof buf)) {
    char* save = NULL;
    for (char* tok = strtok_r(buf, ",", &save); tok && n < 32; tok = strtok_r(NULL, ",", &save)) {
      unsigned int pid = 0, sm = 0;
      if (sscanf(tok, "%u:%u", &pid, &sm) == 2) {
        memset(&s[n], 0, sizeof s[n]);
        s[n].pid = pid;
        s[n].smUtil = sm;
        s[n].timeStamp = 1000 + n;
        ++n;
      }
    }
  }
  if (!out || *count < n) {
    *count = n;
    return n == 0 ? 0 : 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  }
  memcpy(out, s, n * sizeof s[0]);
  *count = n;
  return 0;
}
