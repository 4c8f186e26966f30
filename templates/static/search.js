/* 뉴랄브리핑 search: runs in the browser over search-index-*.js, no server.
   Korean-aware: particles are stripped from the query (학습이 → 학습), words match inside
   compounds (학습 in 강화학습), spacing is ignored for Hangul (언어모델 = 언어 모델), quoted
   phrases match across particles, and 강화학습을 ranks the same as 강화학습. */
(function () {
  "use strict";
  // Longest first, so 으로 is tried before 로.
  var PARTICLES = ["에서는", "에서도", "으로는", "으로도", "에게서", "이라는", "이라고", "에서",
    "으로", "에게", "한테", "까지", "부터", "처럼", "보다", "라는", "라고", "이란", "이나", "과의",
    "와의", "은", "는", "이", "가", "을", "를", "의", "에", "로", "와", "과", "도", "만", "란"];
  var HANGUL = /[\uac00-\ud7a3]/;

  function normalize(text) {
    return text.normalize("NFC").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function stripParticle(word) {
    for (var i = 0; i < PARTICLES.length; i++) {
      var p = PARTICLES[i];
      if (word.length > p.length && word.slice(-p.length) === p) {
        var stem = word.slice(0, -p.length);
        // keep one-syllable Hangul stems whole: 차이 is a word, not 차 + 이
        if (stem.length >= 2 || !HANGUL.test(stem)) return stem;
      }
    }
    return word;
  }

  function escapeRegExp(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  /* One matcher per query term: a Hangul term is sought in the text with spaces removed; an
     ASCII term must start a word (gpu, not the gpu inside "cgpu"). */
  function matcher(words) {
    words = words.map(stripParticle).filter(Boolean);
    var joined = words.join("");
    if (HANGUL.test(joined) && !/[a-z0-9]/.test(joined)) {
      return { dense: true, re: new RegExp(escapeRegExp(joined), "g") };
    }
    var body = words.map(escapeRegExp).join("\\s*");
    return { dense: false, re: new RegExp("(^|[^a-z0-9])" + body, "g") };
  }

  function parse(query) {
    var terms = [];
    var rest = normalize(query).replace(/"([^"]+)"/g, function (_, phrase) {
      terms.push(matcher(phrase.split(" ")));
      return " ";
    });
    rest.split(" ").forEach(function (word) {
      word = word.replace(/^[^\w\uac00-\ud7a3]+|[^\w\uac00-\ud7a3+#]+$/g, "");
      if (word) terms.push(matcher([word]));
    });
    return terms;
  }

  function count(re, text) {
    re.lastIndex = 0;
    var n = 0;
    while (re.exec(text) !== null && n < 50) n++;
    return n;
  }

  var prepared = null;
  function prepare(index) {
    if (prepared) return prepared;
    prepared = index.docs.map(function (d) {
      var title = normalize(d[2]);
      var text = normalize(d[3]);
      return { doc: d, title: title, text: text,
               titleDense: title.replace(/ /g, ""), textDense: text.replace(/ /g, "") };
    });
    return prepared;
  }

  /* Every term must match; score = matches in the text + 3 × matches in the title. */
  function search(index, query) {
    var terms = parse(query);
    if (!terms.length) return [];
    var hits = [];
    prepare(index).forEach(function (p, order) {
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        var t = terms[i];
        var inTitle = count(t.re, t.dense ? p.titleDense : p.title);
        var inText = count(t.re, t.dense ? p.textDense : p.text);
        if (!inTitle && !inText) return;
        score += 3 * inTitle + inText;
      }
      hits.push({ doc: p.doc, score: score, order: order });
    });
    hits.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
    return hits;
  }

  function render(index, query, box, root) {
    var hits = search(index, query);
    box.textContent = "";
    var summary = document.createElement("p");
    summary.className = "count";
    summary.textContent = query ? "‘" + query + "’ 검색 결과 " + hits.length + "건" : "";
    box.appendChild(summary);
    var list = document.createElement("ol");
    list.className = "results";
    hits.slice(0, 100).forEach(function (hit) {
      var d = hit.doc, issue = index.issues[d[0]];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + issue[1] + "index.html#" + d[1];
      a.textContent = d[2];
      var meta = document.createElement("span");
      meta.className = "count";
      meta.textContent = " " + issue[0];
      var snippet = document.createElement("p");
      snippet.textContent = d[3].length > 160 ? d[3].slice(0, 160) + "…" : d[3];
      li.appendChild(a);
      li.appendChild(meta);
      li.appendChild(snippet);
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  window.digestSearch = function (query) {
    return search(window.DIGEST_SEARCH, query).map(function (h) { return h.doc[0]; });
  };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("search-form");
    if (!form || !window.DIGEST_SEARCH) return;
    var input = form.querySelector("input[name=q]");
    var box = document.getElementById("search-results");
    var root = form.getAttribute("data-root") || "";
    var initial = new URLSearchParams(window.location.search).get("q") || "";
    input.value = initial;
    if (initial) render(window.DIGEST_SEARCH, initial, box, root);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      render(window.DIGEST_SEARCH, input.value, box, root);
      history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
    });
  });
})();
