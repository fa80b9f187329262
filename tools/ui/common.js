// Shared by agent.js and demo.js: the API (with the page's ?token=), the event stream, and a
// tiny element builder. No dependencies: this file is built into the grapevine binary.
'use strict';
const GV = (() => {
  const token = new URLSearchParams(location.search).get('token');
  const query = token ? '?token=' + encodeURIComponent(token) : '';

  async function snapshot() {
    const r = await fetch('/api/members' + query, {cache: 'no-store'});
    if (!r.ok) throw new Error(r.status + ': ' + (await r.text()));
    return r.json();
  }

  // Opens /api/events; `handlers` maps event names to functions of the parsed data.
  // EventSource reconnects by itself (the server says retry: 1000).
  function events(handlers, onStatus) {
    const es = new EventSource('/api/events' + query);
    es.onopen = () => onStatus(true);
    es.onerror = () => onStatus(false);
    for (const [name, fn] of Object.entries(handlers)) {
      es.addEventListener(name, (ev) => {
        let data;
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        fn(data);
      });
    }
    return es;
  }

  // el('td', {class: 'num'}, 'text', child...): text is always text, never HTML.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function setStatus(live, text) {
    const c = document.getElementById('conn');
    c.className = 'conn ' + (live ? 'live' : 'down');
    c.textContent = text || (live ? 'live' : 'reconnecting…');
  }

  const clock = () => new Date().toLocaleTimeString([], {hour12: false});
  // Member event kinds -> the state they leave the member in.
  const stateAfter = {joined: 'alive', alive: 'alive', updated: 'alive', suspected: 'suspect',
                      failed: 'failed', left: 'left'};
  const states = ['alive', 'suspect', 'failed', 'left'];
  return {snapshot, events, el, setStatus, clock, stateAfter, states};
})();
