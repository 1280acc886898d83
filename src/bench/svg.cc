#include "bench/svg.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace greenai::bench {

namespace {

bool Finite(const ScatterPoint& p) { return std::isfinite(p.x) && std::isfinite(p.y); }

constexpr const char* kFont = "font-family=\"sans-serif\"";
constexpr const char* kPalette[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"};

std::string SvgOpen(int w, int h, const std::string& title, const std::string& cls) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{}\">\n<title>{}</title>\n",
      cls, w, h, w, h, XmlEscape(title), XmlEscape(title));
}

}  // namespace

std::string XmlEscape(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string ShortNumber(double v) {
  if (!std::isfinite(v)) return "n/a";
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e5 || a < 1e-3) return fmt::format("{:.3g}", v);
  std::string s = fmt::format("{:.4g}", v);
  return s;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  target = std::max(target, 2);
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  const double first = std::floor(lo / step) * step;
  const double last = std::ceil(hi / step) * step;
  std::vector<double> t;
  for (double v = first; v <= last + step * 0.5; v += step) t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  if (t.size() < 2) t.push_back(first + step);
  return t;
}

std::vector<size_t> ParetoFront(const std::vector<ScatterPoint>& pts) {
  std::vector<size_t> front;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (!Finite(pts[i])) continue;
    bool dominated = false;
    for (size_t j = 0; j < pts.size() && !dominated; ++j) {
      if (j == i || !Finite(pts[j])) continue;
      const bool no_worse = pts[j].x <= pts[i].x && pts[j].y >= pts[i].y;
      const bool better = pts[j].x < pts[i].x || pts[j].y > pts[i].y;
      dominated = no_worse && better;
    }
    if (!dominated) front.push_back(i);
  }
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    return pts[a].x != pts[b].x ? pts[a].x < pts[b].x : pts[a].y < pts[b].y;
  });
  return front;
}

std::string ScatterSvg(const std::vector<ScatterPoint>& pts, const ScatterOptions& o) {
  const int w = o.width, h = o.height;
  const double ml = 70, mr = 30, mt = 40, mb = 55;
  const double pw = w - ml - mr, ph = h - mt - mb;
  double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  bool any = false;
  std::string skipped;
  for (const auto& p : pts) {
    if (!Finite(p)) {
      skipped += (skipped.empty() ? "" : ", ") + p.label;
      continue;
    }
    if (!any) {
      xlo = xhi = p.x;
      ylo = yhi = p.y;
      any = true;
    }
    xlo = std::min(xlo, p.x), xhi = std::max(xhi, p.x);
    ylo = std::min(ylo, p.y), yhi = std::max(yhi, p.y);
  }
  // Energy axes start at 0 so distances read as ratios; accuracy keeps its range (padded).
  xlo = std::min(xlo, 0.0);
  const double ypad = std::max((yhi - ylo) * 0.1, 0.5);
  const std::vector<double> xt = NiceTicks(xlo, xhi * 1.05 + (xhi == 0 ? 1 : 0), 5);
  const std::vector<double> yt = NiceTicks(ylo - ypad, yhi + ypad, 5);
  const double x0 = xt.front(), x1 = xt.back(), y0 = yt.front(), y1 = yt.back();
  auto X = [&](double v) { return ml + (v - x0) / (x1 - x0) * pw; };
  auto Y = [&](double v) { return mt + ph - (v - y0) / (y1 - y0) * ph; };

  std::string s = SvgOpen(w, h, o.title, "chart scatter");
  s += fmt::format("<desc>{} points{}</desc>\n", pts.size(),
                   skipped.empty() ? "" : "; not drawn (no finite value): " + XmlEscape(skipped));
  s += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", w, h);
  s += fmt::format("<text x=\"{}\" y=\"22\" {} font-size=\"15\" font-weight=\"bold\">{}</text>\n", ml, kFont,
                   XmlEscape(o.title));
  for (double t : xt) {
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", X(t), mt,
                     mt + ph);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"11\" text-anchor=\"middle\">{}</text>\n", X(t),
                     mt + ph + 16, kFont, ShortNumber(t));
  }
  for (double t : yt) {
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e5e5e5\"/>\n", ml, Y(t),
                     ml + pw);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"11\" text-anchor=\"end\">{}</text>\n", ml - 6,
                     Y(t) + 4, kFont, ShortNumber(t));
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n", ml, mt, pw, ph);
  s += fmt::format("<text class=\"x-label\" x=\"{:.1f}\" y=\"{}\" {} font-size=\"12\" text-anchor=\"middle\">{}</text>\n",
                   ml + pw / 2, h - 12, kFont, XmlEscape(o.x_label));
  s += fmt::format(
      "<text class=\"y-label\" x=\"16\" y=\"{:.1f}\" {} font-size=\"12\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 16 {:.1f})\">{}</text>\n",
      mt + ph / 2, kFont, mt + ph / 2, XmlEscape(o.y_label));

  const std::vector<size_t> front = ParetoFront(pts);
  if (front.size() >= 2) {
    std::string line;
    for (size_t i : front) line += fmt::format("{:.1f},{:.1f} ", X(pts[i].x), Y(pts[i].y));
    s += fmt::format(
        "<polyline class=\"pareto\" points=\"{}\" fill=\"none\" stroke=\"#1b9e77\" stroke-width=\"2\" "
        "stroke-dasharray=\"6 4\"/>\n",
        line);
  }
  for (size_t i = 0; i < pts.size(); ++i) {
    const auto& p = pts[i];
    if (!Finite(p)) continue;
    const bool on = std::find(front.begin(), front.end(), i) != front.end();
    const char* color = kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
    s += fmt::format(
        "<circle class=\"point{}\" data-label=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"6\" fill=\"{}\" stroke=\"#000\" "
        "stroke-width=\"{}\"><title>{}: {} , {}</title></circle>\n",
        on ? " front" : "", XmlEscape(p.label), X(p.x), Y(p.y), color, on ? 2 : 0.5, XmlEscape(p.label),
        ShortNumber(p.x), ShortNumber(p.y));
    const bool right_half = X(p.x) > ml + pw * 0.7;
    s += fmt::format("<text class=\"point-label\" x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"11\" text-anchor=\"{}\">{}</text>\n",
                     X(p.x) + (right_half ? -9 : 9), Y(p.y) - 8, kFont, right_half ? "end" : "start",
                     XmlEscape(p.label));
  }
  s += fmt::format(
      "<text x=\"{:.1f}\" y=\"{}\" {} font-size=\"11\" fill=\"#1b9e77\" text-anchor=\"end\">- - Pareto front (lower "
      "energy, higher accuracy)</text>\n",
      ml + pw, 22, kFont);
  s += "</svg>\n";
  return s;
}

std::string BarsSvg(const std::vector<Bar>& bars, const BarOptions& o) {
  const int w = o.width;
  const double ml = 190, mr = 90, mt = 34, mb = 34;
  const double bh = o.bar_height, gap = 8;
  const double ph = std::max<double>(1, static_cast<double>(bars.size())) * (bh + gap);
  const int h = static_cast<int>(mt + ph + mb);
  const double pw = w - ml - mr;
  double hi = 0;
  std::string skipped;
  for (const auto& b : bars) {
    if (std::isfinite(b.value)) hi = std::max(hi, b.value);
    else skipped += (skipped.empty() ? "" : ", ") + b.label;
  }
  const std::vector<double> ticks = NiceTicks(0, hi > 0 ? hi : 1, 4);
  const double x1 = ticks.back();
  auto X = [&](double v) { return ml + v / x1 * pw; };
  std::string s = SvgOpen(w, h, o.title, "chart bars");
  s += fmt::format("<desc>{} bars{}</desc>\n", bars.size(),
                   skipped.empty() ? "" : "; not drawn (no finite value): " + XmlEscape(skipped));
  s += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", w, h);
  s += fmt::format("<text x=\"10\" y=\"20\" {} font-size=\"14\" font-weight=\"bold\">{}</text>\n", kFont,
                   XmlEscape(o.title));
  for (double t : ticks) {
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>\n", X(t), mt,
                     mt + ph);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"10\" text-anchor=\"middle\">{}</text>\n", X(t),
                     mt + ph + 14, kFont, ShortNumber(t));
  }
  s += fmt::format("<text class=\"x-label\" x=\"{:.1f}\" y=\"{}\" {} font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
                   ml + pw / 2, h - 4, kFont, XmlEscape(o.unit));
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    const double y = mt + static_cast<double>(i) * (bh + gap) + gap / 2;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"12\" text-anchor=\"end\">{}</text>\n", ml - 8,
                     y + bh * 0.7, kFont, XmlEscape(b.label));
    if (!std::isfinite(b.value)) continue;
    const double bw = std::max(0.0, X(b.value) - ml);
    s += fmt::format(
        "<rect class=\"bar\" data-label=\"{}\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
        "fill=\"{}\"><title>{}: {} {}</title></rect>\n",
        XmlEscape(b.label), ml, y, bw, bh, kPalette[i % (sizeof kPalette / sizeof kPalette[0])], XmlEscape(b.label),
        ShortNumber(b.value), XmlEscape(o.unit));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {} font-size=\"11\">{} {}</text>\n", ml + bw + 5, y + bh * 0.7,
                     kFont, ShortNumber(b.value), XmlEscape(o.unit));
  }
  s += "</svg>\n";
  return s;
}

}  // namespace greenai::bench
