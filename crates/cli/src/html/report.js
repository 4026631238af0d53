// dhcplens HTML report: opens the decoded packet behind an arrow.
// Everything from the capture is set with textContent, never as markup.
(function () {
  "use strict";
  var root = document.documentElement;
  var data = {};
  try {
    data = JSON.parse(document.getElementById("packets").textContent);
  } catch (e) {
    root.setAttribute("data-error", String(e));
  }
  var panel = document.getElementById("panel");
  var title = document.getElementById("panel-title");
  var body = document.getElementById("panel-body");
  var current = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (Array.isArray(v)) return v.map(fmt).join(", ");
    if (typeof v === "object") {
      return Object.keys(v).map(function (k) { return k + ": " + fmt(v[k]); }).join("; ");
    }
    return String(v);
  }

  function endpoint(e) {
    if (!e) return "—";
    return (e.mac ? e.mac + "  " : "") + e.ip + ":" + e.port;
  }

  // A table of [key, name, value] rows; highlighted keys get a mark and why.
  function table(rows, hl) {
    var t = el("table"), tb = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr"), th = el("th", null, r[1]), td = el("td", "v", r[2]);
      th.setAttribute("scope", "row");
      tr.setAttribute("data-k", r[0]);
      var h = hl[r[0]];
      if (h) {
        tr.className = "hl";
        th.appendChild(el("span", "why", h.why.join(", ")));
      }
      if (r[3]) tr.className += " " + r[3];
      tr.appendChild(th);
      tr.appendChild(td);
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    return t;
  }

  function renderFrame(f, box) {
    box.textContent = "";
    var p = f.pkt;
    var hl = {};
    (f.hl || []).forEach(function (h) { hl[h.k] = h; });
    if (!p) {
      box.appendChild(el("p", "notice", "This frame could not be read again."));
      return;
    }
    box.appendChild(el("p", "route", endpoint(p.src) + "  →  " + endpoint(p.dst)));
    if (f.hl && f.hl.length) {
      var l = el("div", "hl-list");
      l.appendChild(el("strong", null, "Highlighted for the findings:"));
      var ul = el("ul");
      f.hl.forEach(function (h) {
        var li = el("li");
        var b = el("button", "jump", h.name ? "option " + h.k.slice(4) + " " + h.name : h.k);
        b.type = "button";
        b.addEventListener("click", function () {
          var row = box.querySelector('tr[data-k="' + h.k + '"]');
          if (row) row.scrollIntoView({ block: "center" });
        });
        li.appendChild(b);
        li.appendChild(document.createTextNode(" — " + h.why.join(", ")));
        ul.appendChild(li);
      });
      l.appendChild(ul);
      box.appendChild(l);
    }
    box.appendChild(el("h3", null, "Frame"));
    box.appendChild(table([
      ["capture", "capture", p.capture + " frame " + p.frame],
      ["time", "time", p.time],
      ["src", "source", endpoint(p.src)],
      ["dst", "destination", endpoint(p.dst)],
      ["vlan", "VLAN", p.vlan ? p.vlan.join(", ") : "—"],
      ["udp_checksum", "UDP checksum", p.udp_checksum],
      ["length", "DHCP length", p.length + " bytes"]
    ], hl));
    if (p.op !== undefined) {
      box.appendChild(el("h3", null, "BOOTP header"));
      box.appendChild(table([
        ["op", "op", p.op],
        ["htype", "htype / hlen", p.htype + " / " + p.hlen],
        ["hops", "hops", p.hops],
        ["xid", "xid", p.xid],
        ["secs", "secs", p.secs],
        ["flags", "flags", "0x" + ("000" + p.flags.toString(16)).slice(-4) + (p.broadcast ? " (broadcast)" : " (unicast)")],
        ["ciaddr", "ciaddr", p.ciaddr],
        ["yiaddr", "yiaddr", p.yiaddr],
        ["siaddr", "siaddr", p.siaddr],
        ["giaddr", "giaddr", p.giaddr],
        ["chaddr", "chaddr", p.chaddr],
        ["sname", "sname", p.sname === null ? "(used for options)" : p.sname || "—"],
        ["file", "file", p.file === null ? "(used for options)" : p.file || "—"]
      ], Object.assign({}, hl, hl.broadcast && !hl.flags ? { flags: hl.broadcast } : {})));
      box.appendChild(el("h3", null, "Options"));
      var rows = [], seen = {};
      (p.options || []).forEach(function (o) {
        var key = "opt:" + o.code;
        seen[key] = true;
        rows.push([key, o.code + " " + o.name, fmt(o.value) + (o.region ? "  (in " + o.region + ")" : "")]);
      });
      (f.hl || []).forEach(function (h) {
        if (h.name && !seen[h.k]) rows.push([h.k, h.k.slice(4) + " " + h.name, "not present", "absent"]);
      });
      box.appendChild(table(rows, hl));
    }
    var an = p.anomalies || [];
    if (an.length) {
      box.appendChild(el("h3", null, "Anomalies"));
      box.appendChild(table(an.map(function (a) {
        return ["anomalies", a.code + " @" + a.offset, a.message];
      }), hl));
    }
    var raw = el("details");
    raw.appendChild(el("summary", null, "JSON (as dhcplens decode --json)"));
    raw.appendChild(el("pre", "raw", JSON.stringify(p, null, 2)));
    box.appendChild(raw);
  }

  function open(id, from) {
    var d = data[id];
    if (!d) return;
    if (current) current.classList.remove("selected");
    current = document.getElementById(id);
    if (current) current.classList.add("selected");
    title.textContent = d.title;
    body.textContent = "";
    var box = el("div");
    if (d.frames.length > 1) {
      var tabs = el("div", "tabs");
      tabs.setAttribute("role", "tablist");
      d.frames.forEach(function (f, i) {
        var b = el("button", null, f.name);
        b.type = "button";
        b.setAttribute("role", "tab");
        b.setAttribute("aria-selected", i === 0 ? "true" : "false");
        b.addEventListener("click", function () {
          Array.prototype.forEach.call(tabs.children, function (c) { c.setAttribute("aria-selected", "false"); });
          b.setAttribute("aria-selected", "true");
          renderFrame(f, box);
        });
        tabs.appendChild(b);
      });
      body.appendChild(el("p", "meta", d.rel + " · seen in " + d.frames.length + " frames (another capture or relay hop):"));
      body.appendChild(tabs);
    } else {
      body.appendChild(el("p", "meta", d.rel + " · " + d.frames[0].name));
    }
    body.appendChild(box);
    renderFrame(d.frames[0], box);
    panel.hidden = false;
    document.body.classList.add("panel-open");
    panel.setAttribute("data-open", id);
    if (from !== "load") title.focus({ preventScroll: true });
  }

  function close() {
    panel.hidden = true;
    document.body.classList.remove("panel-open");
    panel.removeAttribute("data-open");
    if (current) {
      current.classList.remove("selected");
      current.focus({ preventScroll: true });
    }
  }

  function reveal(id) {
    var a = document.getElementById(id);
    if (!a) return;
    var d = a.closest("details.fold");
    if (d) d.open = true;
    a.scrollIntoView({ block: "center" });
    a.classList.remove("flash");
    void a.getBoundingClientRect();
    a.classList.add("flash");
  }

  document.addEventListener("click", function (e) {
    var t = e.target.closest("[data-p]");
    if (t) {
      e.preventDefault();
      if (!t.classList.contains("arrow")) reveal(t.getAttribute("data-p"));
      open(t.getAttribute("data-p"));
      return;
    }
    if (e.target.closest(".panel .close")) close();
  });

  document.addEventListener("keydown", function (e) {
    var a = e.target.closest && e.target.closest(".arrow");
    if (a && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      open(a.getAttribute("data-p"));
    } else if (a && (e.key === "ArrowDown" || e.key === "ArrowUp" || e.key === "Home" || e.key === "End")) {
      var all = Array.prototype.slice.call(a.ownerSVGElement.querySelectorAll(".arrow"));
      var i = all.indexOf(a);
      var j = e.key === "ArrowDown" ? i + 1 : e.key === "ArrowUp" ? i - 1 : e.key === "Home" ? 0 : all.length - 1;
      if (j >= 0 && j < all.length) {
        e.preventDefault();
        all[j].focus();
      }
    } else if (e.key === "Escape" && !panel.hidden) {
      close();
    }
  });

  document.addEventListener("change", function (e) {
    var c = e.target.getAttribute && e.target.getAttribute("data-case");
    if (c) document.getElementById(c).classList.toggle("only-problems", e.target.checked);
  });

  function fromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (data[id]) {
      reveal(id);
      open(id, "load");
      return;
    }
    // A link to a client (verdicts, timeline) unfolds it.
    var c = id && document.getElementById(id);
    var fold = c && c.classList.contains("client") && c.querySelector("details.fold");
    if (fold && !fold.open) {
      fold.open = true;
      c.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();

  // For tests and curious readers: the script ran and found its data.
  var arrows = document.querySelectorAll(".arrow");
  var missing = 0;
  Array.prototype.forEach.call(arrows, function (a) { if (!data[a.getAttribute("data-p")]) missing++; });
  root.setAttribute("data-packets", String(Object.keys(data).length));
  root.setAttribute("data-missing", String(missing));
  root.setAttribute("data-ready", "1");
})();
