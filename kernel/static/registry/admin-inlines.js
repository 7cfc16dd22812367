/* Names each cell of the admin's tabular inlines after its column (data-label), so that
 * on a phone admin.css can stack a row's cells, each under its column's name: Django's
 * inline template writes the names only in the table's head. The "add another" row is
 * cloned from the named empty row, so added rows carry the names too. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const tables = document.querySelectorAll('.inline-group[data-inline-type="tabular"] table');
  tables.forEach(function (table) {
    if (!table.tHead) return;
    const names = Array.from(table.tHead.rows[0].cells, (cell) => cell.textContent.trim());
    Array.from(table.tBodies).forEach(function (body) {
      Array.from(body.rows).forEach(function (row) {
        if (row.cells.length !== names.length) return; // a row of errors spans the table
        Array.from(row.cells).forEach(function (cell, column) {
          if (names[column] && (cell.children.length || cell.textContent.trim())) {
            cell.dataset.label = names[column];
          }
        });
      });
    });
  });
});
