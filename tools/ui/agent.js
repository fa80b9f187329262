// The agent's page: its member list by state (with incarnations and metadata), the
// configuration it is in (consistent mode), and its recent events, live. The list comes from
// /api/members, fetched again soon after each membership event and every 2 s regardless.
'use strict';
(() => {
  const {el} = GV;
  const order = {alive: 0, suspect: 1, failed: 2, left: 3};
  const eventsMax = 200;
  let selfAddress = null;
  let refreshTimer = null;

  function tagsCell(m) {
    const td = el('td', {class: 'tags'});
    if (m.tags) {
      for (const [k, v] of Object.entries(m.tags)) td.append(el('span', {}, v === '' ? k : k + '=' + v));
    } else if (m.meta) {
      td.append(el('code', {}, m.meta));
    } else if (m.meta_base64) {
      td.append(el('code', {title: 'base64'}, m.meta_base64));
    }
    return td;
  }

  function renderSummary(snap) {
    const counts = {alive: 0, suspect: 0, failed: 0, left: 0};
    for (const m of snap.members) counts[m.state] = (counts[m.state] || 0) + 1;
    const box = document.getElementById('summary');
    box.replaceChildren();
    box.append(el('span', {class: 'chip'}, 'members ', el('b', {id: 'count-total'}, snap.members.length)));
    for (const s of GV.states) {
      box.append(el('span', {class: 'chip'}, el('span', {class: 'swatch s-' + s}), s + ' ',
                    el('b', {id: 'count-' + s}, counts[s])));
    }
    const c = snap.configuration;
    box.append(c ? el('span', {class: 'chip', id: 'configuration'}, 'configuration ',
                      el('code', {}, c.id), ` epoch ${c.epoch}, ${c.size} members`)
                 : el('span', {class: 'chip muted', id: 'configuration'},
                      'no configuration (eventual membership)'));
  }

  function render(snap) {
    selfAddress = snap.self.address;
    document.getElementById('self').textContent = `${snap.self.name} · ${snap.self.address}`;
    document.title = `grapevine · ${snap.self.name}`;
    renderSummary(snap);
    const rows = snap.members.slice().sort((a, b) =>
      (order[a.state] ?? 9) - (order[b.state] ?? 9) || a.name.localeCompare(b.name));
    const body = document.getElementById('members');
    body.replaceChildren(...rows.map((m) =>
      el('tr', {'data-name': m.name, 'data-state': m.state, class: m.address === selfAddress ? 'self' : null},
         el('td', {}, m.name),
         el('td', {}, el('span', {class: 'state s-' + m.state}, m.state)),
         el('td', {class: 'num'}, m.incarnation),
         el('td', {}, el('code', {}, m.address)),
         el('td', {}, m.zone || ''),
         tagsCell(m))));
  }

  async function refresh() {
    refreshTimer = null;
    try {
      render(await GV.snapshot());
    } catch (e) {
      GV.setStatus(false, 'error: ' + e.message);
    }
  }
  function refreshSoon() {
    if (refreshTimer === null) refreshTimer = setTimeout(refresh, 100);
  }

  function logEvent(text, cls) {
    const list = document.getElementById('events');
    if (list.firstElementChild && list.firstElementChild.classList.contains('muted')) list.replaceChildren();
    list.prepend(el('li', {class: cls}, el('time', {}, GV.clock()), el('span', {}, text)));
    while (list.children.length > eventsMax) list.lastElementChild.remove();
  }

  // A member event also updates its row at once (the snapshot that follows confirms it).
  function onMember(e) {
    const row = [...document.querySelectorAll('#members tr')].find((r) => r.dataset.name === e.name);
    const st = GV.stateAfter[e.kind];
    if (row && st) {
      row.dataset.state = st;
      const badge = row.querySelector('.state');
      badge.className = 'state s-' + st;
      badge.textContent = st;
    }
    logEvent(`${e.name} ${e.kind} (${e.address}, incarnation ${e.incarnation})`, 'ev-' + e.kind);
    refreshSoon();
  }

  GV.events({
    member: onMember,
    view: (e) => {
      logEvent(`${e.kind === 'view_stalled' ? 'view stalled in' : 'installed'} configuration ` +
               `${e.configuration_id} (epoch ${e.epoch}, ${e.size} members)`, 'ev-view');
      refreshSoon();
    },
    delivered: (e) => logEvent(`delivered ${e.id} after ${e.hops} hops: ` +
                               (e.payload ?? '(' + (e.payload_base64 || '').length + ' base64 chars)'),
                               'ev-delivered'),
    user: (e) => logEvent(`user event ${e.name} (ltime ${e.ltime})`, 'ev-user'),
  }, (live) => { GV.setStatus(live); if (live) refresh(); });
  refresh();
  setInterval(refresh, 2000);
})();
