// Draws each measure chart from the JSON next to it (the same numbers as its table).
// A series may say `axis: "rate"` (percentages get their own axis on the right, 0-100 %,
// never sharing one with counts) and `suppressed: [label or "", ...]` per point: a
// suppressed cell is drawn as a hatched marker with its label ("<11", "suppressed"), never
// as an empty bar that reads as zero.
(function () {
  "use strict";
  var COLORS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#0969da"];

  function hatch(ctx, color) {
    var tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    var t = tile.getContext("2d");
    t.strokeStyle = color;
    t.lineWidth = 2;
    t.beginPath();
    t.moveTo(0, 8);
    t.lineTo(8, 0);
    t.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  // Marks every suppressed point: a hatched box up from the axis, labelled.
  var suppressedMarkers = {
    id: "suppressedMarkers",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var x = chart.scales.x;
      var area = chart.chartArea;
      chart.data.datasets.forEach(function (dataset, d) {
        var marks = dataset.suppressedLabels || [];
        var meta = chart.getDatasetMeta(d);
        if (meta.hidden) return;
        marks.forEach(function (label, i) {
          if (!label) return;
          var element = meta.data[i];
          var width = element && element.width ? element.width : Math.max(x.width / (marks.length * 2), 12);
          var centre = element && isFinite(element.x) ? element.x : x.getPixelForValue(i);
          var height = Math.min(36, (area.bottom - area.top) / 3);
          ctx.save();
          ctx.fillStyle = hatch(ctx, "#6e7781");
          ctx.strokeStyle = "#6e7781";
          ctx.setLineDash([3, 2]);
          ctx.fillRect(centre - width / 2, area.bottom - height, width, height);
          ctx.strokeRect(centre - width / 2, area.bottom - height, width, height);
          ctx.setLineDash([]);
          ctx.fillStyle = "#24292f";
          ctx.font = "11px sans-serif";
          ctx.textAlign = "center";
          ctx.fillText(label, centre, area.bottom - height - 4);
          ctx.restore();
        });
      });
    },
  };

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var hasRate = spec.series.some(function (s) { return s.axis === "rate"; });
    var hasCount = spec.series.some(function (s) { return s.axis !== "rate"; });
    var scales = {};
    if (hasCount) {
      scales.y = { beginAtZero: true, position: "left", title: { display: true, text: "Count" } };
    }
    if (hasRate) {
      scales.rate = {
        beginAtZero: true,
        max: 100,
        position: hasCount ? "right" : "left",
        grid: { drawOnChartArea: !hasCount },
        title: { display: true, text: "Percent" },
        ticks: { callback: function (v) { return v + " %"; } },
      };
    }
    canvas.chart = new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (s, i) {
          return {
            label: s.label + (s.axis === "rate" ? " (%)" : ""),
            data: s.data,
            yAxisID: s.axis === "rate" ? "rate" : "y",
            borderColor: COLORS[i % COLORS.length],
            backgroundColor: COLORS[i % COLORS.length],
            spanGaps: true,
            suppressedLabels: s.suppressed || [],
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
      },
      plugins: [suppressedMarkers],
    });
    canvas.dataset.drawn = "true";
    var marked = spec.series.reduce(function (n, s) {
      return n + (s.suppressed || []).filter(Boolean).length;
    }, 0);
    canvas.dataset.suppressedMarked = String(marked);
  }

  function start() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
