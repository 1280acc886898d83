// Bench reports: results.csv, results.json and a self-contained report.html (inline SVG
// charts, the table, and the method behind every figure) in one folder.
//
// Contract:
//  - Units are in every CSV/JSON key (…_ms, …_j_per_inference, …_bytes, …_percent) and next
//    to every figure in the HTML. Every energy figure carries its method ("measured" or
//    "estimated") and the sensor sources; predictions are labelled "predicted".
//  - WriteReport refuses an existing folder unless `force` (then it overwrites the three
//    files and leaves anything else there alone). Every file is written atomically
//    (core/file_util.h), so a failure never leaves a torn file.
//  - The HTML has no scripts and no external resources (styles and charts are inline).
// Thread safety: pure functions except WriteReport (file system).
#pragma once

#include <string>
#include <vector>

#include "bench/evaluate.h"
#include "core/status.h"

namespace greenai::bench {

struct BenchReport {
  double created_wall = 0;   // Unix seconds
  std::string data;          // data set description ("fashion-mnist test, 10000 samples")
  std::string sensors;       // detected sensors summary
  std::vector<std::string> sensor_notes;
  IdleFigure idle;  // carries its own method
  std::string carbon_label;  // "France (FRA, 2023)"
  double carbon_g_per_kwh = 0;
  double pue = 1;
  std::string carbon_warning;
  double window_s = 0;       // requested loaded window
  int64_t batch = 0;         // requested throughput batch
  bool normalized = false;   // inputs normalized with kInputMean/kInputStd
  std::string headline_note; // from ChooseHeadline: why the chart is not net of idle ("" when it is)
  std::string machine;       // CPU model, threads
  std::vector<ModelResult> models;
};

std::string ReportCsv(const BenchReport& r);
std::string ReportJson(const BenchReport& r);  // one JSON object, pretty-printed
std::string ReportHtml(const BenchReport& r);

// Writes report.html, results.csv and results.json under `dir` (created with parents).
Status WriteReport(const BenchReport& r, const std::string& dir, bool force);

// Human-readable energy ("12.3 mJ"), time ("4.56 ms") and size ("1.23 MB") for tables.
std::string EnergyText(double joules);
std::string BytesText(double bytes);

}  // namespace greenai::bench
