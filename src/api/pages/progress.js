"use strict";
// The pages' script: reads the /v1 API with the tab's API key (asked for once when the
// gateway answers 401, kept in sessionStorage), follows a batch's progress events with
// fetch (so the key is a header, never in a URL), and renders with textContent only.
(function () {
  const KEY = "refund-gateway-key";
  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let waitingForKey = null;

  function askKey(message) {
    if (waitingForKey) return waitingForKey;
    const form = $("auth");
    form.hidden = false;
    $("auth-error").textContent = message || "";
    $("key").focus();
    waitingForKey = new Promise((resolve) => {
      form.onsubmit = (event) => {
        event.preventDefault();
        sessionStorage.setItem(KEY, $("key").value.trim());
        form.hidden = true;
        waitingForKey = null;
        resolve();
      };
    });
    return waitingForKey;
  }

  async function api(path, options) {
    for (;;) {
      const key = sessionStorage.getItem(KEY);
      const headers = Object.assign({}, (options && options.headers) || {});
      if (key) headers.Authorization = "Bearer " + key;
      const response = await fetch(path, Object.assign({}, options, { headers }));
      if (response.status !== 401) return response;
      sessionStorage.removeItem(KEY);
      await askKey(key ? "That key was not accepted." : "");
    }
  }

  function showProblem(problem) {
    const p = $("problem");
    p.hidden = false;
    p.textContent = (problem && (problem.detail || problem.title)) || "The gateway did not answer.";
  }

  function row(tbody, cells, id) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      if (cell && cell.href) {
        const a = document.createElement("a");
        a.href = cell.href;
        a.textContent = cell.text;
        td.appendChild(a);
      } else {
        td.textContent = cell === undefined || cell === null ? "" : String(cell);
      }
      if (typeof cell === "number") td.className = "num";
      tr.appendChild(td);
    }
    if (id) tr.id = id;
    tbody.appendChild(tr);
    return tr;
  }

  function fill(tbody, rows) {
    tbody.replaceChildren();
    rows.forEach((r) => row(tbody, r.cells, r.id));
  }

  function duration(seconds) {
    if (seconds === undefined || seconds === null) return "–";
    const s = Math.round(seconds);
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + (s % 60) + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  // ---- /batches/{id} ----
  function render(p) {
    const status = $("status");
    status.textContent = p.status.replace(/_/g, " ");
    status.className = "badge " + p.status;
    status.dataset.status = p.status;
    const counts = p.counts || {};
    const left = (counts.queued || 0) + (counts.in_flight || 0);
    const done = p.item_count - left;
    $("item-count").textContent = p.item_count;
    $("done-count").textContent = done;
    $("rate").textContent = p.rate_per_second.toFixed(1) + " /s";
    $("eta").textContent = duration(p.estimated_seconds_left);
    $("bar-fill").style.width = (p.item_count ? (100 * done) / p.item_count : 0) + "%";
    fill($("counts"), Object.keys(counts).map((s) => ({ cells: [s, counts[s]], id: "count-" + s })));
    const refunded = p.refunded || {};
    fill($("refunded"), Object.keys(refunded).map((c) => ({ cells: [c, refunded[c]], id: "refunded-" + c })));
    if (p.instances) {
      fill($("instances"), p.instances.map((i) => ({
        cells: [i.provider, i.rate_per_second.toFixed(1), i.limit_per_second === undefined ? "unlimited" : i.limit_per_second, i.left],
        id: "instance-" + i.provider,
      })));
    }
    if (p.failures) {
      const failures = p.failures.map((f) => ({ cells: [f.seq, f.provider, f.refund_id || "", f.reason || ""] }));
      fill($("failures"), failures.length ? failures : [{ cells: ["", "none so far", "", ""] }]);
    }
    $("cancel").disabled = p.status !== "open";
    $("connection").textContent = "updated " + new Date().toLocaleTimeString();
  }

  async function follow(id) {
    for (;;) {
      let response;
      try {
        response = await api("/v1/refund-batches/" + encodeURIComponent(id) + "/events", {
          headers: { Accept: "text/event-stream" },
        });
      } catch (e) {
        $("connection").textContent = "reconnecting…";
        await sleep(2000);
        continue;
      }
      if (!response.ok) {
        showProblem(await response.json().catch(() => null));
        if (response.status === 404) return;
        await sleep(5000);
        continue;
      }
      let finished = false;
      let buffer = "";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = "message";
            const data = [];
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
            }
            if (event === "progress" && data.length) {
              const progress = JSON.parse(data.join("\n"));
              render(progress);
              finished = progress.status !== "open";
            }
          }
        }
      } catch (e) {
        // The stream broke: read it again.
      }
      if (finished) return;
      await sleep(1000);
    }
  }

  function batchPage(id) {
    $("export").onclick = async (event) => {
      event.preventDefault();
      const response = await api("/v1/refund-batches/" + encodeURIComponent(id) + "/items.csv");
      if (!response.ok) return showProblem(await response.json().catch(() => null));
      const url = URL.createObjectURL(await response.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = id + "-items.csv";
      a.click();
      URL.revokeObjectURL(url);
    };
    $("cancel").onclick = async () => {
      if (!confirm("Cancel this batch? Items not started will not be refunded.")) return;
      $("cancel").disabled = true;
      const response = await api("/v1/refund-batches/" + encodeURIComponent(id) + "/cancel", { method: "POST" });
      const answer = await response.json().catch(() => null);
      if (!response.ok) return showProblem(answer);
      render(answer);
    };
    follow(id);
  }

  // ---- /batches ----
  function batchesPage() {
    let after = null;
    async function load(reset) {
      if (reset) {
        after = null;
        $("batches").replaceChildren();
      }
      const query = new URLSearchParams({ limit: "50" });
      if ($("filter").value) query.set("status", $("filter").value);
      if (after) query.set("starting_after", after);
      const response = await api("/v1/refund-batches?" + query);
      const page = await response.json().catch(() => null);
      if (!response.ok) return showProblem(page);
      for (const b of page.data) {
        row($("batches"), [
          { href: "/batches/" + encodeURIComponent(b.id), text: b.id },
          b.status,
          b.item_count,
          new Date(b.created_at).toLocaleString(),
        ], "batch-" + b.id);
        after = b.id;
      }
      $("more").hidden = !page.has_more;
    }
    $("filter").onchange = () => load(true);
    $("more").onclick = () => load(false);
    load(true);
  }

  if (body.dataset.page === "batch") batchPage(body.dataset.batch);
  else batchesPage();
})();
