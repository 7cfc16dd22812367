// Suggestions under the header's search box, from the registry's search API
// (GET /api/v1/search/?q=, docs/search.md): deposits, minerals, places, partners and
// events in any spelling, each linking its page. Without scripts the box is a plain
// search of the deposit list.
(function () {
  "use strict";
  const form = document.querySelector("form.site-search");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const list = form.querySelector("ul.suggestions");
  let pending = null;
  let timer = null;

  function hide() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
  }

  function kindLabel(kind) {
    return form.dataset["kind" + kind.charAt(0).toUpperCase() + kind.slice(1)] || kind;
  }

  function show(results) {
    list.replaceChildren(
      ...results.map((result) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = result.url;
        link.textContent = result.label;
        const kind = document.createElement("span");
        kind.className = "muted";
        kind.textContent = kindLabel(result.kind);
        link.append(" ", kind);
        item.append(link);
        return item;
      })
    );
    list.hidden = results.length === 0;
    input.setAttribute("aria-expanded", String(results.length > 0));
  }

  async function suggest() {
    const text = input.value.trim();
    if (text.length < 2) {
      hide();
      return;
    }
    if (pending) pending.abort();
    pending = new AbortController();
    try {
      const query = new URLSearchParams({ q: text, limit: "8" });
      const response = await fetch(form.dataset.suggest + "?" + query, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: pending.signal,
      });
      if (!response.ok) {
        hide();
        return;
      }
      show((await response.json()).results);
    } catch (error) {
      if (error.name !== "AbortError") hide();
    }
  }

  function move(step) {
    const links = Array.from(list.querySelectorAll("a"));
    const at = links.indexOf(document.activeElement);
    const next = at + step;
    if (next < 0) input.focus();
    else if (next < links.length) links[next].focus();
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 150);
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      hide();
      input.focus();
    } else if (!list.hidden && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    }
  });
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) hide();
  });
})();
