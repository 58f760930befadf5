// Client-side search over event names, summaries and property names. The index is the
// global set by search-index.js (a script, because fetch() of a file:// URL is refused).
// Results are built with DOM methods and textContent only: nothing from the index is
// ever parsed as HTML.
(function () {
  'use strict';
  var data = window.__eventContractsSearch;
  var form = document.querySelector('form.search');
  var input = document.getElementById('q');
  var list = document.getElementById('q-results');
  var status = document.getElementById('q-status');
  if (!data || !form || !input || !list || !status) return;
  var root = document.body.getAttribute('data-root') || '';
  var words = data.w;
  var events = data.e.map(function (e) {
    return { type: e[0], lower: e[0].toLowerCase(), slug: e[1], latest: e[2], summary: e[3], lsum: e[3].toLowerCase(), deprecated: e[4] === 1, props: e[5] };
  });
  var MAX = 20;

  function search(q) {
    var terms = q.toLowerCase().split(/\s+/).filter(Boolean);
    var hits = [];
    events.forEach(function (e) {
      var score = 0;
      var prop = '';
      for (var i = 0; i < terms.length; i++) {
        var t = terms[i];
        var s = 0;
        if (e.lower === t) s = 100;
        else if (e.lower.indexOf(t) === 0) s = 60;
        else if (e.lower.indexOf(t) >= 0) s = 40;
        else if (e.lsum.indexOf(t) >= 0) s = 20;
        else {
          for (var j = 0; j < e.props.length; j++) {
            var name = words[e.props[j]];
            var ln = name.toLowerCase();
            if (ln === t || ln.indexOf(t) >= 0) { s = ln === t ? 15 : 10; prop = name; break; }
          }
        }
        if (s === 0) return;
        score += s;
      }
      hits.push({ e: e, score: score - (e.deprecated ? 1 : 0), prop: prop });
    });
    hits.sort(function (a, b) { return b.score - a.score || (a.e.type < b.e.type ? -1 : 1); });
    return hits;
  }

  function render(q) {
    while (list.firstChild) list.removeChild(list.firstChild);
    if (!q.trim()) { list.hidden = true; status.textContent = ''; return; }
    var hits = search(q);
    hits.slice(0, MAX).forEach(function (h) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = root + 'events/' + h.e.slug + '.html';
      var name = document.createElement('b');
      name.textContent = h.e.type;
      a.appendChild(name);
      a.appendChild(document.createTextNode(' ' + h.e.latest + (h.e.deprecated ? ' (deprecated)' : '')));
      var sub = document.createElement('small');
      sub.textContent = h.prop ? 'property ' + h.prop + (h.e.summary ? ' · ' + h.e.summary : '') : h.e.summary;
      a.appendChild(sub);
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = hits.length === 0;
    status.textContent = hits.length === 0 ? 'No event matches.' : hits.length + (hits.length === 1 ? ' event matches.' : ' events match.') + (hits.length > MAX ? ' Showing ' + MAX + '.' : '');
  }

  input.addEventListener('input', function () { render(input.value); });
  input.addEventListener('keydown', function (ev) {
    var first = list.querySelector('a');
    if (ev.key === 'ArrowDown' && first) { ev.preventDefault(); first.focus(); }
    if (ev.key === 'Escape') { input.value = ''; render(''); }
  });
  list.addEventListener('keydown', function (ev) {
    var item = document.activeElement && document.activeElement.parentNode;
    if (ev.key === 'ArrowDown' && item && item.nextSibling) { ev.preventDefault(); item.nextSibling.firstChild.focus(); }
    if (ev.key === 'ArrowUp') { ev.preventDefault(); if (item && item.previousSibling) item.previousSibling.firstChild.focus(); else input.focus(); }
    if (ev.key === 'Escape') { input.focus(); input.value = ''; render(''); }
  });
  // Enter opens the best match; without a match the form stays put.
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var first = list.querySelector('a');
    if (first) window.location.href = first.href;
  });
  document.addEventListener('click', function (ev) {
    if (!form.contains(ev.target)) list.hidden = true;
  });
  input.addEventListener('focus', function () { if (list.firstChild) list.hidden = false; });
  var m = /[?&]q=([^&#]*)/.exec(window.location.search);
  if (m) { input.value = decodeURIComponent(m[1].replace(/\+/g, ' ')); render(input.value); }
})();
