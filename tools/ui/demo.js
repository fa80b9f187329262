// The demo's page: every node of the in-process cluster as a dot, coloured by what most live
// nodes think of it (a ring when only some suspect it or declare it failed), a multicast's
// deliveries lighting the dots up as they happen, and the demo's narration. The dots come from
// /api/members every 500 ms; deliveries, suspicions and failures arrive on /api/events.
'use strict';
(() => {
  const {el} = GV;
  const svgNS = 'http://www.w3.org/2000/svg';
  const size = 640;
  let dots = [];          // index -> <g>
  let message = null;     // the multicast being shown: {id, delivered: Set}
  let total = 0;
  const firstSeen = new Set();  // "subject:kind" already narrated

  function svg(tag, attrs) {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  // A circle for small clusters, a sunflower (Vogel's spiral) for large ones.
  function layout(n) {
    const c = size / 2, pts = [];
    if (n <= 48) {
      const r = c - 40, dotR = Math.max(7, Math.min(20, (Math.PI * r) / n - 3));
      for (let i = 0; i < n; i++) {
        const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
        pts.push({x: c + r * Math.cos(a), y: c + r * Math.sin(a), r: dotR});
      }
      return pts;
    }
    const spacing = (c - 20) / Math.sqrt(n), dotR = Math.max(2, spacing * 0.42);
    for (let i = 0; i < n; i++) {
      const r = spacing * Math.sqrt(i + 0.5), a = i * 2.39996323;
      pts.push({x: c + r * Math.cos(a), y: c + r * Math.sin(a), r: dotR});
    }
    return pts;
  }

  function build(nodes) {
    const root = document.getElementById('cluster');
    root.replaceChildren();
    const pts = layout(nodes.length);
    dots = nodes.map((n, i) => {
      const p = pts[i];
      const g = svg('g', {class: 'node', 'data-index': i});
      g.append(svg('circle', {class: 'halo', cx: p.x, cy: p.y, r: p.r * 1.6}),
               svg('circle', {class: 'ring', cx: p.x, cy: p.y, r: p.r + 3}),
               svg('circle', {class: 'dot', cx: p.x, cy: p.y, r: p.r}));
      if (p.r >= 9) {
        const t = svg('text', {x: p.x, y: p.y});
        t.textContent = i;
        g.append(t);
      }
      const title = svg('title', {});
      g.append(title);
      root.append(g);
      return g;
    });
    total = nodes.length;
  }

  function render(snap) {
    if (snap.nodes.length !== dots.length) build(snap.nodes);
    const counts = {alive: 0, suspect: 0, failed: 0, left: 0, removed: 0, unknown: 0};
    snap.nodes.forEach((n, i) => {
      const g = dots[i];
      g.dataset.name = n.name;
      g.dataset.state = n.state;
      g.dataset.running = n.running;
      g.classList.toggle('some-suspect', n.seen.suspect > 0 && n.state !== 'suspect');
      g.classList.toggle('some-failed', n.seen.failed > 0 && n.state !== 'failed');
      g.querySelector('title').textContent =
        `${n.name} ${n.address}${n.running ? '' : ' (stopped)'}: ${n.state} — alive ${n.seen.alive}, ` +
        `suspect ${n.seen.suspect}, failed ${n.seen.failed}, left ${n.seen.left}, ` +
        `not listed ${n.seen.absent} (of ${snap.observers} live observers)`;
      counts[n.state] = (counts[n.state] || 0) + 1;
    });
    document.getElementById('self').textContent =
      `${snap.nodes.length} nodes in one process · ${snap.elapsed.toFixed(1)} s`;
    const box = document.getElementById('summary');
    box.replaceChildren(...['alive', 'suspect', 'failed', 'left', 'removed', 'unknown']
      .filter((s) => counts[s] > 0 || GV.states.includes(s))
      .map((s) => el('span', {class: 'chip'}, el('span', {class: 'swatch s-' + s}), s + ' ',
                     el('b', {id: 'count-' + s}, counts[s]))));
  }

  async function refresh() {
    try {
      render(await GV.snapshot());
    } catch (e) {
      GV.setStatus(false, 'error: ' + e.message);
    }
  }

  function log(text) {
    const list = document.getElementById('events');
    if (list.firstElementChild && list.firstElementChild.classList.contains('muted')) list.replaceChildren();
    list.prepend(el('li', {}, el('time', {}, GV.clock()), el('span', {}, text)));
    while (list.children.length > 200) list.lastElementChild.remove();
  }

  function showProgress() {
    const n = message ? message.delivered.size : 0;
    document.getElementById('mc-text').textContent =
      message ? `${message.id}: delivered by ${n} of ${total} nodes` : 'none yet';
    document.getElementById('mc-bar').style.width = total ? (100 * n) / total + '%' : '0';
  }

  function onDelivered(e) {
    if (!message || message.id !== e.id) {
      message = {id: e.id, delivered: new Set()};
      for (const g of dots) g.classList.remove('delivered');
    }
    message.delivered.add(e.node);
    const g = dots[e.node];
    if (g) {
      g.classList.add('delivered');
      g.classList.remove('flash');
      void g.getBoundingClientRect();  // restart the animation
      g.classList.add('flash');
    }
    showProgress();
  }

  function onMember(e) {
    const key = `${e.subject}:${e.kind}`;
    if (e.kind === 'alive') {
      firstSeen.delete(`${e.subject}:suspected`);
      firstSeen.delete(`${e.subject}:failed`);
    }
    if (firstSeen.has(key)) return;
    firstSeen.add(key);
    log(`node-${e.subject} ${e.kind} (first said by node-${e.observer})`);
    refresh();
  }

  GV.events({
    log: (e) => log(e.text),
    delivered: onDelivered,
    member: onMember,
  }, (live) => { GV.setStatus(live); if (live) refresh(); });
  refresh();
  setInterval(refresh, 500);
})();
