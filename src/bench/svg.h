// A small SVG chart writer for bench reports: a scatter plot with its Pareto front and point
// labels, and horizontal bar charts. Output is a self-contained <svg> element (no scripts,
// no external fonts or styles), so it can be inlined into HTML or saved as an .svg file.
//
// Contract:
//  - Every text is XML-escaped; non-finite values are not drawn (a scatter point or bar with
//    NaN/inf is listed in the chart's <desc> as skipped instead).
//  - Axes carry their unit in the label ("energy per inference (J)"); ticks are "nice"
//    numbers (1, 2, 2.5, 5 x 10^k) covering the data range.
//  - Scatter points are <circle class="point" data-label="..."> so tests and readers can
//    find them; Pareto-front points also carry class "front"; the front is a <polyline
//    class="pareto">. Bars are <rect class="bar" data-label="...">.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace greenai::bench {

std::string XmlEscape(std::string_view s);

struct ScatterPoint {
  std::string label;
  double x = 0, y = 0;
};

// Indices of the points on the Pareto front when lower x and higher y are better (a point is
// on the front when no other point has x <= and y >= with one strictly better), sorted by x.
// Non-finite points are never on the front.
std::vector<size_t> ParetoFront(const std::vector<ScatterPoint>& points);

struct ScatterOptions {
  std::string title;
  std::string x_label;  // include the unit: "energy per inference (mJ)"
  std::string y_label;  // "top-1 accuracy (%)"
  int width = 720, height = 440;
};
std::string ScatterSvg(const std::vector<ScatterPoint>& points, const ScatterOptions& options);

struct Bar {
  std::string label;
  double value = 0;
};
struct BarOptions {
  std::string title;
  std::string unit;  // shown after each value and in the axis label: "MB", "ms"
  int width = 720;
  int bar_height = 22;
};
std::string BarsSvg(const std::vector<Bar>& bars, const BarOptions& options);

// "Nice" tick values covering [lo, hi] with about `target` ticks (at least 2 values).
std::vector<double> NiceTicks(double lo, double hi, int target = 5);
// Short number for axes and labels: up to 4 significant digits, no trailing zeros.
std::string ShortNumber(double v);

}  // namespace greenai::bench
