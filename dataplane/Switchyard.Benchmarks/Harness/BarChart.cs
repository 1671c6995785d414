using System.Globalization;
using System.Text;

namespace Switchyard.Benchmarks.Harness;

/// <summary>One bar series of a panel: a name, and one value per group (null draws no bar).</summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<double?> Values);

/// <summary>One panel of grouped bars: a title, the group labels along the x axis, and the series.</summary>
internal sealed record ChartPanel(string Title, IReadOnlyList<string> Groups, IReadOnlyList<ChartSeries> Series);

/// <summary>
/// Grouped bar charts as a standalone SVG, drawn by hand (no charting package restores here): a title, a subtitle for
/// the headline ratios, and panels laid out two per row, each with its own axis and legend.
/// </summary>
internal static class BarChart
{
    private static readonly string[] Colours = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c"];

    public static string Render(string title, string subtitle, IReadOnlyList<ChartPanel> panels)
    {
        const int panelWidth = 330, plotHeight = 200, left = 60, gap = 60, header = 70, rowHeight = plotHeight + 110;
        var columns = Math.Min(2, Math.Max(1, panels.Count));
        var rows = (panels.Count + columns - 1) / columns;
        var width = left + columns * panelWidth + (columns - 1) * gap + 30;
        var height = header + rows * rowHeight;
        var inv = CultureInfo.InvariantCulture;
        var svg = new StringBuilder();
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(inv, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(inv, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>\n");
        svg.Append(inv, $"<text x=\"{width / 2}\" y=\"42\" text-anchor=\"middle\">{Escape(subtitle)}</text>\n");
        for (var p = 0; p < panels.Count; p++)
        {
            var panel = panels[p];
            var x0 = left + p % columns * (panelWidth + gap);
            var top = header + p / columns * rowHeight;
            var max = panel.Series.SelectMany(s => s.Values).Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(1).Max();
            max = max <= 0 ? 1 : max * 1.15;
            svg.Append(inv, $"<text x=\"{x0 + panelWidth / 2}\" y=\"{top - 8}\" text-anchor=\"middle\" font-weight=\"bold\">{Escape(panel.Title)}</text>\n");
            svg.Append(inv, $"<line x1=\"{x0}\" y1=\"{top + plotHeight}\" x2=\"{x0 + panelWidth}\" y2=\"{top + plotHeight}\" stroke=\"#333\"/>\n");
            svg.Append(inv, $"<line x1=\"{x0}\" y1=\"{top}\" x2=\"{x0}\" y2=\"{top + plotHeight}\" stroke=\"#333\"/>\n");
            for (var t = 0; t <= 4; t++)
            {
                var y = top + plotHeight - plotHeight * t / 4.0;
                svg.Append(inv, $"<text x=\"{x0 - 4}\" y=\"{y + 4:F1}\" text-anchor=\"end\" font-size=\"10\">{Format(max * t / 4)}</text>\n");
                svg.Append(inv, $"<line x1=\"{x0}\" y1=\"{y:F1}\" x2=\"{x0 + panelWidth}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>\n");
            }

            var groupWidth = panelWidth / (double)Math.Max(1, panel.Groups.Count);
            var barWidth = groupWidth * 0.8 / Math.Max(1, panel.Series.Count);
            for (var g = 0; g < panel.Groups.Count; g++)
            {
                var gx = x0 + g * groupWidth + groupWidth * 0.1;
                for (var s = 0; s < panel.Series.Count; s++)
                {
                    if (g >= panel.Series[s].Values.Count || panel.Series[s].Values[g] is not { } v || double.IsNaN(v))
                    {
                        continue;
                    }

                    var h = plotHeight * Math.Max(0, v) / max;
                    var bx = gx + s * barWidth;
                    svg.Append(inv, $"<rect x=\"{bx:F1}\" y=\"{top + plotHeight - h:F1}\" width=\"{Math.Max(1, barWidth - 2):F1}\" height=\"{h:F1}\" fill=\"{Colours[s % Colours.Length]}\"><title>{Escape(panel.Series[s].Name)}, {Escape(panel.Groups[g])}: {v.ToString("G5", inv)}</title></rect>\n");
                    svg.Append(inv, $"<text x=\"{bx + (barWidth - 2) / 2:F1}\" y=\"{top + plotHeight - h - 3:F1}\" text-anchor=\"middle\" font-size=\"9\">{Format(v)}</text>\n");
                }

                svg.Append(inv, $"<text x=\"{gx + groupWidth * 0.4:F1}\" y=\"{top + plotHeight + 15}\" text-anchor=\"middle\" font-size=\"10\">{Escape(panel.Groups[g])}</text>\n");
            }

            for (var s = 0; s < panel.Series.Count; s++)
            {
                var ly = top + plotHeight + 30 + s * 17;
                svg.Append(inv, $"<rect x=\"{x0}\" y=\"{ly}\" width=\"12\" height=\"12\" fill=\"{Colours[s % Colours.Length]}\"/>\n");
                svg.Append(inv, $"<text x=\"{x0 + 18}\" y=\"{ly + 10}\" font-size=\"11\">{Escape(panel.Series[s].Name)}</text>\n");
            }
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Format(double value) => value switch
    {
        0 => "0",
        >= 100 => value.ToString("F0", CultureInfo.InvariantCulture),
        >= 1 => value.ToString("F2", CultureInfo.InvariantCulture),
        _ => value.ToString("G2", CultureInfo.InvariantCulture),
    };

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
