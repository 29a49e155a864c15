// The conv page: pointing at (or tapping, or focusing) a result cell highlights the input
// window it comes from and writes out its arithmetic, on the student's own numbers.
(function () {
  "use strict";
  var source = document.getElementById("conv-data");
  var maps = document.getElementById("maps");
  var explain = document.getElementById("cell-explain");
  if (!source || !maps || !explain) return;
  var data = JSON.parse(source.textContent);
  var words = data.words;

  function num(x) {
    var scale = Math.pow(10, data.digits);
    var r = Math.round(x * scale) / scale;
    if (r === 0) r = 0;
    var s = Number.isInteger(r) ? String(r) : r.toFixed(data.digits).replace(/0+$/, "").replace(/\.$/, "");
    s = s.replace("-", "\u2212");
    return data.decimal_comma ? s.replace(".", ",") : s;
  }
  function paren(x) { return x < 0 ? "(" + num(x) + ")" : num(x); }

  function table(stage, index) {
    return maps.querySelector('table[data-stage="' + stage + '"][data-map="' + index + '"]');
  }
  function cell(tbl, r, c) {
    return tbl && tbl.querySelector('td[data-row="' + r + '"][data-col="' + c + '"]');
  }
  function mark(tbl, r0, c0, h, w) {
    for (var r = r0; r < r0 + h; r++)
      for (var c = c0; c < c0 + w; c++) {
        var td = cell(tbl, r, c);
        if (td) td.classList.add("window");
      }
  }
  function clear() {
    maps.querySelectorAll("td.window, td.active").forEach(function (td) {
      td.classList.remove("window", "active");
    });
  }

  function convText(k, i, j) {
    var win = data.conv_windows, r0 = win.rows[i], c0 = win.cols[j];
    var terms = [];
    data.kernels[k].forEach(function (kernel, ch) {
      mark(table("input", ch), r0, c0, win.size[0], win.size[1]);
      mark(table("kernel", k + "-" + ch), 0, 0, win.size[0], win.size[1]);
      for (var a = 0; a < win.size[0]; a++)
        for (var b = 0; b < win.size[1]; b++)
          terms.push(num(data.padded[ch][r0 + a][c0 + b]) + "\u00b7" + paren(kernel[a][b]));
    });
    var bias = data.bias[k] ? " + " + paren(data.bias[k]) : "";
    return terms.join(" + ") + bias + " = " + num(data.conv[k][i][j]);
  }

  function poolText(k, i, j) {
    var win = data.pool_windows, r0 = win.rows[i], c0 = win.cols[j];
    var stage = data.activation ? "activation" : "conv";
    var grid = (data.activation || data.conv)[k];
    mark(table(stage, k), r0, c0, win.size[0], win.size[1]);
    var values = [];
    for (var a = 0; a < win.size[0]; a++)
      for (var b = 0; b < win.size[1]; b++) values.push(num(grid[r0 + a][c0 + b]));
    var result = cell(table("pool", k), i, j).textContent;
    return words[data.pool_kind] + " {" + values.join(data.decimal_comma ? "; " : ", ") + "} = " + result;
  }

  function show(td) {
    var tbl = td.closest("table[data-stage]");
    if (!tbl) return;
    var stage = tbl.dataset.stage;
    if (stage !== "conv" && stage !== "activation" && stage !== "pool") return;
    var k = Number(tbl.dataset.map), i = Number(td.dataset.row), j = Number(td.dataset.col);
    clear();
    td.classList.add("active");
    var label = words.map + " " + (k + 1) + ", " + words.cell + " (" + (i + 1) + ", " + (j + 1) + "): ";
    var text;
    if (stage === "conv") text = convText(k, i, j);
    else if (stage === "activation") {
      var before = data.conv[k][i][j];
      cell(table("conv", k), i, j).classList.add("active");
      text = "max(0, " + num(before) + ") = " + td.textContent + " \u2014 " + (before > 0 ? words.relu : words.zeroed);
    } else text = poolText(k, i, j);
    explain.textContent = label + text;
  }

  function onEvent(event) {
    var td = event.target.closest && event.target.closest("td");
    if (td) {
      show(td);
      var at = cells.indexOf(td);
      if (at >= 0) current = at;
    }
  }

  // Slide the window: previous / next / play through every cell of the conv maps (then
  // the ReLU and pool maps), each with its window and its products written out.
  var cells = Array.prototype.slice.call(
    maps.querySelectorAll('table[data-stage="conv"] td, table[data-stage="activation"] td, '
      + 'table[data-stage="pool"] td'));
  var current = -1, timer = null;
  var controls = document.querySelector(".window-steps");
  function go(delta) {
    if (!cells.length) return;
    current = (current + delta + cells.length) % cells.length;
    show(cells[current]);
  }
  function stop() {
    clearInterval(timer);
    timer = null;
    controls.querySelector('[data-step="play"]').setAttribute("aria-pressed", "false");
  }
  if (controls && cells.length) {
    controls.hidden = false;
    controls.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-step]");
      if (!button) return;
      var what = button.dataset.step;
      if (what !== "play") { stop(); go(Number(what)); return; }
      if (timer) { stop(); return; }
      button.setAttribute("aria-pressed", "true");
      go(1);
      timer = setInterval(function () {
        if (current === cells.length - 1) stop();
        else go(1);
      }, 1200);
    });
  }
  maps.addEventListener("pointerover", onEvent);
  maps.addEventListener("click", onEvent);
  maps.addEventListener("focusin", onEvent);
})();
