// stampede HTML report: draws the charts from the JSON data block with uPlot.
// When every chart has drawn once, it sets data-charts-rendered on <body> to
// their number; a chart that fails shows its error in place instead.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("stampede-data").textContent);
  var containers = document.querySelectorAll("[data-chart]");
  var expected = containers.length;
  var drawn = {};
  var nDrawn = 0;
  var plots = [];
  var pxr = function () { return uPlot.pxRatio || window.devicePixelRatio || 1; };

  var colors = {
    attempts: "#1f77b4", errors: "#d62728", api_401: "#ff7f0e",
    p50: "#2ca02c", p99: "#ff7f0e", max: "#d62728",
    signed_in: "#1f77b4", valid_token: "#2ca02c", background: "#9467bd", offline: "#7f7f7f", signed_out: "#d62728",
    sign_in: "#9467bd", refresh: "#1f77b4", api: "#2ca02c", get_token: "#ff7f0e", foreground_recovery: "#8c564b"
  };
  var fallback = ["#17becf", "#bcbd22", "#e377c2", "#8c564b", "#7f7f7f"];
  var eventColors = ["#6a3d9a", "#b15928", "#1b9e77", "#e7298a", "#66a61e", "#386cb0"];

  function markDrawn(name, el) {
    if (drawn[name]) { return; }
    drawn[name] = true;
    nDrawn++;
    el.setAttribute("data-rendered", "true");
    if (nDrawn === expected) {
      document.body.dataset.chartsRendered = String(nDrawn);
    }
  }

  function xsFor(c, n) {
    if (c.x) { return c.x.slice(); }
    var xs = new Array(n);
    for (var i = 0; i < n; i++) { xs[i] = +(i * c.step_s).toFixed(3); }
    return xs;
  }

  // alignedData returns uPlot's [xs, ys...]; a chart without points gets the
  // run's time range and gaps, so it still draws its axes and events.
  function alignedData(c) {
    var n = 0;
    c.series.forEach(function (s) { n = Math.max(n, (s.values || []).length); });
    if (n === 0) {
      var end = Math.max(data.duration_s || 0, 1);
      var xs = c.x ? c.x.slice() : [0, end];
      return [xs].concat(c.series.map(function () { return xs.map(function () { return null; }); }));
    }
    var out = [xsFor(c, n)];
    c.series.forEach(function (s) {
      var v = s.values || [];
      var col = new Array(n);
      for (var i = 0; i < n; i++) { col[i] = i < v.length ? v[i] : null; }
      out.push(col);
    });
    return out;
  }

  function hasValues(d) {
    for (var j = 1; j < d.length; j++) {
      for (var i = 0; i < d[j].length; i++) { if (d[j][i] != null) { return true; } }
    }
    return false;
  }

  // eventsPlugin marks the fleet events on a time chart: a shaded band from
  // start_s to end_s, dashed lines at both ends, "#index type" at the top.
  function eventsPlugin(events) {
    function clip(u, ctx) {
      ctx.beginPath();
      ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
      ctx.clip();
    }
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx, r = pxr();
          ctx.save();
          clip(u, ctx);
          events.forEach(function (e, i) {
            var c = eventColors[i % eventColors.length];
            var x0 = u.valToPos(e.start_s, "x", true), x1 = u.valToPos(e.end_s, "x", true);
            if (x1 - x0 >= 1) {
              ctx.fillStyle = c + "1f";
              ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
            }
            ctx.strokeStyle = c;
            ctx.lineWidth = 1.5 * r;
            ctx.setLineDash([5 * r, 4 * r]);
            [x0].concat(x1 - x0 >= 1 ? [x1] : []).forEach(function (x) {
              ctx.beginPath();
              ctx.moveTo(Math.round(x) + 0.5, u.bbox.top);
              ctx.lineTo(Math.round(x) + 0.5, u.bbox.top + u.bbox.height);
              ctx.stroke();
            });
          });
          ctx.restore();
        }],
        draw: [function (u) {
          var ctx = u.ctx, r = pxr();
          ctx.save();
          clip(u, ctx);
          ctx.font = "600 " + Math.round(11 * r) + "px system-ui, sans-serif";
          ctx.textAlign = "left"; // uPlot leaves the axes' alignment set
          ctx.textBaseline = "top";
          events.forEach(function (e, i) {
            var x0 = u.valToPos(e.start_s, "x", true);
            var label = "#" + e.index + " " + e.type;
            var y = u.bbox.top + (4 + 14 * (i % 3)) * r;
            var w = ctx.measureText(label).width;
            var x = x0 + 4 * r;
            if (x + w > u.bbox.left + u.bbox.width) { x = x0 - 4 * r - w; }
            ctx.fillStyle = "rgba(255,255,255,0.85)";
            ctx.fillRect(x - 2 * r, y - 1 * r, w + 4 * r, 14 * r);
            ctx.fillStyle = eventColors[i % eventColors.length];
            ctx.fillText(label, x, y);
          });
          ctx.restore();
        }]
      }
    };
  }

  // pctLabel shows x = 1/(1-p) as the percentile p.
  function pctLabel(x, extra) {
    if (x == null) { return "-"; }
    var p = 100 * (1 - 1 / x);
    var digits = Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 2) + (extra || 0);
    return p.toFixed(Math.min(digits, 8)) + "%";
  }

  function seriesOpts(c) {
    return c.series.map(function (s, i) {
      return {
        label: s.label,
        stroke: colors[s.key] || fallback[i % fallback.length],
        width: 1.5,
        points: { show: false },
        spanGaps: false
      };
    });
  }

  function width(el) { return Math.max(320, el.clientWidth || 900); }

  function makeChart(name, el) {
    var c = data.charts[name];
    if (!c) { throw new Error("no data for chart " + name); }
    c.series = c.series || [];
    var d = alignedData(c);
    var any = hasValues(d);
    var opts = {
      width: width(el),
      height: name === "hdr" ? 340 : 280,
      series: [{ label: "time s" }].concat(seriesOpts(c)),
      scales: { x: { time: false } },
      axes: [{ label: "seconds from start (wall clock)" }, { label: "", size: 60 }],
      cursor: { sync: { key: "stampede-time" } },
      legend: { live: true },
      plugins: [],
      hooks: { draw: [function () { markDrawn(name, el); }] }
    };
    if (!any) { opts.scales.y = { range: [0, 1] }; }
    switch (name) {
      case "refresh":
        opts.axes[1].label = c.step_s > 0 ? "per " + Math.round(c.step_s * 1000) + " ms" : "per bucket";
        opts.plugins.push(eventsPlugin(data.events || []));
        break;
      case "tls":
        opts.axes[1].label = c.step_s > 0 ? "per " + Math.round(c.step_s * 1000) + " ms" : "per bucket";
        opts.plugins.push(eventsPlugin(data.events || []));
        break;
      case "clients":
        opts.axes[1].label = "clients";
        opts.plugins.push(eventsPlugin(data.events || []));
        break;
      case "latency":
        opts.axes[1].label = "ms";
        if (any) { opts.scales.y = { distr: 3, log: 10 }; } else { opts.scales.y = { range: [0, 1] }; }
        opts.series[0].label = "window start s";
        opts.plugins.push(eventsPlugin(data.events || []));
        break;
      case "hdr":
        opts.cursor = {};
        opts.series[0] = { label: "percentile", value: function (u, v) { return pctLabel(v, 2); } };
        opts.scales.x = { time: false, distr: 3, log: 10, range: function (u, min, max) { return [1, Math.max(10, Math.pow(10, Math.ceil(Math.log10(max || 10) - 1e-9)))]; } };
        if (!any) {
          opts.scales.y = { range: [0, 1] };
        } else if (el.dataset.logy !== "false") {
          opts.scales.y = { distr: 3, log: 10 };
        } else {
          opts.scales.y = { range: function (u, min, max) { return [0, max > 0 ? max * 1.05 : 1]; } };
        }
        opts.axes[0] = {
          label: "percentile (1/(1−p) log scale)",
          splits: function (u, i, min, max) {
            var out = [];
            for (var v = 1; v <= max * 1.0001; v *= 10) { if (v >= min * 0.9999) { out.push(v); } }
            return out;
          },
          values: function (u, splits) { return splits.map(function (v) { return pctLabel(v); }); }
        };
        opts.axes[1].label = el.dataset.logy !== "false" && any ? "latency ms (log scale)" : "latency ms";
        opts.series.forEach(function (s, i) { if (i > 0) { s.points = { show: true, size: 3 }; } });
        break;
    }
    var u = new uPlot(opts, d, el);
    plots.push({ u: u, el: el });
    if (name === "hdr" && any && !el.dataset.toggle) { addLogToggle(el); }
  }

  // addLogToggle puts a checkbox above the HDR chart that switches its
  // latency axis between log (the default: operations differ by orders of
  // magnitude) and linear (as HdrHistogram's plotter draws it).
  function addLogToggle(el) {
    el.dataset.toggle = "true";
    var label = document.createElement("label");
    label.className = "toggle";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = el.dataset.logy !== "false";
    box.addEventListener("change", function () {
      el.dataset.logy = box.checked ? "true" : "false";
      plots = plots.filter(function (p) {
        if (p.el === el) { p.u.destroy(); return false; }
        return true;
      });
      makeChart("hdr", el);
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(" log scale for latency"));
    el.parentNode.insertBefore(label, el);
  }

  Array.prototype.forEach.call(containers, function (el) {
    var name = el.getAttribute("data-chart");
    try {
      makeChart(name, el);
    } catch (err) {
      el.setAttribute("data-error", String(err));
      var p = document.createElement("p");
      p.className = "chart-error";
      p.textContent = "This chart could not be drawn: " + err;
      el.appendChild(p);
      if (window.console) { console.error("stampede chart " + name + ": " + err); }
    }
  });

  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      plots.forEach(function (p) { p.u.setSize({ width: width(p.el), height: p.u.height }); });
    });
  });
})();
