// The deposit list's filters (templates/deposits/deposit_list.html). Without scripts they
// are plain selects of a GET form. With them each multi-select becomes a searchable one
// (Tom Select, from django-tomselect's static files): type "sil", "Ag" or "серебро", take
// a choice with Enter or a click, drop it with its ×. The select stays the form's field,
// so the form sends the same query either way. The option's data attributes give the
// name, the other words it is found by and its count of deposits
// (deposits.pages.deposit_list.Choice); the form's give the texts, in the page's language.
(function () {
  "use strict";
  const form = document.querySelector("form.filters");
  if (!form) return;

  // A wide screen shows the filters open: pages.css does it where the browser knows
  // ::details-content, this for the others.
  const panel = form.closest("details.filter-panel");
  const wide = window.matchMedia("(min-width: 48rem)").matches;
  if (panel && wide && !CSS.supports("selector(::details-content)")) panel.open = true;

  // A shorter link to share: the fields left empty (and "Any") are not sent.
  form.addEventListener("formdata", (event) => {
    for (const [name, value] of Array.from(event.formData)) {
      if (value === "" || (name === "critical" && value === "unknown")) {
        event.formData.delete(name);
      }
    }
  });

  if (typeof window.TomSelect !== "function") return;
  const texts = form.dataset;
  form.querySelectorAll("select[multiple]").forEach((select) => {
    const searchable = new window.TomSelect(select, {
      plugins: { remove_button: { title: texts.remove } },
      labelField: "name",
      searchField: ["name", "words"],
      maxOptions: null,
      // The choices are all in the page: filter them as each key is typed, so Enter takes
      // the option that matches what was typed, not one of a moment before.
      refreshThrottle: 0,
      placeholder: texts.placeholder,
      render: {
        option(data, escape) {
          const count =
            data.count === undefined
              ? ""
              : `<span class="choice-count">${escape(data.count)}</span>`;
          return `<div class="choice"><span>${escape(data.name)}</span>${count}</div>`;
        },
        item(data, escape) {
          return `<div>${escape(data.name)}</div>`;
        },
        no_results(data, escape) {
          return `<div class="no-results">${escape(texts.noResults)}</div>`;
        },
      },
    });
    // The × of a chosen value is named in English by Tom Select: name it in the page's.
    const nameRemoveButtons = () => {
      searchable.control.querySelectorAll(".item").forEach((item) => {
        const button = item.querySelector("button.remove");
        const option = searchable.options[item.dataset.value];
        if (button && option) button.setAttribute("aria-label", `${texts.remove} ${option.name}`);
      });
    };
    nameRemoveButtons();
    searchable.on("item_add", () => {
      nameRemoveButtons();
      // The next value is looked for afresh: what was typed to find this one goes.
      searchable.setTextboxValue("");
      searchable.refreshOptions(false);
    });
  });
})();
