// Custody catalog: the little script the pages use where it helps. Everything works
// without it (forms submit, commands can be selected by hand).
'use strict';
(function () {
  // Copy buttons: <button data-copy="element-id"> copies that element's text.
  document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('[data-copy]') : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () {
      var label = button.getAttribute('data-copied') || 'Copied';
      var before = button.textContent;
      button.textContent = label;
      setTimeout(function () { button.textContent = before; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, function () {});
  });

  // Filter as you type: <input data-filter="table-id"> hides the rows that do not contain the text.
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    if (!table) return;
    var status = document.getElementById(input.getAttribute('data-filter') + '-count');
    var apply = function () {
      var needle = input.value.trim().toLowerCase();
      var shown = 0;
      table.querySelectorAll('tbody tr').forEach(function (row) {
        var match = needle === '' || row.textContent.toLowerCase().indexOf(needle) >= 0;
        row.hidden = !match;
        if (match) shown++;
      });
      if (status) status.textContent = shown + ' shown';
    };
    input.addEventListener('input', apply);
    // The form around it, when there is one, is for browsers without script.
    if (input.form) input.form.addEventListener('submit', function (event) { event.preventDefault(); apply(); });
  });

  // Selectors that navigate (tag, platform): submit the form on change.
  document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
    select.addEventListener('change', function () { if (select.form) select.form.submit(); });
  });
})();
